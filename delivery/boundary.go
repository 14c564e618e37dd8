package delivery

import (
	"fmt"
	"strings"

	"github.com/canalco/infra/env"
	"github.com/canalco/infra/security"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Boundary is the permissions boundary every role of the stack carries. It is created before
// any role, and a stack transformation gives each role the boundary, so no layer can forget it.
type Boundary struct {
	pulumi.ResourceState

	Arn pulumi.StringOutput
}

// boundaryName is canalco-<stack>-boundary.
func boundaryName(prefix string) string { return prefix + "-boundary" }

// boundaryArn is the boundary's ARN, which the policies name before it exists.
func boundaryArn(prefix, account string) string {
	return "arn:aws:iam::" + account + ":policy/" + boundaryName(prefix)
}

// NewBoundary creates the boundary and puts it on every role registered after it.
func NewBoundary(ctx *pulumi.Context, e env.Env, opts ...pulumi.ResourceOption) (*Boundary, error) {
	b := &Boundary{}
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
	if err := ctx.RegisterStackTransformation(func(args *pulumi.ResourceTransformationArgs) *pulumi.ResourceTransformationResult {
		props, ok := args.Props.(*iam.RoleArgs)
		if !ok {
			return nil
		}
		props.PermissionsBoundary = policy.Arn
		return &pulumi.ResourceTransformationResult{Props: props, Opts: append(args.Opts, pulumi.DependsOn([]pulumi.Resource{policy}))}
	}); err != nil {
		return nil, fmt.Errorf("delivery: boundary: %w", err)
	}
	return b, ctx.RegisterResourceOutputs(b, pulumi.Map{"arn": policy.Arn})
}

// iamWrites are every IAM action that changes an identity or a policy.
var iamWrites = []string{
	"iam:Add*", "iam:Attach*", "iam:Create*", "iam:Delete*", "iam:Detach*", "iam:Put*", "iam:Remove*",
	"iam:Set*", "iam:Tag*", "iam:Untag*", "iam:Update*", "iam:PassRole",
}

// stackServices are the services the stack's roles use, the pipeline's included: the
// boundary's cap. IAM, S3 and STS are not here: the boundary grants them on the stack's own
// identities, buckets and roles only.
var stackServices = []string{
	"acm", "autoscaling", "backup", "backup-storage", "budgets", "ce", "cloudfront", "cloudwatch",
	"ec2", "ec2messages", "ecr", "elasticloadbalancing", "events", "kms", "lambda", "logs", "rds",
	"rds-db", "route53", "scheduler", "secretsmanager", "ses", "sns", "sqs", "ssm", "ssmmessages",
	"wafv2", "xray",
}

// guardRails are the account's own controls: what records, watches and governs it. No role
// of the stack may change them.
var guardRails = []string{
	"cloudtrail:*", "config:*", "guardduty:*", "securityhub:*", "organizations:*", "account:*",
	"access-analyzer:Create*", "access-analyzer:Delete*", "access-analyzer:Update*", "access-analyzer:Apply*",
	"access-analyzer:Tag*", "access-analyzer:Untag*",
	// No users and no long-lived keys (IAM.2, IAM.3): people sign in with MFA, pipelines with OIDC.
	"iam:CreateUser", "iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile",
	"iam:AttachUserPolicy", "iam:PutUserPolicy", "iam:CreateServiceSpecificCredential", "iam:UploadSSHPublicKey",
	"iam:UploadSigningCertificate", "iam:UpdateAccountPasswordPolicy", "iam:DeleteAccountPasswordPolicy",
	// Who is an administrator is decided by people; the OIDC provider is every pipeline's sign-in.
	"iam:CreateGroup", "iam:DeleteGroup", "iam:UpdateGroup", "iam:AddUserToGroup", "iam:RemoveUserFromGroup",
	"iam:AttachGroupPolicy", "iam:DetachGroupPolicy", "iam:PutGroupPolicy", "iam:DeleteGroupPolicy",
	"iam:CreateOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider", "iam:UpdateOpenIDConnectProviderThumbprint",
	"iam:AddClientIDToOpenIDConnectProvider", "iam:RemoveClientIDFromOpenIDConnectProvider", "iam:TagOpenIDConnectProvider",
	"iam:UntagOpenIDConnectProvider", "iam:CreateSAMLProvider", "iam:UpdateSAMLProvider", "iam:DeleteSAMLProvider",
}

// dataGuards are what only the pipeline's `pulumi up` does: key policies and key deletion,
// bucket policies, ACLs and public-access blocks. A runtime role never needs them, and with
// them a role could hand the stack's data to anyone.
var dataGuards = []string{
	"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:DeleteImportedKeyMaterial",
	"s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketAcl", "s3:PutObjectAcl", "s3:PutBucketPublicAccessBlock",
	"s3:PutAccountPublicAccessBlock", "s3:PutBucketOwnershipControls",
}

// pipelineRoles are the ARNs of the stack's deploy and preview roles.
func pipelineRoles(prefix, account string) []string {
	return []string{"arn:aws:iam::" + account + ":role/" + prefix + "-deploy", "arn:aws:iam::" + account + ":role/" + prefix + "-preview"}
}

// pipelineIdentities are the pipeline roles, their policies, the boundary and the
// administrators' policies: an administrator changes them (docs/identities.md), never a
// pipeline or a stack role.
func pipelineIdentities(prefix, account string) []string {
	arn := func(resource string) string { return "arn:aws:iam::" + account + ":" + resource }
	return append(pipelineRoles(prefix, account),
		arn("policy/"+prefix+"-deploy-*"), arn("policy/"+prefix+"-preview-*"), arn("policy/"+prefix+"-admins-*"),
		boundaryArn(prefix, account))
}

// roleChanges are the calls that create a role or change its rights: they carry
// iam:PermissionsBoundary, the boundary the role has or gets.
var roleChanges = []string{
	"iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy",
	"iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary",
}

// privilegedPolicies are AWS managed policies no role of the stack is given, though the
// boundary would cap them: they are what an escalation reaches for first.
var privilegedPolicies = []string{
	"arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/PowerUserAccess",
	"arn:aws:iam::aws:policy/IAMFullAccess", "arn:aws:iam::aws:policy/job-function/*",
}

// boundaryStatements are the permissions boundary of every role of the stack, the pipeline
// roles included: a cap, not a grant. It allows the stack's services, S3 on the stack's
// buckets (the Pulumi state to the pipeline roles only), IAM on the stack's own identities
// and sts:AssumeRole of the stack's roles; and denies, whatever an identity policy says, the
// account's guard-rails, the pipeline identities, roles without the boundary, and (to every
// role but the deploy role) key policies, key deletion and bucket policies. AWS's pattern:
// IAM User Guide, "Permissions boundaries for IAM entities", delegating responsibility.
func boundaryStatements(prefix, account string) []security.Statement {
	iamOwn := func(kind string) string { return "arn:aws:iam::" + account + ":" + kind + "/" + prefix + "-*" }
	services := make([]string, len(stackServices))
	for i, svc := range stackServices {
		services[i] = svc + ":*"
	}
	project, _, _ := strings.Cut(prefix, "-")
	state := stateBucket(project, account)
	deploy := pipelineRoles(prefix, account)[0]
	return []security.Statement{
		allow("StackServices", services, everything),
		allow("StackBuckets", []string{"s3:*"}, "arn:aws:s3:::"+prefix+"-*"),
		with(allow("PipelineState", []string{"s3:*"}, state, state+"/*"), "ArnEquals", "aws:PrincipalArn", pipelineRoles(prefix, account)),
		allow("ReadIdentities", []string{"iam:Get*", "iam:List*"}, everything),
		allow("StackIdentities", iamWrites, iamOwn("role"), iamOwn("policy"), iamOwn("instance-profile")),
		allow("ServiceLinkedRoles", []string{"iam:CreateServiceLinkedRole"}, "arn:aws:iam::"+account+":role/aws-service-role/*"),
		allow("AssumeStackRoles", []string{"sts:AssumeRole"}, iamOwn("role")),
		// The pipeline reads the analyzer; nothing of the stack changes it (GuardRails).
		allow("ReadAnalyzers", []string{"access-analyzer:GetAnalyzer", "access-analyzer:ListAnalyzers"}, everything),
		deny("GuardRails", guardRails, everything),
		with(deny("DataGuardsButDeploy", dataGuards, everything), "ArnNotEquals", "aws:PrincipalArn", deploy),
		except(deny("AssumeOnlyStackRoles", []string{"sts:AssumeRole"}), iamOwn("role")),
		// The pipeline roles are GitHub's only (sts:AssumeRoleWithWebIdentity, their trust).
		deny("NoAssumingPipelineRoles", []string{"sts:AssumeRole"}, pipelineRoles(prefix, account)...),
		with(deny("RolesOnlyWithTheBoundary", roleChanges, everything), "StringNotEquals", "iam:PermissionsBoundary", boundaryArn(prefix, account)),
		deny("NoBoundaryRemoval", []string{"iam:DeleteRolePermissionsBoundary"}, everything),
		// The rule that reports outside access stays as an administrator left it.
		deny("NoSilencingFindings", []string{
			"events:PutRule", "events:DeleteRule", "events:DisableRule", "events:PutTargets", "events:RemoveTargets",
			"events:TagResource", "events:UntagResource",
		}, "arn:aws:events:*:"+account+":rule/"+findingsRule(prefix)),
		deny("NoPipelineIdentityChanges", iamWrites, pipelineIdentities(prefix, account)...),
		// The pipeline's policies on another role would make it a pipeline role; the
		// privileged AWS policies are never a stack role's.
		with(deny("NoPrivilegedPolicies", []string{"iam:AttachRolePolicy"}, everything), "ArnLike", "iam:PolicyARN",
			append([]string{"arn:aws:iam::" + account + ":policy/" + prefix + "-deploy-*", "arn:aws:iam::" + account + ":policy/" + prefix + "-preview-*"}, privilegedPolicies...)),
	}
}
