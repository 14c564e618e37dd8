// Package compute is the backend tier: the Application Load Balancer, the EC2 Auto Scaling
// group that runs the backend container, and its image repository.
package compute

import (
	"fmt"
	"strings"

	"github.com/canalco/infra/env"
	"github.com/canalco/infra/logs"
	"github.com/canalco/infra/settings"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ComputeArgs are the inputs of the compute layer.
type ComputeArgs struct {
	Env      env.Env
	Settings settings.Compute
	Domain   settings.Domain
	// From the network layer.
	VpcID                  pulumi.StringInput
	PrivateSubnetIDs       pulumi.StringArrayInput
	AlbSecurityGroupID     pulumi.StringInput
	BackendSecurityGroupID pulumi.StringInput
	// AlbPort is 443, or 80 in a stack without a certificate (CloudFront's VPC origin reaches
	// the internal load balancer either way).
	AlbPort int
	// From the data layer. Nothing the launch template or the group takes waits for the
	// database instance: the secret exists before it (its ARN only, read by the migrations),
	// and the instances read the hosts from the parameters DatabaseParameter (the primary)
	// and DatabaseReadParameter (the replica, or the primary) at boot, waiting for them.
	DatabaseSecretArn     pulumi.StringInput
	DatabaseKeyArn        pulumi.StringInput
	DatabaseParameter     string
	DatabaseReadParameter string
	DatabaseName          string
	// DatabaseResourceID is the instance's DbiResourceId, which IAM database authentication
	// policies name; DatabaseReplicaResourceID the read replica's ("" without one).
	DatabaseResourceID        pulumi.StringInput
	DatabaseReplicaResourceID pulumi.StringInput
	// From the storage layer.
	AccessLogBucket string
	// AccessLogsReady is what the load balancer waits for: the log bucket and its policy, since
	// AWS refuses to enable access logs to a bucket ELB cannot write to yet.
	AccessLogsReady []pulumi.Resource
	// DocumentBuckets maps each data bucket's purpose to its name (the backend's environment);
	// DocumentBucketArns are the same buckets' ARNs (its instance role).
	DocumentBuckets    map[string]string
	DocumentBucketArns pulumi.StringArrayInput
	StorageKeyArn      pulumi.StringInput
	// AppSettings are further plain values the backend reads from its environment, by variable
	// name (the serverless layer's queue URLs and topic ARN).
	AppSettings map[string]string
}

// Compute is the compute layer's output.
type Compute struct {
	pulumi.ResourceState

	AlbArn               pulumi.StringOutput
	AlbArnSuffix         pulumi.StringOutput
	AlbDNSName           pulumi.StringOutput
	AlbZoneID            pulumi.StringOutput
	TargetGroupArnSuffix pulumi.StringOutput
	// APIOrigin is the hostname CloudFront uses for the API (Host and SNI) and
	// APIOriginProtocol how; CloudFront reaches the load balancer AlbArn through a VPC origin.
	APIOrigin         pulumi.StringOutput
	APIOriginProtocol string
	// AsgName is known before deployment (monitoring and the deploy scripts use it).
	AsgName          string
	EcrRepositoryURL pulumi.StringOutput
	InstanceRoleArn  pulumi.StringOutput
	// AppRoleArn is the backend application's role (the container's credentials), which the
	// queue and topic policies name.
	AppRoleArn pulumi.StringOutput
	// AppLogGroup receives the backend container's logs.
	AppLogGroup string
	// AgentParameter is the SSM parameter holding the instances' CloudWatch agent configuration.
	AgentParameter string
	// ReleaseParameter is the SSM parameter naming the running backend release (an image tag),
	// written by scripts/deploy-backend.sh and read at every boot.
	ReleaseParameter string
}

// NewCompute creates the compute layer.
func NewCompute(ctx *pulumi.Context, name string, args *ComputeArgs, opts ...pulumi.ResourceOption) (*Compute, error) {
	c := &Compute{}
	if err := ctx.RegisterComponentResource("canalco:compute:Compute", name, c, opts...); err != nil {
		return nil, err
	}
	if err := c.build(ctx, args); err != nil {
		return nil, fmt.Errorf("compute: %w", err)
	}
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"albArn":           c.AlbArn,
		"albDnsName":       c.AlbDNSName,
		"apiOrigin":        c.APIOrigin,
		"asgName":          pulumi.String(c.AsgName),
		"ecrRepositoryUrl": c.EcrRepositoryURL,
		"instanceRoleArn":  c.InstanceRoleArn,
		"appRoleArn":       c.AppRoleArn,
		"releaseParameter": pulumi.String(c.ReleaseParameter),
	})
}

func (c *Compute) build(ctx *pulumi.Context, a *ComputeArgs) error {
	e := a.Env
	c.AsgName, c.AppLogGroup = e.Name("backend"), e.Name("backend")
	// /canalco/<stack>/...: the prefix canalco-<stack> as a parameter path.
	path := "/" + strings.Replace(e.Prefix, "-", "/", 1)
	c.AgentParameter, c.ReleaseParameter = path+"/cloudwatch-agent", path+"/backend/release"
	parent := pulumi.Parent(c)

	repo, err := repository(ctx, a, parent)
	if err != nil {
		return err
	}
	c.EcrRepositoryURL = repo.RepositoryUrl
	if _, err := logs.NewGroup(ctx, c.AppLogGroup, c.AppLogGroup, e.Logs, parent); err != nil {
		return fmt.Errorf("log group: %w", err)
	}
	agent, err := agentParameter(ctx, a, c.AgentParameter, c.AppLogGroup, parent)
	if err != nil {
		return err
	}
	release, err := releaseParameter(ctx, a, c.ReleaseParameter, parent)
	if err != nil {
		return err
	}
	profile, err := c.instanceRole(ctx, a, repo, []*ssm.Parameter{agent, release}, parent)
	if err != nil {
		return err
	}
	targetGroup, err := c.loadBalancer(ctx, a, parent)
	if err != nil {
		return err
	}
	userData := bootScript(a, c, repo.RepositoryUrl)
	template, err := launchTemplate(ctx, a, profile, userData, parent)
	if err != nil {
		return err
	}
	return c.autoScaling(ctx, a, template, targetGroup, parent)
}
