package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/review/graph"
)

const (
	typeRole                 = "aws:iam/role:Role"
	typeUser                 = "aws:iam/user:User"
	typeUserPolicy           = "aws:iam/userPolicy:UserPolicy"
	typeUserPolicyAttachment = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
)

// policyTypes are the resources that carry IAM permission documents.
var policyTypes = []string{"aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy", typeUserPolicy, "aws:iam/groupPolicy:GroupPolicy", typeRole}

// noSourceContext are service principals that assume roles without telling which account or
// resource asked, so a condition on aws:SourceAccount would lock them out.
var noSourceContext = map[string]bool{"ec2.amazonaws.com": true}

// permissionStatements returns the statements of a resource's permission documents.
func permissionStatements(r *offline.Resource) []graph.Statement {
	if r.Type != typeRole {
		return graph.Policy(r.Get("policy"))
	}
	var out []graph.Statement
	for i := range r.List("inlinePolicies") {
		out = append(out, graph.Policy(r.Get(fmt.Sprintf("inlinePolicies.%d.policy", i)))...)
	}
	return out
}

// forAllows fails on the first Allow statement bad reports.
func forAllows(bad func(st graph.Statement) string) func(r *offline.Resource, _ *Context) (bool, string) {
	return func(r *offline.Resource, _ *Context) (bool, string) {
		for _, st := range permissionStatements(r) {
			if st.Effect != "Allow" {
				continue
			}
			if msg := bad(st); msg != "" {
				return fail(msg)
			}
		}
		return pass()
	}
}

// trustProblem says why a trust statement lets more principals assume the role than intended.
func trustProblem(st graph.Statement) string {
	if st.Effect != "Allow" || len(st.Condition) > 0 {
		return ""
	}
	for kind, values := range st.Principals {
		for _, v := range values {
			switch {
			case kind == "Service" && noSourceContext[v]:
			case kind == "Service":
				return v + " may assume it for any account (no aws:SourceAccount or aws:SourceArn condition)"
			case kind == "Federated":
				return v + " tokens of any subject may assume it (no :sub / :aud condition)"
			default:
				return fmt.Sprintf("%s %s may assume it without a condition (MFA, external ID)", kind, v)
			}
		}
	}
	return ""
}

var identityRules = []Rule{
	{
		ID: "IAM.1", Framework: FSBP, Severity: High, ResourceTypes: policyTypes,
		Title: "IAM policies should not allow full \"*\" administrative privileges",
		Fix:   "list the actions and resources the workload needs",
		Check: forAllows(func(st graph.Statement) string {
			if slices.Contains(st.Actions, "*") && slices.Contains(st.Resources, "*") {
				return `allows "*" on "*"`
			}
			return ""
		}),
	},
	{
		ID: "IAM.21", Framework: FSBP, Severity: Low, ResourceTypes: policyTypes,
		Title: "IAM customer managed policies that you create should not allow wildcard actions for services",
		Fix:   "replace service:* with the actions used (s3:GetObject, sqs:SendMessage, ...)",
		Check: forAllows(func(st graph.Statement) string {
			for _, a := range st.Actions {
				if a == "*" || strings.HasSuffix(a, ":*") {
					return "allows " + a
				}
			}
			return ""
		}),
	},
	{
		ID: "IAM.2", Framework: FSBP, Severity: Low, ResourceTypes: []string{typeUser},
		Title: "IAM users should not have IAM policies attached",
		Fix:   "grant permissions through a group or a role",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			n := len(ctx.Pointing(typeUserPolicy, "user", r)) + len(ctx.Pointing(typeUserPolicyAttachment, "user", r))
			return check(n == 0, fmt.Sprintf("%d polic(ies) attached to the user", n))
		},
	},
	{
		ID: "Canalco.15", Framework: Canalco, Severity: High, ResourceTypes: []string{typeRole},
		Title: "Role trust policies limit who may assume the role with a condition",
		Fix:   "use security.AssumeRole (aws:SourceAccount); for OIDC test :aud and :sub; for people require MFA",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			for _, st := range graph.Policy(r.Get("assumeRolePolicy")) {
				if msg := trustProblem(st); msg != "" {
					return fail(msg)
				}
			}
			return pass()
		},
	},
}
