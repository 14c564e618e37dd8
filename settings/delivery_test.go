package settings_test

import (
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/settings"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const githubProvider = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"

// TestDeliveryBadSettings: every bad value is reported with its key and what is expected,
// before any resource is registered.
func TestDeliveryBadSettings(t *testing.T) {
	for _, c := range []struct {
		name, stack string
		values      map[string]string
		key, expect string
	}{
		{"repository without owner", "prod", map[string]string{"canalco:githubRepository": "infraestructura"}, "githubRepository", "owner/name"},
		{"repository as a URL", "dev", map[string]string{"canalco:githubRepository": "https://github.com/canalco/infraestructura"}, "githubRepository", "owner/name"},
		{"repository with a wildcard", "staging", map[string]string{"canalco:githubRepository": "canalco/*"}, "githubRepository", "owner/name"},
		{"provider of another issuer", "prod", map[string]string{"canalco:githubOidcProviderArn": "arn:aws:iam::123456789012:oidc-provider/gitlab.com"}, "githubOidcProviderArn", "token.actions.githubusercontent.com"},
		{"provider ARN malformed", "dev", map[string]string{"canalco:githubOidcProviderArn": "token.actions.githubusercontent.com"}, "githubOidcProviderArn", "IAM OIDC provider ARN"},
		{"provider without a repository", "staging", map[string]string{"canalco:githubRepository": "", "canalco:githubOidcProviderArn": githubProvider}, "githubOidcProviderArn", "empty while canalco:githubRepository is empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := offline.RunConfig(stackConfig(t, c.stack, c.values))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "canalco:"+c.key+" = ")
			assert.Contains(t, err.Error(), c.expect)
			assert.Empty(t, res.Resources, "nothing may be registered when a setting is bad")
		})
	}
}

func TestDeliveryAcceptedSettings(t *testing.T) {
	for _, c := range []struct {
		name, stack string
		values      map[string]string
		want        settings.Delivery
	}{
		{"the stack files' repository", "prod", nil, settings.Delivery{GithubRepository: "canalco/infraestructura"}},
		{"no pipelines", "dev", map[string]string{"canalco:githubRepository": ""}, settings.Delivery{}},
		{"dots and underscores in the name", "staging", map[string]string{"canalco:githubRepository": "canalco-sas/infra_aws.v2"}, settings.Delivery{GithubRepository: "canalco-sas/infra_aws.v2"}},
		{"the account's existing provider", "prod", map[string]string{"canalco:githubOidcProviderArn": githubProvider},
			settings.Delivery{GithubRepository: "canalco/infraestructura", GithubOidcProviderArn: githubProvider}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := parse(t, stackConfig(t, c.stack, c.values))
			require.NoError(t, err)
			assert.Equal(t, c.want, s.Delivery)
		})
	}
}
