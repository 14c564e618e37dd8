// Package platform composes the Canalco platform: it reads the stack's settings and wires the
// layers together, each a component whose exported fields are the only way layers talk.
// Each layer's wiring lives in its own file here (network.go, data.go, ...).
package platform

import (
	"fmt"

	"github.com/canalco/infra/compute"
	"github.com/canalco/infra/data"
	"github.com/canalco/infra/delivery"
	"github.com/canalco/infra/env"
	"github.com/canalco/infra/logs"
	"github.com/canalco/infra/monitoring"
	"github.com/canalco/infra/network"
	"github.com/canalco/infra/security"
	"github.com/canalco/infra/serverless"
	"github.com/canalco/infra/settings"
	"github.com/canalco/infra/storage"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Deploy is the Pulumi program: `pulumi up`, the tests and the offline plan all run it.
func Deploy(ctx *pulumi.Context) error {
	s, err := settings.Load(ctx)
	if err != nil {
		return err
	}
	p := &platform{ctx: ctx, s: s}
	for _, step := range []func() error{
		p.foundation, p.deployBoundary, p.deployNetwork, p.deployData, p.deployBuckets, p.deployCompute, p.deployCdn, p.deployServerless, p.deployMonitoring, p.deployDelivery, p.exports,
	} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// platform carries the layers built so far to the ones that need them.
type platform struct {
	ctx *pulumi.Context
	s   *settings.Settings
	env env.Env
	// opts puts every layer on the stack's provider, so default tags reach every resource.
	opts []pulumi.ResourceOption
	// identityOpts put the pipeline identities and the boundary on a provider whose default
	// tags depend on the stack's name alone: a new cost centre must not make CI retag the
	// identity it runs as, which it may not change.
	identityOpts []pulumi.ResourceOption

	net        *network.Network
	db         *data.Database
	buckets    *storage.Buckets
	compute    *compute.Compute
	cdn        *storage.CDN
	serverless *serverless.Serverless
	monitoring *monitoring.Monitoring
	delivery   *delivery.Delivery
	boundary   *delivery.Boundary
}

// foundation creates the providers and the logs key every layer uses.
func (p *platform) foundation() error {
	s := p.s
	// Default tags put Project, Environment, ManagedBy and CostCenter on every resource that
	// takes tags, so no layer can forget them.
	tagMap := map[string]string{
		"Project":     s.Project,
		"Environment": string(s.Environment),
		"ManagedBy":   "pulumi",
		"CostCenter":  s.CostCenter,
	}
	tags := &aws.ProviderDefaultTagsArgs{Tags: pulumi.ToStringMap(tagMap)}
	// Explicit providers do not read the stack's aws: keys: each gets the stack's one account,
	// so the real provider refuses credentials of any other.
	allowed := pulumi.ToStringArray([]string{s.AccountID})
	provider, err := aws.NewProvider(p.ctx, "aws", &aws.ProviderArgs{Region: pulumi.String(s.Region), DefaultTags: tags, AllowedAccountIds: allowed})
	if err != nil {
		return fmt.Errorf("platform: provider: %w", err)
	}
	// The program checks too, before anything else, so the offline plan refuses alike.
	caller, err := aws.GetCallerIdentity(p.ctx, nil, pulumi.Provider(provider))
	if err != nil {
		return fmt.Errorf("platform: account: %w", err)
	}
	if caller.AccountId != s.AccountID {
		return fmt.Errorf("platform: the credentials are for account %s, but Pulumi.%s.yaml names account %s (aws:allowedAccountIds): nothing was created; sign in to %s's account, or correct aws:allowedAccountIds if this is its account", caller.AccountId, s.Stack, s.AccountID, s.Stack)
	}
	// CloudFront takes certificates and web ACLs only from us-east-1.
	usEast1, err := aws.NewProvider(p.ctx, "aws-us-east-1", &aws.ProviderArgs{Region: pulumi.String("us-east-1"), DefaultTags: tags, AllowedAccountIds: allowed})
	if err != nil {
		return fmt.Errorf("platform: us-east-1 provider: %w", err)
	}
	p.opts = []pulumi.ResourceOption{pulumi.Providers(provider)}
	identity, err := aws.NewProvider(p.ctx, "aws-identity", &aws.ProviderArgs{
		Region:            pulumi.String(s.Region),
		AllowedAccountIds: allowed,
		DefaultTags: &aws.ProviderDefaultTagsArgs{Tags: pulumi.StringMap{
			"Project": pulumi.String(tagMap["Project"]), "Environment": pulumi.String(tagMap["Environment"]), "ManagedBy": pulumi.String(tagMap["ManagedBy"]),
		}},
	})
	if err != nil {
		return fmt.Errorf("platform: identity provider: %w", err)
	}
	p.identityOpts = []pulumi.ResourceOption{pulumi.Providers(identity)}
	p.env = env.Env{
		Prefix:      s.Prefix(),
		Environment: s.Environment,
		Region:      s.Region,
		AccountID:   caller.AccountId,
		Protected:   s.Protected(),
		Tags:        tagMap,
		USEast1:     usEast1,
	}
	logsKey, err := security.NewKey(p.ctx, p.env.Name("logs"), &security.KeyArgs{
		Alias:       p.env.Name("logs"),
		Description: "Encrypts the CloudWatch log groups of " + p.env.Prefix,
		AccountID:   p.env.AccountID,
		Statements:  []security.Statement{security.LogsUse(s.Region, p.env.AccountID)},
		Protect:     p.env.Protected,
	}, p.opts...)
	if err != nil {
		return fmt.Errorf("platform: %w", err)
	}
	p.env.Logs = logs.Settings{RetentionDays: s.Network.LogRetentionDays, KmsKeyArn: logsKey.Arn}
	return nil
}

// exports are the stack outputs people and pipelines read with `pulumi stack output`.
func (p *platform) exports() error {
	for name, v := range map[string]pulumi.Input{
		"environment":        pulumi.String(string(p.s.Environment)),
		"region":             pulumi.String(p.s.Region),
		"vpcId":              p.net.VpcID,
		"dbEndpoint":         p.db.Endpoint,
		"dbSecretArn":        p.db.SecretArn,
		"dbPort":             p.db.Port,
		"dbName":             pulumi.String(p.db.DatabaseName),
		"dbKeyArn":           p.db.KeyArn,
		"albDnsName":         p.compute.AlbDNSName,
		"asgName":            pulumi.String(p.compute.AsgName),
		"ecrRepositoryUrl":   p.compute.EcrRepositoryURL,
		"releaseParameter":   pulumi.String(p.compute.ReleaseParameter),
		"frontendBucketName": pulumi.String(p.buckets.Frontend.Name),
		"cdnDistributionId":  p.cdn.DistributionID,
		"appUrl":             p.cdn.AppURL,
		"auditQueueUrl":      p.serverless.AuditQueueURL,
		"reportsQueueUrl":    p.serverless.ReportsQueueURL,
		"eventsTopicArn":     p.serverless.EventsTopicArn,
		"emailDnsRecords":    p.serverless.DNSRecords,
		"alarmTopicArn":      p.monitoring.AlarmTopicArn,
		"deployRoleArn":      p.delivery.DeployRoleArn,
		"previewRoleArn":     p.delivery.PreviewRoleArn,
		"oidcProviderArn":    p.delivery.OidcProviderArn,
		"adminsGroupName":    p.delivery.AdminsGroupName,
	} {
		p.ctx.Export(name, v)
	}
	return nil
}
