package offline

import (
	"reflect"
	"slices"
)

// Replacing is what the provider does with a change of one resource type's inputs: the inputs
// whose change replaces the resource (ForceNew or RequiresReplace in terraform-provider-aws
// v5.100, the release pulumi-aws 6.83 bridges; Source names the file under internal/service/),
// and whether the resource holds data or guards it, so that a replacement loses it.
type Replacing struct {
	Inputs   []string
	Source   string
	Stateful bool
}

// Replacements is the table for the types that hold or guard data (the database, buckets,
// vaults and their locks, keys, queues, log groups, the repository, the distribution, zone
// records, the release parameter) and the fixed-name types offline/replacement_test.go checks.
// A type missing here is updated in place by every change the program makes to it.
var Replacements = map[string]Replacing{
	"aws:rds/instance:Instance": {Inputs: []string{"identifierPrefix", "kmsKeyId", "storageEncrypted", "username", "dbName", "availabilityZone",
		"characterSetName", "ncharCharacterSetName", "snapshotIdentifier", "timezone", "customIamInstanceProfile", "restoreToPointInTime", "s3Import"},
		Source: "rds/instance.go", Stateful: true},
	"aws:s3/bucketV2:BucketV2":         {Inputs: []string{"bucket", "bucketPrefix", "objectLockEnabled"}, Source: "s3/bucket.go", Stateful: true},
	"aws:kms/key:Key":                  {Inputs: []string{"customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId"}, Source: "kms/key.go", Stateful: true},
	"aws:kms/alias:Alias":              {Inputs: []string{"name", "namePrefix"}, Source: "kms/alias.go", Stateful: true},
	"aws:backup/vault:Vault":           {Inputs: []string{"name", "kmsKeyArn"}, Source: "backup/vault.go", Stateful: true},
	"aws:sqs/queue:Queue":              {Inputs: []string{"name", "namePrefix", "fifoQueue"}, Source: "sqs/queue.go", Stateful: true},
	"aws:ecr/repository:Repository":    {Inputs: []string{"name", "encryptionConfigurations"}, Source: "ecr/repository.go", Stateful: true},
	"aws:cloudwatch/logGroup:LogGroup": {Inputs: []string{"name", "namePrefix", "logGroupClass"}, Source: "logs/group.go", Stateful: true},
	"aws:backup/vaultLockConfiguration:VaultLockConfiguration": {Inputs: []string{"backupVaultName", "changeableForDays", "maxRetentionDays", "minRetentionDays"},
		Source: "backup/vault_lock_configuration.go", Stateful: true},
	// A distribution is never replaced; its domain is the app's address until a domain is set.
	"aws:cloudfront/distribution:Distribution": {Source: "cloudfront/distribution.go", Stateful: true},
	"aws:route53/record:Record":                {Inputs: []string{"name", "zoneId"}, Source: "route53/record.go", Stateful: true},
	// The running release: a replacement would write "none" back.
	"aws:ssm/parameter:Parameter": {Inputs: []string{"name"}, Source: "ssm/parameter.go", Stateful: true},
}

// Change is what an update does to one resource, by the table.
type Change string

// The changes a plan comparison reports.
const (
	Update  Change = "update"
	Replace Change = "replace"
	Delete  Change = "delete"
	Create  Change = "create"
)

// Diff compares two plans of one stack resource by resource (by URN): what is created, deleted,
// replaced (an input of the table changed, or for a type outside it nothing) or updated in place.
// For each replaced resource it names the inputs that force it.
func Diff(before, after *Result) map[string]Difference {
	out := map[string]Difference{}
	for _, old := range before.Resources {
		r := after.byURN[old.URN]
		if r == nil {
			out[old.URN] = Difference{Resource: old, Change: Delete}
			continue
		}
		// The new program's options decide, as the engine's diff does.
		differs := func(in string) bool {
			return !slices.Contains(r.IgnoreChanges, in) && !reflect.DeepEqual(old.Inputs[in], r.Inputs[in])
		}
		var changed, forcing []string
		for k := range union(old.Inputs, r.Inputs) {
			if differs(k) {
				changed = append(changed, k)
			}
		}
		if len(changed) == 0 {
			continue
		}
		for _, in := range append(slices.Clone(Replacements[old.Type].Inputs), r.ReplaceOnChanges...) {
			if differs(in) {
				forcing = append(forcing, in)
			}
		}
		d := Difference{Resource: old, Change: Update, Inputs: changed}
		if len(forcing) > 0 {
			d.Change, d.Inputs = Replace, forcing
		}
		out[old.URN] = d
	}
	for _, r := range after.Resources {
		if before.byURN[r.URN] == nil {
			out[r.URN] = Difference{Resource: r, Change: Create}
		}
	}
	return out
}

// Difference is one resource's change between two plans.
type Difference struct {
	Resource *Resource
	Change   Change
	// Inputs are the changed inputs (for a replacement, the ones that force it).
	Inputs []string
}

func union(a, b map[string]any) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// NewResult indexes resources read back from another run (a plan of an earlier commit, as JSON),
// so that Diff can compare them.
func NewResult(resources []*Resource) *Result {
	r := &Result{Resources: resources, byURN: map[string]*Resource{}}
	for _, res := range resources {
		r.byURN[res.URN] = res
	}
	return r
}
