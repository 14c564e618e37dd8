// Package delivery is the identities CI/CD uses: GitHub's OIDC provider, a deploy role and a
// read-only preview role per environment, the administrators group that requires MFA, the
// permissions boundary of every role, and IAM Access Analyzer watching for outside access.
// There are no IAM users and no access keys: pipelines get role sessions of at most two hours, people
// sign in with MFA (docs/identities.md).
package delivery

import (
	"fmt"

	"github.com/canalco/infra/env"
	"github.com/canalco/infra/security"
	"github.com/canalco/infra/settings"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// DeliveryArgs are the inputs of the delivery layer.
type DeliveryArgs struct {
	Env      env.Env
	Settings settings.Delivery
	// Project names the Pulumi state bucket and secrets key (scripts/bootstrap-state.sh).
	Project string
	// Stack is the name of the GitHub environment that deploys the stack.
	Stack string
	// Regions the stack also uses besides its own and us-east-1 (backup copies, replicas).
	Regions []string
	// Zone is the Route 53 zone the stack writes records in ("" for none); Hostnames are the
	// app's and the API's names there, EmailDomain the domain whose DKIM and DMARC records
	// the stack writes ("" for none), MailFrom its MAIL FROM domain.
	Zone        string
	Hostnames   []string
	EmailDomain string
	MailFrom    string
	// DelegatedZone is the subzone of Zone hosted in another stack's account whose NS record
	// this stack writes ("" for none), e.g. staging.canalco.co in prod.
	DelegatedZone string
	// EmailIdentity is the SES identity (domain or sender address) the stack verifies.
	EmailIdentity string
	// From the compute and storage layers: what the release scripts touch.
	AsgName         string
	FrontendBucket  string
	ArtifactsBucket string
	// VpcID is the stack's VPC, whose default security group the network layer adopts.
	VpcID pulumi.StringInput
	// AlarmTopicArn receives IAM Access Analyzer's findings.
	AlarmTopicArn pulumi.StringInput
}

// Delivery is the delivery layer's output. The pipeline outputs are empty when the stack
// has no canalco:githubRepository.
type Delivery struct {
	pulumi.ResourceState

	DeployRoleArn   pulumi.StringOutput
	PreviewRoleArn  pulumi.StringOutput
	OidcProviderArn pulumi.StringOutput
	AdminsGroupName pulumi.StringOutput
}

// NewDelivery creates the delivery layer.
func NewDelivery(ctx *pulumi.Context, name string, args *DeliveryArgs, opts ...pulumi.ResourceOption) (*Delivery, error) {
	d := &Delivery{}
	if err := ctx.RegisterComponentResource("canalco:delivery:Delivery", name, d, opts...); err != nil {
		return nil, err
	}
	if err := newAdmins(ctx, d, args.Env.Prefix); err != nil {
		return nil, err
	}
	if err := newAccessAnalyzer(ctx, d, args.Env.Prefix, args.AlarmTopicArn); err != nil {
		return nil, err
	}
	empty := pulumi.String("").ToStringOutput()
	d.DeployRoleArn, d.PreviewRoleArn, d.OidcProviderArn = empty, empty, empty
	if args.Settings.GithubRepository != "" {
		if err := pipelines(ctx, d, args); err != nil {
			return nil, err
		}
	}
	return d, ctx.RegisterResourceOutputs(d, pulumi.Map{
		"deployRoleArn":   d.DeployRoleArn,
		"previewRoleArn":  d.PreviewRoleArn,
		"oidcProviderArn": d.OidcProviderArn,
		"adminsGroupName": d.AdminsGroupName,
	})
}

// pipelines creates the roles GitHub Actions assumes for the stack.
func pipelines(ctx *pulumi.Context, d *Delivery, a *DeliveryArgs) error {
	provider, err := oidcProvider(ctx, d, a)
	if err != nil {
		return err
	}
	s, err := newScope(ctx, d, a)
	if err != nil {
		return err
	}
	repo := a.Settings.GithubRepository
	trustOf := func(subject string) pulumi.StringInput {
		return provider.ApplyT(func(arn string) string { return trust(arn, subject) }).(pulumi.StringOutput)
	}
	deploy, err := newPipelineRole(ctx, pipelineRoleArgs{
		name:        a.Env.Name("deploy"),
		description: fmt.Sprintf("pulumi up and releases of %s, from the %s environment of %s", a.Env.Prefix, a.Stack, repo),
		trust:       trustOf(deploySubject(repo, a.Stack)),
		policies:    names(deployPolicies(s)),
		// The VPC's ID is known once the network exists.
		documents: func(i int) pulumi.StringInput {
			return a.VpcID.ToStringOutput().ApplyT(func(id string) string {
				known := s
				known.vpcID = id
				return security.Document(deployPolicies(known)[i].statements...)
			}).(pulumi.StringOutput)
		},
	}, pulumi.Parent(d))
	if err != nil {
		return fmt.Errorf("delivery: %w", err)
	}
	previews := previewPolicies(s)
	preview, err := newPipelineRole(ctx, pipelineRoleArgs{
		name:        a.Env.Name("preview"),
		description: fmt.Sprintf("Read-only pulumi preview of %s for pull requests, from the %s-preview environment of %s", a.Env.Prefix, a.Stack, repo),
		trust:       trustOf(previewSubject(repo, a.Stack)),
		policies:    names(previews),
		documents:   func(i int) pulumi.StringInput { return pulumi.String(security.Document(previews[i].statements...)) },
	}, pulumi.Parent(d))
	if err != nil {
		return fmt.Errorf("delivery: %w", err)
	}
	d.DeployRoleArn, d.PreviewRoleArn, d.OidcProviderArn = deploy.Arn, preview.Arn, provider
	return nil
}

// newScope gathers what the policies name. The zone's ID is looked up by name, as the
// layers that write its records do.
func newScope(ctx *pulumi.Context, d *Delivery, a *DeliveryArgs) (scope, error) {
	s := scope{
		project:         a.Project,
		stack:           a.Stack,
		prefix:          a.Env.Prefix,
		env:             string(a.Env.Environment),
		account:         a.Env.AccountID,
		regions:         unique(append([]string{a.Env.Region, "us-east-1"}, a.Regions...)...),
		asgName:         a.AsgName,
		frontendBucket:  a.FrontendBucket,
		artifactsBucket: a.ArtifactsBucket,
		hostnames:       unique(a.Hostnames...),
		emailIdentity:   a.EmailIdentity,
		delegatedZone:   a.DelegatedZone,
		disposable:      !a.Env.Protected,
		boundary:        boundaryArn(a.Env.Prefix, a.Env.AccountID),
	}
	if a.EmailDomain != "" {
		s.emailDomain, s.mailFrom = a.EmailDomain, a.MailFrom
	}
	if a.Zone == "" {
		return s, nil
	}
	zone, err := route53.LookupZone(ctx, &route53.LookupZoneArgs{Name: pulumi.StringRef(a.Zone), PrivateZone: pulumi.BoolRef(false)}, pulumi.Parent(d))
	if err != nil {
		return s, fmt.Errorf("delivery: zone %s: %w", a.Zone, err)
	}
	s.zoneID = zone.ZoneId
	return s, nil
}
