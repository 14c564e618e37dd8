package delivery

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"github.com/canalco/infra/env"
	"github.com/canalco/infra/security"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Boundary is the permissions boundary every role of the stack carries, and what the stack's
// roles are handed to. It is created before any role: a stack transformation gives each role
// the boundary (so no layer can forget it) and records which service the role is for, which
// the deploy role's iam:PassRole and iam:AttachRolePolicy grants are written from.
type Boundary struct {
	pulumi.ResourceState

	Arn pulumi.StringOutput

	mu       sync.Mutex
	services map[string][]string // role name: the services its trust policy names
	attached map[string]bool     // AWS managed policies the program attaches to roles
}

// boundaryName is canalco-<stack>-boundary.
func boundaryName(prefix string) string { return prefix + "-boundary" }

// boundaryArn is the boundary's ARN, which the policies name before it exists.
func boundaryArn(prefix, account string) string {
	return "arn:aws:iam::" + account + ":policy/" + boundaryName(prefix)
}

// NewBoundary creates the boundary and puts it on every role registered after it.
func NewBoundary(ctx *pulumi.Context, e env.Env, opts ...pulumi.ResourceOption) (*Boundary, error) {
	b := &Boundary{services: map[string][]string{}, attached: map[string]bool{}}
	name := boundaryName(e.Prefix)
	if err := ctx.RegisterComponentResource("canalco:delivery:Boundary", name, b, opts...); err != nil {
		return nil, err
	}
	// The boundary keeps its fixed name (the policies name its ARN before it exists) and sets
	// no description: a description change forces a replacement, and neither order works for
	// the boundary. Created first, the new policy collides with the old name; deleted first,
	// IAM refuses to delete a policy still set as a role's permissions boundary (DeleteConflict),
	// and if it did not, the roles would run without it. Stacks created with a description
	// keep it: ignoring the field spares them a replacement.
	policy, err := iam.NewPolicy(ctx, name, &iam.PolicyArgs{
		Name:   pulumi.String(name),
		Policy: pulumi.String(security.Document(boundaryStatements(e.Prefix, e.AccountID)...)),
	}, pulumi.Parent(b), pulumi.IgnoreChanges([]string{"description"}))
	if err != nil {
		return nil, fmt.Errorf("delivery: boundary: %w", err)
	}
	b.Arn = policy.Arn
	if err := ctx.RegisterStackTransformation(b.transform(policy)); err != nil {
		return nil, fmt.Errorf("delivery: boundary: %w", err)
	}
	return b, ctx.RegisterResourceOutputs(b, pulumi.Map{"arn": policy.Arn})
}

// transform sets the boundary on roles and records roles' services and attached AWS policies.
func (b *Boundary) transform(policy *iam.Policy) pulumi.ResourceTransformation {
	return func(args *pulumi.ResourceTransformationArgs) *pulumi.ResourceTransformationResult {
		switch props := args.Props.(type) {
		case *iam.RoleArgs:
			props.PermissionsBoundary = policy.Arn
			if name, ok := props.Name.(pulumi.String); ok {
				b.record(string(name), props.AssumeRolePolicy)
			}
			return &pulumi.ResourceTransformationResult{Props: props, Opts: append(args.Opts, pulumi.DependsOn([]pulumi.Resource{policy}))}
		case *iam.RolePolicyAttachmentArgs:
			if arn, ok := props.PolicyArn.(pulumi.String); ok {
				b.mu.Lock()
				b.attached[string(arn)] = true
				b.mu.Unlock()
			}
		}
		return nil
	}
}

// record notes the services a role's trust policy names (a plain document: every role of
// the program has one).
func (b *Boundary) record(role string, trust pulumi.Input) {
	doc, ok := trust.(pulumi.String)
	if !ok {
		return
	}
	var policy struct{ Statement []security.Statement }
	if json.Unmarshal([]byte(doc), &policy) != nil {
		return
	}
	var services []string
	for _, st := range policy.Statement {
		services = append(services, security.Strings(st.Principal["Service"])...)
	}
	b.mu.Lock()
	b.services[role] = unique(services...)
	b.mu.Unlock()
}

// passedTo maps each service to the stack's roles it is handed (role names).
func (b *Boundary) passedTo() map[string][]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string][]string{}
	for role, services := range b.services {
		for _, s := range services {
			out[s] = append(out[s], role)
		}
	}
	for s := range out {
		sort.Strings(out[s])
	}
	return out
}

// managedPolicies are the AWS managed policies the program attaches to its roles.
func (b *Boundary) managedPolicies() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for arn := range b.attached {
		out = append(out, arn)
	}
	return unique(out...)
}

// iamWrites are every IAM action that changes an identity or a policy.
var iamWrites = []string{
	"iam:Add*", "iam:Attach*", "iam:Create*", "iam:Delete*", "iam:Detach*", "iam:Put*", "iam:Remove*",
	"iam:Set*", "iam:Tag*", "iam:Untag*", "iam:Update*", "iam:PassRole",
}

// pipelineIdentities are the pipeline roles, their policies and the boundary: an
// administrator changes them (docs/identities.md), never a pipeline or a stack role.
func pipelineIdentities(prefix, account string) []string {
	arn := func(resource string) string { return "arn:aws:iam::" + account + ":" + resource }
	return []string{
		arn("role/" + prefix + "-deploy"), arn("role/" + prefix + "-preview"),
		arn("policy/" + prefix + "-deploy-*"), arn("policy/" + prefix + "-preview-*"),
		boundaryArn(prefix, account),
	}
}

// roleChanges are the calls that create a role or change its rights: they carry
// iam:PermissionsBoundary, the boundary the role has or gets.
var roleChanges = []string{
	"iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy",
	"iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary",
}

// escalationGuards hold in the boundary and in the deploy role's own policy alike: no role
// without the boundary, no boundary removed, the pipeline identities untouched. AWS's
// pattern: IAM User Guide, "Permissions boundaries for IAM entities", delegating
// responsibility to others.
func escalationGuards(prefix, account string) []security.Statement {
	boundary := boundaryArn(prefix, account)
	return []security.Statement{
		with(deny("RolesOnlyWithTheBoundary", roleChanges, everything), "StringNotEquals", "iam:PermissionsBoundary", boundary),
		deny("NoBoundaryRemoval", []string{"iam:DeleteRolePermissionsBoundary"}, everything),
		deny("NoPipelineIdentityChanges", iamWrites, pipelineIdentities(prefix, account)...),
		// The pipeline's policies on another role would make it a pipeline role.
		with(deny("NoPipelinePoliciesElsewhere", []string{"iam:AttachRolePolicy"}, everything), "ArnLike", "iam:PolicyARN",
			[]string{"arn:aws:iam::" + account + ":policy/" + prefix + "-deploy-*", "arn:aws:iam::" + account + ":policy/" + prefix + "-preview-*"}),
	}
}

// boundaryStatements: everything outside IAM, Organizations and the account's settings, the
// IAM calls a pipeline makes on the stack's own identities, and the escalation guards. The
// identity policies grant; the boundary caps what any of them can ever grant.
func boundaryStatements(prefix, account string) []security.Statement {
	own := func(kind string) string { return "arn:aws:iam::" + account + ":" + kind + "/" + prefix + "-*" }
	limit := security.Statement{Sid: "EverythingButIdentityAndAccount", Effect: "Allow", NotAction: []string{"iam:*", "organizations:*", "account:*"}, Resource: []string{everything}}
	return append([]security.Statement{
		limit,
		allow("ReadIdentities", []string{"iam:Get*", "iam:List*"}, everything),
		allow("StackIdentities", iamWrites, own("role"), own("policy"), own("instance-profile")),
		allow("ServiceLinkedRoles", []string{"iam:CreateServiceLinkedRole"}, "arn:aws:iam::"+account+":role/aws-service-role/*"),
	}, escalationGuards(prefix, account)...)
}
