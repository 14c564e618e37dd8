package platform_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var componentToken = regexp.MustCompile(`^canalco:(network|data|compute|storage|serverless|monitoring|delivery|security):[A-Z][A-Za-z]+$`)

// Every resource belongs to a layer: its parent chain reaches a canalco component, so
// `pulumi up` shows a tree, and the layer's provider (with the default tags) reaches it.
func TestEveryResourceBelongsToALayer(t *testing.T) {
	for _, stack := range offline.Stacks {
		res := offline.Stack(t, stack)
		for _, r := range res.Resources {
			switch {
			case strings.HasPrefix(r.Type, "pulumi:providers:"):
				continue
			case strings.HasPrefix(r.Type, "canalco:"):
				assert.Regexp(t, componentToken, r.Type)
				assert.False(t, r.Custom)
				continue
			}
			parent := res.ByURN(r.Parent)
			require.NotNil(t, parent, "%s %s has no component parent", r.Type, r.Name)
			assert.True(t, strings.HasPrefix(parent.Type, "canalco:"), "%s %s is parented to %s", r.Type, r.Name, parent.Type)
		}
	}
}

func TestDefaultTagsOnTheProviders(t *testing.T) {
	for _, stack := range offline.Stacks {
		res := offline.Stack(t, stack)
		providers := res.OfType("pulumi:providers:aws")
		require.NotEmpty(t, providers)
		for _, p := range providers {
			// The engine passes provider config as JSON text; the mock monitor as an object.
			var cfg struct {
				Tags map[string]string `json:"tags"`
			}
			raw := p.Get("defaultTags")
			if text, ok := raw.(string); ok {
				require.NoError(t, json.Unmarshal([]byte(text), &cfg), p.Name)
			} else {
				b, err := json.Marshal(raw)
				require.NoError(t, err)
				require.NoError(t, json.Unmarshal(b, &cfg), p.Name)
			}
			want := map[string]string{"Project": "canalco", "Environment": stack, "ManagedBy": "pulumi", "CostCenter": "canalco-platform"}
			if p.Name == "aws-identity" {
				// The pipeline identities' tags depend on the stack's name alone.
				delete(want, "CostCenter")
			}
			assert.Equal(t, want, cfg.Tags, p.Name)
		}
	}
}

// ownNamespace are types whose name lives inside another resource or in DNS, not in the
// account's namespace: an inline policy is named within its role, a record by its hostname.
var ownNamespace = map[string]bool{
	"aws:iam/rolePolicy:RolePolicy": true,
	"aws:route53/record:Record":     true,
}

// underscoreNames are types whose names allow only letters, digits and underscores
// (CreateRestoreTestingPlan, CreateRestoreTestingSelection): canalco_<stack>_<thing>.
var underscoreNames = map[string]bool{
	"aws:backup/restoreTestingPlan:RestoreTestingPlan":           true,
	"aws:backup/restoreTestingSelection:RestoreTestingSelection": true,
}

// AWS names of the stack start with canalco-<stack>, so two environments in one account
// never collide and every console listing sorts by environment.
func TestNamesCarryTheStack(t *testing.T) {
	for _, stack := range offline.Stacks {
		res := offline.Stack(t, stack)
		for _, r := range res.Resources {
			if !r.Custom || strings.HasPrefix(r.Type, "pulumi:") || ownNamespace[r.Type] {
				continue
			}
			assert.True(t, strings.HasPrefix(r.Name, "canalco-"+stack), "logical name %s (%s)", r.Name, r.Type)
			for _, key := range []string{"name", "bucket", "identifier"} {
				// WAF logs only to log groups named aws-waf-logs-*: the stack's name follows.
				if v := strings.TrimPrefix(r.Str(key), "aws-waf-logs-"); v != "" && !strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "alias/") && !strings.HasPrefix(v, "arn:") {
					prefix := "canalco-" + stack
					if underscoreNames[r.Type] {
						prefix = "canalco_" + stack + "_"
					}
					assert.True(t, strings.HasPrefix(v, prefix), "%s %s = %q", r.Type, key, v)
				}
			}
		}
	}
}

// Nothing users store may be lost to `pulumi destroy` or a replacement in staging and prod.
func TestStatefulResourcesAreProtected(t *testing.T) {
	stateful := map[string]func(*offline.Resource) bool{
		"aws:kms/key:Key":                       func(*offline.Resource) bool { return true },
		"aws:rds/instance:Instance":             func(*offline.Resource) bool { return true },
		"aws:secretsmanager/secret:Secret":      func(*offline.Resource) bool { return true },
		"aws:backup/vault:Vault":                func(*offline.Resource) bool { return true },
		"aws:s3/bucketV2:BucketV2":              isDataBucket,
		"aws:ecr/repository:Repository":         func(*offline.Resource) bool { return true },
		"aws:cloudwatch/logGroup:LogGroup":      func(*offline.Resource) bool { return false },
		"aws:sesv2/emailIdentity:EmailIdentity": func(*offline.Resource) bool { return false },
	}
	for _, stack := range []string{"staging", "prod"} {
		res := offline.Stack(t, stack)
		for typ, applies := range stateful {
			for _, r := range res.OfType(typ) {
				if applies(r) {
					assert.True(t, r.Protect && r.RetainOnDelete, "%s %s must be protected and retained in %s", typ, r.Name, stack)
				}
			}
		}
	}
	for _, r := range offline.Stack(t, "dev").OfType("aws:kms/key:Key") {
		assert.False(t, r.Protect, "dev stays destroyable: %s", r.Name)
	}
}

func isDataBucket(r *offline.Resource) bool {
	for _, p := range storage.DocumentPurposes {
		if strings.Contains(r.Str("bucket"), "-"+p+"-") {
			return true
		}
	}
	return false
}

// Bad settings stop the program before the first resource: not even the provider is registered.
func TestBadSettingsRegisterNothing(t *testing.T) {
	cases := map[string]map[string]string{
		"unknown key":   {"canalco:dbInstanceClas": "db.t4g.micro"},
		"wrong type":    {"canalco:asgMinSize": "two"},
		"overlap":       {"canalco:privateSubnetCidrs": `["10.0.1.0/24","10.0.11.0/24"]`},
		"min above max": {"canalco:asgMinSize": "5", "canalco:asgMaxSize": "3"},
		"bad email":     {"canalco:alarmEmails": `["not-an-email"]`},
		"redundancy":    {"canalco:natPerAz": "false"},
	}
	for name, set := range cases {
		t.Run(name, func(t *testing.T) {
			res, err := offline.WithValues(t, "prod", set)
			require.Error(t, err)
			named := false
			for k := range set {
				named = named || strings.Contains(err.Error(), k)
			}
			assert.True(t, named, "the message names the key: %v", err)
			assert.Empty(t, res.Resources, "nothing may be registered")
		})
	}
}

// TestStackFilesHoldNoSecretsOrAccounts: the only account ID of a stack file is the one
// aws:allowedAccountIds pins it to; no other setting names an account.
func TestStackFilesHoldNoSecretsOrAccounts(t *testing.T) {
	account := regexp.MustCompile(`\b\d{12}\b`)
	for _, stack := range offline.Stacks {
		cfg, err := offline.LoadConfig(offline.Root(t), stack)
		require.NoError(t, err)
		for k, v := range cfg.Values {
			if k == "aws:allowedAccountIds" {
				continue
			}
			assert.False(t, account.MatchString(v), "%s holds an account ID", k)
			lk := strings.ToLower(k)
			if strings.Contains(lk, "password") || strings.Contains(lk, "webhook") || strings.Contains(lk, "token") {
				assert.True(t, v == "" || contains(cfg.Secrets, k), "%s must be a secret", k)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
