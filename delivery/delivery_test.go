package delivery_test

import (
	"regexp"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRolesTrustOnlyTheirGitHubEnvironment: each role trusts GitHub's tokens for exactly one
// subject of this repository, with STS as the audience, and nothing else.
func TestRolesTrustOnlyTheirGitHubEnvironment(t *testing.T) {
	for _, stack := range offline.Stacks {
		res := offline.Stack(t, stack)
		provider := res.Named(providerT, "canalco-"+stack+"-github")
		require.NotNil(t, provider, "%s creates the account's GitHub provider", stack)
		for role, subject := range map[string]string{
			"deploy":  "repo:" + repository + ":environment:" + stack,
			"preview": "repo:" + repository + ":environment:" + stack + "-preview",
		} {
			t.Run(stack+"/"+role, func(t *testing.T) {
				r := res.Named(roleT, "canalco-"+stack+"-"+role)
				require.NotNil(t, r)
				assert.Equal(t, "canalco-"+stack+"-"+role, r.Str("name"))
				assert.Equal(t, float64(7200), r.Num("maxSessionDuration"), "two-hour sessions: a slow release plus its rollback")
				assert.LessOrEqual(t, len(r.Str("assumeRolePolicy")), 2048, "IAM's default trust policy quota")
				trust := document(t, r, "assumeRolePolicy")
				require.Len(t, trust, 1)
				st := trust[0]
				assert.Equal(t, "Allow", st.Effect)
				assert.Equal(t, []string{"sts:AssumeRoleWithWebIdentity"}, st.Action)
				assert.Equal(t, map[string]any{"Federated": provider.Outputs["arn"]}, st.Principal)
				assert.Equal(t, providerArnOf(stack), provider.Outputs["arn"])
				assert.Empty(t, st.Resource)
				assert.Equal(t, map[string]map[string]any{"StringEquals": {
					"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
					"token.actions.githubusercontent.com:sub": subject,
				}}, st.Condition, "exact audience and subject, no StringLike, no wildcards")
			})
		}
	}
}

// TestTheProviderOutlivesTheStack: GitHub's OIDC provider is the account's, shared by every
// stack there, so no `pulumi destroy` removes it; protected stacks also refuse to.
func TestTheProviderOutlivesTheStack(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			providers := offline.Stack(t, stack).OfType(providerT)
			require.Len(t, providers, 1)
			p := providers[0]
			assert.Equal(t, "https://token.actions.githubusercontent.com", p.Str("url"))
			assert.Equal(t, []string{"sts.amazonaws.com"}, p.Strings("clientIdLists"))
			assert.Empty(t, p.Strings("thumbprintLists"), "IAM verifies GitHub with its own trusted CAs")
			assert.True(t, p.RetainOnDelete)
			assert.Equal(t, stack != "dev", p.Protect)
		})
	}
}

// TestAnExistingProviderIsReused: the second stack of an account names the provider the
// first one created, and creates none.
func TestAnExistingProviderIsReused(t *testing.T) {
	providerArn := providerArnOf("staging")
	res, err := withConfig(t, "staging", map[string]string{"canalco:githubOidcProviderArn": providerArn})
	require.NoError(t, err)
	assert.Empty(t, res.OfType(providerT))
	for _, role := range []string{"deploy", "preview"} {
		r := res.Named(roleT, "canalco-staging-"+role)
		require.NotNil(t, r)
		assert.Equal(t, map[string]any{"Federated": providerArn}, document(t, r, "assumeRolePolicy")[0].Principal)
	}

	other := "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com"
	_, err = withConfig(t, "staging", map[string]string{"canalco:githubOidcProviderArn": other})
	require.Error(t, err, "a provider of another account cannot sign in to this one")
	assert.Contains(t, err.Error(), "canalco:githubOidcProviderArn")
	assert.Contains(t, err.Error(), "210987654321")
}

// TestNoRepositoryNoPipelines: without canalco:githubRepository the stack has no OIDC
// provider and no pipeline roles or policies; the administrators group stays.
func TestNoRepositoryNoPipelines(t *testing.T) {
	res, err := withConfig(t, "dev", map[string]string{"canalco:githubRepository": ""})
	require.NoError(t, err)
	assert.Empty(t, res.OfType(providerT))
	assert.Empty(t, res.OfType("canalco:delivery:PipelineRole"))
	for _, role := range []string{"deploy", "preview"} {
		assert.Nil(t, res.Named(roleT, "canalco-dev-"+role))
		assert.Empty(t, rolePolicies(res, "canalco-dev-"+role))
	}
	assert.NotNil(t, res.Named(groupT, "canalco-dev-admins"))
}

// TestAdministratorsNeedMFA: the group's only rights are AdministratorAccess, attached after
// the MFA guard, and the guard denies everything but MFA self-service without MFA.
func TestAdministratorsNeedMFA(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			group := res.Named(groupT, "canalco-"+stack+"-admins")
			require.NotNil(t, group)
			assert.Equal(t, "canalco-"+stack+"-admins", group.Str("name"))
			mfa := res.Named(policyT, "canalco-"+stack+"-admins-require-mfa")
			require.NotNil(t, mfa)

			attached := map[string]*offline.Resource{}
			for _, a := range res.OfType(groupAttT) {
				assert.Equal(t, "canalco-"+stack+"-admins", a.Str("group"))
				attached[a.Str("policyArn")] = a
			}
			require.Len(t, attached, 2)
			admin := attached["arn:aws:iam::aws:policy/AdministratorAccess"]
			guard := attached[mfa.Outputs["arn"].(string)]
			require.NotNil(t, admin)
			require.NotNil(t, guard)
			assert.True(t, admin.DependsOn(guard.URN), "the MFA guard is attached before the rights")

			var blocks int
			for _, st := range document(t, mfa, "policy") {
				if st.Effect == "Allow" {
					for _, a := range st.Action {
						assert.Regexp(t, `^(iam:(Create|Enable|Resync|Get|List|Deactivate)\w*MFADevices?|iam:GetUser|iam:ChangePassword|iam:GetAccountPasswordPolicy)$`, a, "only MFA self-service is granted here")
					}
					continue
				}
				assert.Equal(t, map[string]map[string]any{"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}, st.Condition,
					"%s applies to sessions without MFA, including long-term keys that carry no MFA flag", st.Sid)
				if st.NotAction != nil {
					blocks++
					assert.Equal(t, []string{"*"}, st.Resource)
					assert.Empty(t, st.Action)
					assert.ElementsMatch(t, []string{
						"iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:ResyncMFADevice", "iam:GetMFADevice",
						"iam:ListMFADevices", "iam:ListVirtualMFADevices", "iam:GetUser", "iam:ChangePassword",
						"iam:GetAccountPasswordPolicy", "sts:GetSessionToken",
					}, st.NotAction)
				} else {
					assert.Equal(t, []string{"arn:aws:iam::*:user/${aws:username}"}, st.NotResource, "without MFA, only one's own user")
				}
			}
			assert.Equal(t, 1, blocks, "one deny of everything but the MFA setup")
		})
	}
}

// TestNamesFitIAM: IAM's length and character rules for every name the layer sets.
func TestNamesFitIAM(t *testing.T) {
	charset := regexp.MustCompile(`^[\w+=,.@-]+$`)
	limits := map[string]int{roleT: 64, policyT: 128, groupT: 128}
	for _, stack := range offline.Stacks {
		res := offline.Stack(t, stack)
		root := res.OfType(deliveryT)
		require.Len(t, root, 1)
		for _, r := range res.Resources {
			if res.Ancestor(r, deliveryT) == nil {
				continue
			}
			if limit, named := limits[r.Type]; named {
				name := r.Str("name")
				assert.LessOrEqual(t, len(name), limit, name)
				assert.Regexp(t, charset, name)
				assert.Regexp(t, "^canalco-"+stack+"-", name)
				assert.LessOrEqual(t, len(r.Str("description")), 1000, name)
			}
		}
	}
}

// TestEveryResourceBelongsToTheLayer: every identity hangs under the delivery component.
func TestEveryResourceBelongsToTheLayer(t *testing.T) {
	res := offline.Stack(t, "prod")
	for _, typ := range []string{roleT, policyT, providerT, groupT, groupAttT, roleAttT} {
		for _, r := range res.OfType(typ) {
			if r.Str("name") != "" && !regexp.MustCompile(`^canalco-prod-(deploy|preview|admins)`).MatchString(r.Str("name")) {
				continue // another layer's role or policy
			}
			if typ == roleAttT && !regexp.MustCompile(`^canalco-prod-(deploy|preview)-`).MatchString(r.Name) {
				continue
			}
			assert.NotNil(t, res.Ancestor(r, deliveryT), "%s %s", typ, r.Name)
		}
	}
}
