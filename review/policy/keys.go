package policy

import (
	"fmt"
	"strings"

	"github.com/canalco/infra/offline"
)

const (
	typeKey            = "aws:kms/key:Key"
	typeSecret         = "aws:secretsmanager/secret:Secret"
	typeSecretRotation = "aws:secretsmanager/secretRotation:SecretRotation"
	// maxRotationDays is SecretsManager.4's default maxDaysSinceRotation.
	maxRotationDays = 90
	typeCertificate = "aws:acm/certificate:Certificate"
)

// secretCompanions are a secret's own settings; they name it without using it.
var secretCompanions = map[string]bool{
	typeSecretRotation: true,
	"aws:secretsmanager/secretVersion:SecretVersion": true,
	"aws:secretsmanager/secretPolicy:SecretPolicy":   true,
}

// usedBy returns a resource, other than the secret's own settings, whose inputs mention the
// secret's ARN or name (an IAM policy, an environment variable, a launch template), or nil.
func usedBy(ctx *Context, secret *offline.Resource) *offline.Resource {
	needles := []string{secret.Str("name")}
	if arn, ok := secret.Outputs["arn"].(string); ok {
		needles = append(needles, arn)
	}
	for _, r := range ctx.Result.Resources {
		if r == secret || secretCompanions[r.Type] || !r.Custom {
			continue
		}
		if mentions(r.Inputs, needles) {
			return r
		}
	}
	return nil
}

func mentions(v any, needles []string) bool {
	switch t := v.(type) {
	case string:
		for _, n := range needles {
			if n != "" && strings.Contains(t, n) {
				return true
			}
		}
	case offline.Secret:
		return mentions(t.Value, needles)
	case map[string]any:
		for _, e := range t {
			if mentions(e, needles) {
				return true
			}
		}
	case []any:
		for _, e := range t {
			if mentions(e, needles) {
				return true
			}
		}
	}
	return false
}

var keyAndSecretRules = []Rule{
	{
		ID: "KMS.3", Framework: FSBP, Severity: Critical, ResourceTypes: []string{typeKey},
		Title: "AWS KMS keys should not be deleted unintentionally",
		Fix:   "in protected stacks give the key Pulumi's protect and retainOnDelete options (security.KeyArgs.Protect); keep a deletion window of 30 days",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			if w := r.Num("deletionWindowInDays"); w != 0 && w < 30 && ctx.Settings.Protected() {
				return fail(fmt.Sprintf("deletion window of %v days", w))
			}
			return check(!ctx.Settings.Protected() || (r.Protect && r.RetainOnDelete), "a `pulumi destroy` would schedule the key for deletion (not protected and retained)")
		},
	},
	{
		ID: "KMS.4", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeKey},
		Title: "AWS KMS key rotation should be enabled",
		Fix:   "set enableKeyRotation true (security.NewKey does)",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			if spec := r.Str("customerMasterKeySpec"); spec != "" && spec != "SYMMETRIC_DEFAULT" {
				return pass() // AWS rotates only symmetric keys
			}
			return check(r.Bool("enableKeyRotation"), "rotation is off")
		},
	},
	{
		ID: "KMS.5", Framework: FSBP, Severity: Critical, ResourceTypes: []string{typeKey},
		Title: "KMS keys should not be publicly accessible",
		Fix:   "name the principals in the key policy, or add conditions to service statements",
		Check: func(r *offline.Resource, _ *Context) (bool, string) { return publicPolicy(r.Get("policy")) },
	},
	{
		ID: "SecretsManager.1", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeSecret},
		Title: "Secrets Manager secrets should have automatic rotation enabled",
		Fix:   "add an aws.secretsmanager.SecretRotation with a rotation function and schedule",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			return check(len(ctx.Pointing(typeSecretRotation, "secretId", r)) > 0, "no automatic rotation")
		},
	},
	{
		ID: "SecretsManager.4", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeSecret},
		Title: "Secrets Manager secrets should be rotated within a specified number of days",
		Fix:   "set rotationRules.automaticallyAfterDays to 90 or fewer",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			for _, rot := range ctx.Pointing(typeSecretRotation, "secretId", r) {
				if days := rot.Num("rotationRules.automaticallyAfterDays"); days > 0 && days <= maxRotationDays {
					return pass()
				}
			}
			return fail(fmt.Sprintf("not rotated at least every %d days", maxRotationDays))
		},
	},
	{
		ID: "SecretsManager.3", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeSecret},
		Title: "Remove unused Secrets Manager secrets",
		Fix:   "grant a workload read access to the secret, or remove it",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			return check(usedBy(ctx, r) != nil, "nothing in the stack reads the secret")
		},
	},
	{
		ID: "ACM.2", Framework: FSBP, Severity: High, ResourceTypes: []string{typeCertificate},
		Title: "RSA certificates managed by ACM should use a key length of at least 2,048 bits",
		Fix:   "leave keyAlgorithm unset (RSA_2048) or use EC_prime256v1",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(r.Str("keyAlgorithm") != "RSA_1024", "RSA 1024-bit key")
		},
	},
}
