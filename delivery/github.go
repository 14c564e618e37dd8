package delivery

import (
	"fmt"
	"strings"

	"github.com/canalco/infra/security"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	// oidcHost issues GitHub Actions' OIDC tokens; its claims are keyed by it in conditions.
	oidcHost = "token.actions.githubusercontent.com"
	// audience is what aws-actions/configure-aws-credentials asks GitHub to put in the token.
	audience = "sts.amazonaws.com"
	// sessionSeconds bounds a pipeline's credentials: two hours, so an instance refresh of a
	// full group, the migrations and a rollback finish before the credentials expire.
	sessionSeconds = 7200
)

// Subjects are the OIDC subjects (sub claims) the roles trust: a job of the repository that
// runs in the GitHub environment named after the stack (deploys, restricted to main with
// reviewers for prod) or after the stack plus -preview (pull requests). Exact values, no
// wildcards: a branch, a tag or another environment gets nothing.
func deploySubject(repo, stack string) string  { return "repo:" + repo + ":environment:" + stack }
func previewSubject(repo, stack string) string { return deploySubject(repo, stack+"-preview") }

// trust is the trust policy of a pipeline role: GitHub's OIDC tokens for one subject.
func trust(providerArn, subject string) string {
	return security.Document(security.Statement{
		Sid:       "GitHubActions",
		Effect:    "Allow",
		Principal: map[string]any{"Federated": providerArn},
		Action:    []string{"sts:AssumeRoleWithWebIdentity"},
		Condition: map[string]map[string]any{"StringEquals": {
			oidcHost + ":aud": audience,
			oidcHost + ":sub": subject,
		}},
	})
}

// oidcProvider returns the ARN of the account's GitHub OIDC provider: the configured one, or
// one this stack creates. There can be one per account, and every stack of the account
// signs in through it, so it outlives the stack that created it.
func oidcProvider(ctx *pulumi.Context, d *Delivery, a *DeliveryArgs) (pulumi.StringOutput, error) {
	if arn := a.Settings.GithubOidcProviderArn; arn != "" {
		if account := strings.Split(arn, ":")[4]; account != a.Env.AccountID {
			return pulumi.StringOutput{}, fmt.Errorf("delivery: canalco:githubOidcProviderArn %s belongs to account %s, not to this stack's account %s: use this account's provider, or leave the setting empty to create it", arn, account, a.Env.AccountID)
		}
		return pulumi.String(arn).ToStringOutput(), nil
	}
	// No thumbprints: IAM trusts GitHub's certificate through its own library of root CAs.
	p, err := iam.NewOpenIdConnectProvider(ctx, a.Env.Name("github"), &iam.OpenIdConnectProviderArgs{
		Url:           pulumi.String("https://" + oidcHost),
		ClientIdLists: pulumi.StringArray{pulumi.String(audience)},
	}, append([]pulumi.ResourceOption{pulumi.Parent(d), pulumi.RetainOnDelete(true)}, a.Env.Keep()...)...)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("delivery: %w", err)
	}
	return p.Arn, nil
}

// PipelineRole is a role a GitHub workflow assumes, with its managed policies.
type PipelineRole struct {
	pulumi.ResourceState

	Arn pulumi.StringOutput
}

// pipelineRoleArgs describe a pipeline role; the policy documents may wait for other layers.
type pipelineRoleArgs struct {
	name        string
	description string
	trust       pulumi.StringInput
	policies    []string
	documents   func(i int) pulumi.StringInput
}

func newPipelineRole(ctx *pulumi.Context, a pipelineRoleArgs, opts ...pulumi.ResourceOption) (*PipelineRole, error) {
	r := &PipelineRole{}
	if err := ctx.RegisterComponentResource("canalco:delivery:PipelineRole", a.name, r, opts...); err != nil {
		return nil, err
	}
	role, err := iam.NewRole(ctx, a.name, &iam.RoleArgs{
		Name:               pulumi.String(a.name),
		Description:        pulumi.String(a.description),
		AssumeRolePolicy:   a.trust,
		MaxSessionDuration: pulumi.Int(sessionSeconds),
	}, pulumi.Parent(r))
	if err != nil {
		return nil, err
	}
	for i, suffix := range a.policies {
		name := a.name + "-" + suffix
		p, err := iam.NewPolicy(ctx, name, &iam.PolicyArgs{
			Name:        pulumi.String(name),
			Description: pulumi.String("What " + a.name + " may do: " + suffix),
			Policy:      a.documents(i),
			// A new description forces a replacement under the same name, which IAM refuses
			// while the old policy exists: delete it first (its attachment is replaced with it).
		}, pulumi.Parent(r), pulumi.DeleteBeforeReplace(true))
		if err != nil {
			return nil, err
		}
		if _, err := iam.NewRolePolicyAttachment(ctx, name, &iam.RolePolicyAttachmentArgs{
			Role: role.Name, PolicyArn: p.Arn,
		}, pulumi.Parent(r)); err != nil {
			return nil, err
		}
	}
	r.Arn = role.Arn
	return r, ctx.RegisterResourceOutputs(r, pulumi.Map{"arn": role.Arn})
}

// names lists the policies' name suffixes.
func names(policies []policy) []string {
	out := make([]string, len(policies))
	for i, p := range policies {
		out[i] = p.name
	}
	return out
}
