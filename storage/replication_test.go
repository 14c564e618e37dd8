package storage_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/canalco/infra/offline"
)

const replicaRegion = "us-west-2"

var (
	replicaOnce   sync.Once
	replicaResult *offline.Result
	replicaErr    error
)

// withReplica plans prod with the backups bucket replicated to us-west-2.
func withReplica(t *testing.T) *offline.Result {
	t.Helper()
	replicaOnce.Do(func() {
		replicaResult, replicaErr = offline.WithValues(t, "prod", map[string]string{"canalco:backupReplicationRegion": replicaRegion})
	})
	if replicaErr != nil {
		t.Fatal(replicaErr)
	}
	return replicaResult
}

// TestBackupReplicationIsOffByDefault: no stack file turns replication on.
func TestBackupReplicationIsOffByDefault(t *testing.T) {
	for _, stack := range offline.Stacks {
		if n := len(offline.Stack(t, stack).OfType(replicationType)); n != 0 {
			t.Errorf("%s: %d replication configurations, want none by default", stack, n)
		}
	}
}

// TestBackupReplication: with a replication region, every version of the backups bucket goes
// to a protected, encrypted, TLS-only bucket in that region, with delete markers and
// SSE-KMS objects, through a role that can do only that.
func TestBackupReplication(t *testing.T) {
	res := withReplica(t)
	source := fmt.Sprintf("canalco-prod-backups-%s-us-east-1", offline.AccountOf("prod"))
	replica := fmt.Sprintf("canalco-prod-backups-%s-%s", offline.AccountOf("prod"), replicaRegion)
	b := bucketsOf(res)[replica]
	if b == nil {
		t.Fatalf("no replica bucket %s", replica)
	}
	// Same protections as every bucket; S3 only logs into a bucket of the same region.
	checkBucket(t, res, replica, false, "")
	if !b.Protect || !b.RetainOnDelete || b.Bool("forceDestroy") {
		t.Errorf("replica: protect %v retain %v forceDestroy %v, want kept in prod", b.Protect, b.RetainOnDelete, b.Bool("forceDestroy"))
	}

	// The replica and its key live in the replica region, tagged like the rest of the stack.
	p := provider(res, b)
	main := res.Named(providerType, "aws")
	if p == nil || p.Str("region") != replicaRegion {
		t.Fatalf("replica provider: %+v", p)
	}
	if main == nil || fmt.Sprint(p.Get("defaultTags")) != fmt.Sprint(main.Get("defaultTags")) {
		t.Errorf("replica provider tags %v, want the stack's %v", p.Get("defaultTags"), main.Get("defaultTags"))
	}
	replicaKey := res.Named(keyType, "canalco-prod-storage-replica")
	if replicaKey == nil || provider(res, replicaKey) != p || !replicaKey.Protect {
		t.Fatalf("replica key missing, outside %s or unprotected", replicaRegion)
	}
	keyArn := replicaKey.Outputs["arn"].(string)
	if got := one(t, res, encryptionType, replica).Str("rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId"); got != keyArn {
		t.Errorf("replica encrypted with %q, want its region's key %q", got, keyArn)
	}

	cfg := one(t, res, replicationType, source)
	for path, want := range map[string]string{
		"rules.0.status":                                                "Enabled",
		"rules.0.deleteMarkerReplication.status":                        "Enabled",
		"rules.0.sourceSelectionCriteria.sseKmsEncryptedObjects.status": "Enabled",
		"rules.0.destination.bucket":                                    "arn:aws:s3:::" + replica,
		"rules.0.destination.encryptionConfiguration.replicaKmsKeyId":   keyArn,
	} {
		if got := cfg.Str(path); got != want {
			t.Errorf("replication %s = %q, want %q", path, got, want)
		}
	}
	role := res.Named("aws:iam/role:Role", "canalco-prod-backups-replication")
	if role == nil || cfg.Str("role") != role.Outputs["arn"] {
		t.Fatalf("replication role %+v not used by the configuration (%q)", role, cfg.Str("role"))
	}
	trust := parsePolicy(t, role.Str("assumeRolePolicy"))
	if trust.Statement[0].Principal["Service"] != "s3.amazonaws.com" || trust.Statement[0].Condition["StringEquals"]["aws:SourceAccount"] != offline.AccountOf("prod") {
		t.Errorf("role trust: %+v", trust.Statement[0])
	}
	var inline *offline.Resource
	for _, rp := range res.OfType("aws:iam/rolePolicy:RolePolicy") {
		if rp.Str("role") == "canalco-prod-backups-replication" {
			inline = rp
		}
	}
	if inline == nil {
		t.Fatal("no policy on the replication role")
	}
	for _, s := range parsePolicy(t, inline.Str("policy")).Statement {
		for _, a := range s.Action {
			if strings.Contains(a, "*") {
				t.Errorf("%s: wildcard action %s", s.Sid, a)
			}
		}
		for _, r := range s.Resource {
			if r == "*" || !(strings.Contains(r, source) || strings.Contains(r, replica) || strings.HasPrefix(r, "arn:aws:kms:")) {
				t.Errorf("%s: resource %s beyond the two buckets and their keys", s.Sid, r)
			}
		}
		if strings.HasPrefix(s.Resource[0], "arn:aws:kms:") && s.Condition["StringEquals"]["kms:ViaService"] == nil {
			t.Errorf("%s: key use not limited to S3", s.Sid)
		}
	}
}
