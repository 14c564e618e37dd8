package delivery

import (
	"maps"
	"sort"
	"strings"

	"github.com/canalco/infra/security"
)

// scope is what the pipeline policies are written for: one stack in one account. Every ARN
// the policies name is built here, so the scoping rules live in one place.
type scope struct {
	project string // names the state bucket and the secrets key (scripts/bootstrap-state.sh)
	stack   string
	prefix  string // canalco-<stack>: the start of every AWS name of the stack
	env     string // the Environment tag of every resource of the stack
	account string
	regions []string

	asgName         string
	frontendBucket  string
	artifactsBucket string
	vpcID           string
	disposable      bool     // the stack keeps no data: destroy empties its buckets and its vault
	zoneID          string   // empty: the stack writes no DNS records
	hostnames       []string // the app's and the API's hostnames in the zone
	emailDomain     string   // the email domain whose DKIM, DMARC and MAIL FROM records the stack writes
	mailFrom        string   // the MAIL FROM domain
	emailIdentity   string   // the SES identity: a domain, or a sender address
	delegatedZone   string   // the subzone whose NS record the stack writes ("" for none)

	boundary string // ARN of the permissions boundary of the stack's roles
}

// own is the wildcard of every name of the stack: canalco-<stack>-*.
func (s scope) own() string { return s.prefix + "-*" }

// vpc is the ARN of the stack's VPC, for the ec2:Vpc condition.
func (s scope) vpc() string { return s.arn("ec2", "vpc/"+s.vpcID) }

// parameters are the stack's SSM parameters, named as paths: /canalco/<stack>/*.
func (s scope) parameters() string { return s.arn("ssm", "parameter/"+s.project+"/"+s.stack+"/*") }

// arn is a regional ARN in the account, any region: the names already pin the stack, and
// the region guard (denyOtherRegions) pins the regions.
func (s scope) arn(service, resource string) string {
	return "arn:aws:" + service + ":*:" + s.account + ":" + resource
}

// global is an ARN of a global service (IAM, CloudFront, budgets...), which has no region.
func (s scope) global(service, resource string) string {
	return "arn:aws:" + service + "::" + s.account + ":" + resource
}

// restoreTestingPlans are the stack's restore testing plans: AWS Backup allows no hyphen in
// their names (canalco_<stack>_restore_test), and their ARNs end with -<id>.
func (s scope) restoreTestingPlans() string {
	return s.arn("backup", "restore-testing-plan:"+strings.ReplaceAll(s.prefix, "-", "_")+"_*")
}

// stateBucket is the bucket of the Pulumi state (canalco-pulumi-state-<account>-<region>).
func (s scope) stateBucket() string { return stateBucket(s.project, s.account) }

// stateBucket is the ARN of the Pulumi state bucket of a project in an account, any region
// (scripts/bootstrap-state.sh).
func stateBucket(project, account string) string {
	return "arn:aws:s3:::" + project + "-pulumi-state-" + account + "-*"
}

// artifacts are the functions' packages in the artifacts bucket.
func (s scope) artifacts() string { return "arn:aws:s3:::" + s.artifactsBucket + "/*" }

// secretsAlias is the alias of the key of Pulumi's secrets provider.
func (s scope) secretsAlias() string { return "alias/" + s.project + "-pulumi-secrets" }

// tagged limits a statement to resources carrying the stack's default tags (the services
// whose ARNs hold IDs, not names); key is aws:ResourceTag or aws:RequestTag (creation).
func (s scope) tagged(st security.Statement, key string) security.Statement {
	st = with(st, "StringEquals", key+"/Project", s.project)
	return with(st, "StringEquals", key+"/Environment", s.env)
}

// secretsKey limits a statement to the secrets provider's key, whatever ARN or alias names it.
func (s scope) secretsKey(st security.Statement) security.Statement {
	return with(st, "ForAnyValue:StringEquals", "kms:ResourceAliases", s.secretsAlias())
}

// policy is one customer managed policy of a role: canalco-<stack>-<role>-<name>.
type policy struct {
	name       string
	statements []security.Statement
}

// everything is Resource "*": for calls that name no resource, or that a condition scopes.
const everything = "*"

func allow(sid string, actions []string, resources ...string) security.Statement {
	return security.Allow(sid, actions, resources)
}

func deny(sid string, actions []string, resources ...string) security.Statement {
	st := allow(sid, actions, resources...)
	st.Effect = "Deny"
	return st
}

// except turns a statement's resources into "everything but these" (NotResource).
func except(st security.Statement, resources ...string) security.Statement {
	st.Resource, st.NotResource = nil, resources
	return st
}

// publicParameters are AWS's public SSM parameters (such as the latest AMI IDs): no secrets.
const publicParameters = "arn:aws:ssm:*::parameter/aws/service/*"

// with returns the statement with one more condition (the statement is not modified).
func with(st security.Statement, operator, key string, value any) security.Statement {
	c := make(map[string]map[string]any, len(st.Condition)+1)
	for op, keys := range st.Condition {
		c[op] = maps.Clone(keys)
	}
	if c[operator] == nil {
		c[operator] = map[string]any{}
	}
	c[operator][key] = value
	st.Condition = c
	return st
}

// each maps names to ARNs.
func each(names []string, arn func(string) string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, arn(n))
	}
	return out
}

// unique sorts the values and drops empty and repeated ones.
func unique(values ...string) []string {
	seen := map[string]bool{"": true}
	var out []string
	for _, v := range values {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}
