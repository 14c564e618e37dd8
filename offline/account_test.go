package offline_test

import (
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	oidcType        = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
	suppressionType = "aws:sesv2/accountSuppressionAttributes:AccountSuppressionAttributes"
)

// claims maps every physical resource (its ARN: the offline run answers as one account and
// region) to the stack that creates it.
func claims(t *testing.T, results map[string]*offline.Result) map[string][]string {
	t.Helper()
	owners := map[string][]string{}
	for stack, res := range results {
		for _, r := range res.Resources {
			if arn, ok := r.Outputs["arn"].(string); ok && r.Custom {
				owners[r.Type+" "+arn] = append(owners[r.Type+" "+arn], stack)
			}
		}
	}
	return owners
}

// Stacks may share an account (README, "Using it for real"). Then no two may create the same
// physical resource, once the later stacks set what the README says: the GitHub OIDC provider
// exists once per account (IAM refuses a second one for the same URL), so they reuse the
// first one's. Without that setting the provider is exactly the collision.
func TestStacksSharingAnAccountDoNotCollide(t *testing.T) {
	provider := "arn:aws:iam::" + offline.Account + ":oidc-provider/token.actions.githubusercontent.com"
	alone := map[string]*offline.Result{}
	for _, stack := range offline.Stacks {
		alone[stack] = offline.Stack(t, stack)
		require.Len(t, alone[stack].OfType(oidcType), 1, "%s in an account of its own creates its provider", stack)
	}
	for key, stacks := range claims(t, alone) {
		if len(stacks) > 1 {
			assert.Equal(t, oidcType+" "+provider, key, "%v all create it", stacks)
		}
	}

	shared := map[string]*offline.Result{"dev": alone["dev"]}
	for _, stack := range []string{"staging", "prod"} {
		res, err := offline.WithValues(t, stack, map[string]string{"canalco:githubOidcProviderArn": provider})
		require.NoError(t, err)
		assert.Empty(t, res.OfType(oidcType))
		shared[stack] = res
	}
	for key, stacks := range claims(t, shared) {
		assert.Len(t, stacks, 1, "%s is created by %v", key, stacks)
	}
}

// The SES suppression list is one setting per account and region, not a named resource:
// every stack sets the same value, so stacks sharing an account never undo each other's.
func TestAccountLevelSettingsAgree(t *testing.T) {
	var want any
	for _, stack := range offline.Stacks {
		res := offline.Stack(t, stack)
		s := res.OfType(suppressionType)
		require.Len(t, s, 1, stack)
		if want == nil {
			want = s[0].Get("suppressedReasons")
		}
		assert.Equal(t, want, s[0].Get("suppressedReasons"), stack)
	}
}
