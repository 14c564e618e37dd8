package offline_test

import (
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const suppressionType = "aws:sesv2/accountSuppressionAttributes:AccountSuppressionAttributes"

// TestEachStackHasItsOwnAccount: every stack file names exactly one account with the AWS
// provider's own aws:allowedAccountIds, the three name three different accounts, and every
// explicit provider of the plan carries it (they do not read the stack's aws: keys).
func TestEachStackHasItsOwnAccount(t *testing.T) {
	owner := map[string]string{}
	for _, stack := range offline.Stacks {
		account := offline.AccountOf(stack)
		require.Regexp(t, `^[0-9]{12}$`, account, "%s names its account", stack)
		assert.Empty(t, owner[account], "%s and %s share account %s", stack, owner[account], account)
		owner[account] = stack
		providers := offline.Stack(t, stack).OfType("pulumi:providers:aws")
		require.NotEmpty(t, providers)
		for _, p := range providers {
			assert.Equal(t, []any{account}, p.Get("allowedAccountIds"), "%s: provider %s", stack, p.Name)
		}
	}
}

// TestAnotherAccountCreatesNothing: credentials of another account stop the plan before any
// resource, naming both accounts; a stack file without the key stops at the settings.
func TestAnotherAccountCreatesNothing(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			cfg := offline.StackConfig(t, stack, nil)
			cfg.Credentials = "999988887777"
			res, err := offline.RunConfig(cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "999988887777")
			assert.Contains(t, err.Error(), offline.AccountOf(stack))
			assert.Contains(t, err.Error(), "aws:allowedAccountIds")
			for _, r := range res.Resources {
				assert.Equal(t, "pulumi:providers:aws", r.Type, "nothing but the provider that asked who the credentials are")
			}
			res, err = offline.WithValues(t, stack, map[string]string{"aws:allowedAccountIds": ""})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "aws:allowedAccountIds")
			assert.Empty(t, res.Resources)
		})
	}
}

// The SES suppression list is one setting per account and region, not a named resource:
// every stack sets the same value, whatever account it runs in.
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
