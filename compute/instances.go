package compute

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/canalco/infra/security"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/autoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecr"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// AmazonLinuxAMI is the image of an architecture (settings.Arm64 or X8664), resolved by EC2
// at every launch, so new instances always boot the latest Amazon Linux 2023 and no AMI id is
// ever pinned in code. AWS publishes one public parameter per architecture.
func AmazonLinuxAMI(arch string) string {
	return "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-" + arch
}

// managedPolicies give the instances Session Manager and Run Command (no SSH anywhere) and let
// the CloudWatch agent publish metrics and logs.
var managedPolicies = map[string]string{
	"ssm":        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
	"cloudwatch": "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
}

// instanceRole creates the backend instances' role and instance profile: the host's own needs
// (image pull, Session Manager, the agent, the boot parameters, the master secret for the
// migrations run on the host) and assuming the application role, whose credentials the host
// hands to the container (appRole).
func (c *Compute) instanceRole(ctx *pulumi.Context, a *ComputeArgs, repo *ecr.Repository, parameters []*ssm.Parameter, parent pulumi.ResourceOption) (*iam.InstanceProfile, error) {
	name := a.Env.Name("backend-instance")
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		Name:        pulumi.String(name),
		Description: pulumi.String("Backend instances of " + a.Env.Prefix),
		// EC2 assumes the role for the instance itself; there is no other service acting on
		// the account's behalf, so no source-account condition applies.
		AssumeRolePolicy: pulumi.String(security.Document(security.Statement{
			Effect:    "Allow",
			Principal: map[string]any{"Service": "ec2.amazonaws.com"},
			Action:    []string{"sts:AssumeRole"},
		})),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("instance role: %w", err)
	}
	c.InstanceRoleArn = role.Arn
	keys := slices.Sorted(maps.Keys(managedPolicies))
	for _, k := range keys {
		if _, err := iam.NewRolePolicyAttachment(ctx, name+"-"+k, &iam.RolePolicyAttachmentArgs{
			Role: role.Name, PolicyArn: pulumi.String(managedPolicies[k]),
		}, parent); err != nil {
			return nil, fmt.Errorf("instance role %s policy: %w", k, err)
		}
	}
	if err := c.appRole(ctx, a, role, parent); err != nil {
		return nil, err
	}
	parameterArns := pulumi.StringArray{}
	for _, p := range parameters {
		parameterArns = append(parameterArns, p.Arn)
	}
	// The database's parameters by name: they are written once the database exists, and the
	// role (so the launch template and the group) must not wait for them.
	for _, name := range []string{a.DatabaseParameter, a.DatabaseReadParameter} {
		parameterArns = append(parameterArns, pulumi.Sprintf("arn:aws:ssm:%s:%s:parameter%s", a.Env.Region, a.Env.AccountID, name))
	}
	policy := pulumi.All(repo.Arn, a.DatabaseSecretArn, parameterArns, a.DatabaseKeyArn, c.AppRoleArn).ApplyT(func(v []any) string {
		return instancePolicy(a.Env.Region, v[0].(string), v[1].(string), v[2].([]string), v[3].(string), v[4].(string))
	}).(pulumi.StringOutput)
	if err := backendPolicy(ctx, name, role, policy, parent); err != nil {
		return nil, fmt.Errorf("instance role policy: %w", err)
	}
	profile, err := iam.NewInstanceProfile(ctx, name, &iam.InstanceProfileArgs{
		Name: pulumi.String(name),
		Role: role.Name,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("instance profile: %w", err)
	}
	return profile, nil
}

// appRole creates canalco-<env>-app, the backend application's role: only the instance role
// may assume it, and it holds only what the application does. The container cannot reach the
// instance metadata service (hop limit 1, bridge network), so these short-lived credentials,
// refreshed by the host, are all it has: never the master secret, the image pull or SSM.
func (c *Compute) appRole(ctx *pulumi.Context, a *ComputeArgs, instance *iam.Role, parent pulumi.ResourceOption) error {
	name := a.Env.Name("app")
	// The session is named after the instance it is issued to (i-…), so CloudTrail says which
	// instance's container made each call.
	trust := instance.Arn.ApplyT(func(arn string) string {
		return security.Document(security.Statement{
			Effect:    "Allow",
			Principal: map[string]any{"AWS": arn},
			Action:    []string{"sts:AssumeRole"},
			Condition: map[string]map[string]any{"StringLike": {"sts:RoleSessionName": "i-*"}},
		})
	}).(pulumi.StringOutput)
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		Name:             pulumi.String(name),
		Description:      pulumi.String("Backend application of " + a.Env.Prefix + ", assumed by its instances"),
		AssumeRolePolicy: trust,
	}, parent)
	if err != nil {
		return fmt.Errorf("application role: %w", err)
	}
	c.AppRoleArn = role.Arn
	policy := pulumi.All(a.DocumentBucketArns, a.StorageKeyArn, a.DatabaseResourceID, a.DatabaseReplicaResourceID).ApplyT(func(v []any) string {
		return appPolicy(v[0].([]string), v[1].(string), appUserArns(a, v[2].(string), v[3].(string)))
	}).(pulumi.StringOutput)
	if err := backendPolicy(ctx, name, role, policy, parent); err != nil {
		return fmt.Errorf("application role policy: %w", err)
	}
	return nil
}

// backendPolicy is a backend role's one inline policy, named "backend".
func backendPolicy(ctx *pulumi.Context, name string, role *iam.Role, policy pulumi.StringOutput, parent pulumi.ResourceOption) error {
	_, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{Name: pulumi.String("backend"), Role: role.Name, Policy: policy}, parent)
	return err
}

// appUserArns are the backend's database user as IAM database authentication names it on
// each instance (the replica has its own DbiResourceId; "" is no replica):
// arn:aws:rds-db:<region>:<account>:dbuser:<DbiResourceId>/<user> ("Creating and using an IAM
// policy for IAM database access", Amazon RDS User Guide).
func appUserArns(a *ComputeArgs, resourceIDs ...string) []string {
	var out []string
	for _, id := range resourceIDs {
		if id != "" {
			out = append(out, fmt.Sprintf("arn:aws:rds-db:%s:%s:dbuser:%s/%s", a.Env.Region, a.Env.AccountID, id, AppDatabaseUser))
		}
	}
	return out
}

// instancePolicy is what the boot and migration scripts do beyond the managed policies, on
// this stack's resources only.
func instancePolicy(region, repository, secret string, parameters []string, databaseKey, appRole string) string {
	return security.Document(
		// GetAuthorizationToken has no resource-level permissions: AWS accepts only "*". The
		// token alone pulls nothing; the next statement limits pulls to this repository.
		security.Allow("RegistryLogin", []string{"ecr:GetAuthorizationToken"}, []string{"*"}),
		// ListImages: the boot serves the placeholder only while the repository is empty.
		security.Allow("PullBackendImage", []string{"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:ListImages"}, []string{repository}),
		// The migration step reads the master secret when it runs (RDS rotates it), with the
		// key that encrypts it.
		security.Allow("ReadDatabaseSecret", []string{"secretsmanager:GetSecretValue"}, []string{secret}),
		security.Statement{
			Sid: "DecryptDatabaseSecret", Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{databaseKey},
			Condition: map[string]map[string]any{"StringEquals": {"kms:ViaService": "secretsmanager." + region + ".amazonaws.com"}},
		},
		// The agent's configuration, the running release and the database's hosts, read at boot.
		security.Allow("ReadBootParameters", []string{"ssm:GetParameter"}, parameters),
		// The credentials the host hands to the container.
		security.Allow("AssumeAppRole", []string{"sts:AssumeRole"}, []string{appRole}),
	)
}

// appPolicy is what the backend application does: documents, the database as its own user,
// and the documents' key. The queues and the topic name the role in their own policies.
func appPolicy(buckets []string, storageKey string, appDatabaseUsers []string) string {
	objects := make([]string, len(buckets))
	for i, b := range buckets {
		objects[i] = b + "/*"
	}
	return security.Document(
		// The backend signs in as its own user with IAM authentication tokens, never as master.
		security.Allow("ConnectAsAppUser", []string{"rds-db:connect"}, appDatabaseUsers),
		security.Allow("ListDocumentBuckets", []string{"s3:ListBucket"}, buckets),
		security.Allow("ReadWriteDocuments", []string{"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"}, objects),
		// The document buckets are SSE-KMS with the storage key.
		security.Allow("UseStorageKey", []string{"kms:Decrypt", "kms:GenerateDataKey"}, []string{storageKey}),
	)
}

// launchTemplate describes a backend instance.
func launchTemplate(ctx *pulumi.Context, a *ComputeArgs, profile *iam.InstanceProfile, userData pulumi.StringOutput, parent pulumi.ResourceOption) (*ec2.LaunchTemplate, error) {
	name := a.Env.Name("backend")
	tags := instanceTags(a, name)
	var specs ec2.LaunchTemplateTagSpecificationArray
	for _, kind := range []string{"instance", "volume", "network-interface"} {
		specs = append(specs, &ec2.LaunchTemplateTagSpecificationArgs{ResourceType: pulumi.String(kind), Tags: pulumi.ToStringMap(tags)})
	}
	lt, err := ec2.NewLaunchTemplate(ctx, name, &ec2.LaunchTemplateArgs{
		Name:               pulumi.String(name),
		Description:        pulumi.String("Backend instances of " + a.Env.Prefix),
		ImageId:            pulumi.String(AmazonLinuxAMI(a.Settings.Architecture)),
		InstanceType:       pulumi.String(a.Settings.InstanceType),
		IamInstanceProfile: &ec2.LaunchTemplateIamInstanceProfileArgs{Arn: profile.Arn},
		// EC2.3: the root volume is encrypted (the account's default EBS key).
		BlockDeviceMappings: ec2.LaunchTemplateBlockDeviceMappingArray{&ec2.LaunchTemplateBlockDeviceMappingArgs{
			DeviceName: pulumi.String("/dev/xvda"),
			Ebs: &ec2.LaunchTemplateBlockDeviceMappingEbsArgs{
				VolumeSize:          pulumi.Int(a.Settings.RootVolumeGb),
				VolumeType:          pulumi.String("gp3"),
				Encrypted:           pulumi.String("true"),
				DeleteOnTermination: pulumi.String("true"),
			},
		}},
		// Detailed monitoring: 1-minute EC2 metrics for scaling and alarms.
		Monitoring: &ec2.LaunchTemplateMonitoringArgs{Enabled: pulumi.Bool(true)},
		// EC2.9, EC2.25, AutoScaling.5: no public address; the instances leave through the NAT.
		NetworkInterfaces: ec2.LaunchTemplateNetworkInterfaceArray{&ec2.LaunchTemplateNetworkInterfaceArgs{
			DeviceIndex:              pulumi.Int(0),
			AssociatePublicIpAddress: pulumi.String("false"),
			SecurityGroups:           pulumi.StringArray{a.BackendSecurityGroupID},
			DeleteOnTermination:      pulumi.String("true"),
		}},
		// EC2.8, EC2.170, AutoScaling.3: IMDSv2 only, and one hop: the token's response does not
		// survive the hop into a container on Docker's bridge, so containers cannot reach the
		// instance's credentials (EC2 User Guide, "Configure the instance metadata options").
		MetadataOptions: &ec2.LaunchTemplateMetadataOptionsArgs{
			HttpEndpoint:            pulumi.String("enabled"),
			HttpTokens:              pulumi.String("required"),
			HttpPutResponseHopLimit: pulumi.Int(1),
			HttpProtocolIpv6:        pulumi.String("disabled"),
			InstanceMetadataTags:    pulumi.String("enabled"),
		},
		TagSpecifications:    specs,
		UserData:             userData,
		UpdateDefaultVersion: pulumi.Bool(true),
		Tags:                 pulumi.StringMap{"Name": pulumi.String(name)},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("launch template: %w", err)
	}
	return lt, nil
}

// groupMetrics are the group metrics published every minute (monitoring uses
// GroupInServiceInstances).
var groupMetrics = []string{
	"GroupMinSize", "GroupMaxSize", "GroupDesiredCapacity", "GroupInServiceInstances",
	"GroupPendingInstances", "GroupStandbyInstances", "GroupTerminatingInstances", "GroupTotalInstances",
}

// autoScaling creates the group and its CPU target-tracking policy.
func (c *Compute) autoScaling(ctx *pulumi.Context, a *ComputeArgs, lt *ec2.LaunchTemplate, targetGroup pulumi.StringOutput, parent pulumi.ResourceOption) error {
	s := a.Settings
	var overrides autoscaling.GroupMixedInstancesPolicyLaunchTemplateOverrideArray
	for _, t := range s.InstanceTypes() {
		overrides = append(overrides, &autoscaling.GroupMixedInstancesPolicyLaunchTemplateOverrideArgs{InstanceType: pulumi.String(t)})
	}
	var tags autoscaling.GroupTagArray
	groupTags := instanceTags(a, c.AsgName)
	for _, k := range slices.Sorted(maps.Keys(groupTags)) {
		tags = append(tags, &autoscaling.GroupTagArgs{Key: pulumi.String(k), Value: pulumi.String(groupTags[k]), PropagateAtLaunch: pulumi.Bool(true)})
	}
	group, err := autoscaling.NewGroup(ctx, c.AsgName, &autoscaling.GroupArgs{
		Name: pulumi.String(c.AsgName),
		// AutoScaling.2: the private subnet of every AZ.
		VpcZoneIdentifiers: a.PrivateSubnetIDs,
		MinSize:            pulumi.Int(s.MinSize),
		MaxSize:            pulumi.Int(s.MaxSize),
		// Set once at creation; afterwards it belongs to the scaling policy (ignoreChanges).
		DesiredCapacity: pulumi.Int(s.MinSize),
		// AutoScaling.1: the load balancer's health check decides, after a boot's grace period.
		HealthCheckType:        pulumi.String("ELB"),
		HealthCheckGracePeriod: pulumi.Int(300),
		DefaultInstanceWarmup:  pulumi.Int(180),
		TargetGroupArns:        pulumi.StringArray{targetGroup},
		// AutoScaling.9 and AutoScaling.6: a launch template, pinned to its latest version
		// (never $Latest: a refresh does not start on it), and two instance types of the same
		// size, on demand, in the configured order.
		MixedInstancesPolicy: &autoscaling.GroupMixedInstancesPolicyArgs{
			InstancesDistribution: &autoscaling.GroupMixedInstancesPolicyInstancesDistributionArgs{
				OnDemandAllocationStrategy:          pulumi.String("prioritized"),
				OnDemandBaseCapacity:                pulumi.Int(0),
				OnDemandPercentageAboveBaseCapacity: pulumi.Int(100),
			},
			LaunchTemplate: &autoscaling.GroupMixedInstancesPolicyLaunchTemplateArgs{
				LaunchTemplateSpecification: &autoscaling.GroupMixedInstancesPolicyLaunchTemplateLaunchTemplateSpecificationArgs{
					LaunchTemplateId: lt.ID(),
					Version:          lt.LatestVersion.ApplyT(strconv.Itoa).(pulumi.StringOutput),
				},
				Overrides: overrides,
			},
		},
		// A new template version (image tag, user data, instance type) rolls the instances:
		// each replacement launches and passes its health check before an old one terminates.
		InstanceRefresh: &autoscaling.GroupInstanceRefreshArgs{
			Strategy: pulumi.String("Rolling"),
			Preferences: &autoscaling.GroupInstanceRefreshPreferencesArgs{
				MinHealthyPercentage: pulumi.Int(100),
				MaxHealthyPercentage: pulumi.Int(200),
				SkipMatching:         pulumi.Bool(true),
				// AWS cannot roll back to a template whose AMI is an SSM parameter, and the
				// provider saves the new version on the group before the refresh starts; the
				// release script rolls back instead (docs/compute.md).
				AutoRollback: pulumi.Bool(false),
			},
			// Tags reach instances only at launch: a tag change refreshes them too.
			Triggers: pulumi.StringArray{pulumi.String("tag")},
		},
		// Replacements for failed or rebalanced instances also launch before terminating.
		InstanceMaintenancePolicy: &autoscaling.GroupInstanceMaintenancePolicyArgs{
			MinHealthyPercentage: pulumi.Int(100),
			MaxHealthyPercentage: pulumi.Int(200),
		},
		// Instances older than 30 days are replaced, so they boot the newest AMI regularly.
		MaxInstanceLifetime: pulumi.Int(30 * 24 * 3600),
		CapacityRebalance:   pulumi.Bool(true),
		EnabledMetrics:      pulumi.ToStringArray(groupMetrics),
		MetricsGranularity:  pulumi.String("1Minute"),
		Tags:                tags,
	}, parent, pulumi.IgnoreChanges([]string{"desiredCapacity"}))
	if err != nil {
		return fmt.Errorf("auto scaling group: %w", err)
	}
	// Seed: scale out above 80% CPU. Tracking a lower average adds instances before the
	// group gets there and removes them when the load falls.
	if _, err := autoscaling.NewPolicy(ctx, c.AsgName+"-cpu", &autoscaling.PolicyArgs{
		Name:                 pulumi.String(c.AsgName + "-cpu"),
		AutoscalingGroupName: group.Name,
		PolicyType:           pulumi.String("TargetTrackingScaling"),
		TargetTrackingConfiguration: &autoscaling.PolicyTargetTrackingConfigurationArgs{
			PredefinedMetricSpecification: &autoscaling.PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs{
				PredefinedMetricType: pulumi.String("ASGAverageCPUUtilization"),
			},
			TargetValue:    pulumi.Float64(float64(s.CPUTargetPercent)),
			DisableScaleIn: pulumi.Bool(false),
		},
	}, parent); err != nil {
		return fmt.Errorf("scaling policy: %w", err)
	}
	return c.sleep(ctx, a, group, parent)
}

// sleep scales a sleeping stack's group to zero at the end of office days and back to its
// minimum at their start, with the group's own scheduled actions: they take a time zone, need
// no role, and the Friday evening action lasts until Monday morning. Terminated instances take
// their volumes with them, so EBS is billed only while awake.
func (c *Compute) sleep(ctx *pulumi.Context, a *ComputeArgs, group *autoscaling.Group, parent pulumi.ResourceOption) error {
	s, o := a.Settings, a.Settings.Office
	if !o.Sleep {
		return nil
	}
	for _, action := range []struct {
		name          string
		hour          int
		min, max, cap int
	}{
		{"wake", o.Start, s.MinSize, s.MaxSize, s.MinSize},
		{"sleep", o.End, 0, 0, 0},
	} {
		name := c.AsgName + "-" + action.name
		if _, err := autoscaling.NewSchedule(ctx, name, &autoscaling.ScheduleArgs{
			ScheduledActionName:  pulumi.String(name),
			AutoscalingGroupName: group.Name,
			Recurrence:           pulumi.String(o.UnixCron(action.hour)),
			TimeZone:             pulumi.String(o.Timezone),
			MinSize:              pulumi.Int(action.min),
			MaxSize:              pulumi.Int(action.max),
			DesiredCapacity:      pulumi.Int(action.cap),
		}, parent); err != nil {
			return fmt.Errorf("%s schedule: %w", action.name, err)
		}
	}
	return nil
}

// instanceTags are the platform's tags plus the Name the EC2 console shows.
func instanceTags(a *ComputeArgs, name string) map[string]string {
	tags := map[string]string{"Name": name}
	for k, v := range a.Env.Tags {
		tags[k] = v
	}
	return tags
}
