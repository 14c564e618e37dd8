package delivery_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/security"
	"github.com/stretchr/testify/require"
)

const (
	roleT      = "aws:iam/role:Role"
	policyT    = "aws:iam/policy:Policy"
	providerT  = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
	groupT     = "aws:iam/group:Group"
	groupAttT  = "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"
	roleAttT   = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
	deliveryT  = "canalco:delivery:Delivery"
	repository = "canalco/infraestructura"
)

// providerArnOf is the ARN of GitHub's OIDC provider in a stack's account.
func providerArnOf(stack string) string {
	return "arn:aws:iam::" + offline.AccountOf(stack) + ":oidc-provider/token.actions.githubusercontent.com"
}

// document parses a recorded policy document.
func document(t *testing.T, r *offline.Resource, key string) []security.Statement {
	t.Helper()
	raw := r.Str(key)
	require.NotEmpty(t, raw, "%s has a %s document", r.Name, key)
	var doc struct {
		Version   string
		Statement []security.Statement
	}
	require.NoError(t, json.Unmarshal([]byte(raw), &doc), "%s: %s", r.Name, raw)
	require.Equal(t, "2012-10-17", doc.Version)
	return doc.Statement
}

// rolePolicies returns the managed policies of a pipeline role (canalco-<stack>-<role>-*).
func rolePolicies(res *offline.Result, role string) []*offline.Resource {
	var out []*offline.Resource
	for _, p := range res.OfType(policyT) {
		if strings.HasPrefix(p.Str("name"), role+"-") {
			out = append(out, p)
		}
	}
	return out
}

// statements gathers the statements of a role's managed policies.
func statements(t *testing.T, res *offline.Result, role string) []security.Statement {
	t.Helper()
	var out []security.Statement
	for _, p := range rolePolicies(res, role) {
		out = append(out, document(t, p, "policy")...)
	}
	require.NotEmpty(t, out, "%s has policies", role)
	return out
}

// matches tells whether an IAM pattern (with * and ?) matches a value, the way IAM compares
// actions (case-insensitively) and resources.
func matches(pattern, value string, fold bool) bool {
	expr := "^" + strings.NewReplacer(`\*`, `.*`, `\?`, `.`).Replace(regexp.QuoteMeta(pattern)) + "$"
	if fold {
		expr = "(?i)" + expr
	}
	re, ok := compiled.Load(expr)
	if !ok {
		re, _ = compiled.LoadOrStore(expr, regexp.MustCompile(expr))
	}
	return re.(*regexp.Regexp).MatchString(value)
}

// compiled caches the patterns' expressions: the tests match thousands of ARNs.
var compiled sync.Map

func anyMatches(patterns []string, value string, fold bool) bool {
	for _, p := range patterns {
		if matches(p, value, fold) {
			return true
		}
	}
	return false
}

// allows reports whether an Allow statement grants the action on the resource (conditions
// aside).
func allows(st security.Statement, action, resource string) bool {
	return st.Effect == "Allow" && anyMatches(st.Action, action, true) && anyMatches(st.Resource, resource, false)
}

// denies reports whether a Deny statement covers the action on the resource, for a request
// made in the stack's region (the region guard does not apply).
func denies(st security.Statement, action, resource string) bool {
	if st.Effect != "Deny" || st.Condition["StringNotEquals"]["aws:RequestedRegion"] != nil {
		return false
	}
	actionIn := anyMatches(st.Action, action, true) || (len(st.NotAction) > 0 && !anyMatches(st.NotAction, action, true))
	resourceIn := anyMatches(st.Resource, resource, false) || (len(st.NotResource) > 0 && !anyMatches(st.NotResource, resource, false))
	return actionIn && resourceIn
}

// withConfig plans a real stack with some settings changed.
func withConfig(t *testing.T, stack string, values map[string]string) (*offline.Result, error) {
	t.Helper()
	return offline.WithValues(t, stack, values)
}
