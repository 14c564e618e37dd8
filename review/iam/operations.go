package iamcheck

// Operation is what `pulumi up` calls for one resource type: the IAM actions of its create,
// read, update and delete ("action arn" when a call names another resource than ARN), read from the resource's implementation in
// hashicorp/terraform-provider-aws (Source, under internal/service/), which the Pulumi AWS
// provider runs. ARN is the resource the calls name: {region}, {account}, and any other
// {key} is the resource's input (or, failing that, output) of that name. Tagged creates
// carry the provider's default tags in the request (aws:RequestTag, aws:TagKeys); the other
// calls see them on the resource (aws:ResourceTag).
type Operation struct {
	Source                       string
	ARN                          string
	Create, Read, Update, Delete []string
	// Tagged: the resource takes tags, so its first create call and its tagging calls carry
	// the default tags in the request, and later calls see them on the resource. OnTagged: the
	// calls name a tagged parent (a backup plan), whose tags they see.
	Tagged, OnTagged bool
	// Adopted: AWS made the resource, untagged, and the create adopts it, so no create call
	// sees tags on it.
	Adopted bool
	// PassRole is the input holding the role (ARN or name) the create and update hand to a
	// service, and Service that service.
	PassRole, Service string
}

// deliverySource is the ARN of a log delivery's source, by name.
const deliverySource = "arn:aws:logs:{region}:{account}:delivery-source:{deliverySourceName}"

// dnsChange is a Route 53 change, whose status a record's create, update and delete wait on.
const dnsChange = "arn:aws:route53:::change/C2682N5HXP0BZ4"

// Operations is the table of every resource type the program registers. A test fails naming
// any registered type missing here: add its row, with the provider file it was read from.
var Operations = map[string]Operation{
	// EC2 and VPC.
	"aws:ec2/vpc:Vpc": {Source: "ec2/vpc_.go", ARN: "arn:aws:ec2:{region}:{account}:vpc/{id}", Tagged: true,
		Create: []string{"ec2:CreateVpc", "ec2:CreateTags", "ec2:ModifyVpcAttribute"}, Read: []string{"ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:DescribeNetworkAcls", "ec2:DescribeRouteTables", "ec2:DescribeSecurityGroups"},
		Update: []string{"ec2:ModifyVpcAttribute", "ec2:CreateTags", "ec2:DeleteTags"}, Delete: []string{"ec2:DeleteVpc"}},
	"aws:ec2/subnet:Subnet": {Source: "ec2/vpc_subnet.go", ARN: "arn:aws:ec2:{region}:{account}:subnet/{id}", Tagged: true,
		Create: []string{"ec2:CreateSubnet", "ec2:CreateTags", "ec2:ModifySubnetAttribute"}, Read: []string{"ec2:DescribeSubnets"},
		Update: []string{"ec2:ModifySubnetAttribute", "ec2:CreateTags", "ec2:DeleteTags"}, Delete: []string{"ec2:DescribeNetworkInterfaces", "ec2:DeleteSubnet"}},
	"aws:ec2/routeTable:RouteTable": {Source: "ec2/vpc_route_table.go", ARN: "arn:aws:ec2:{region}:{account}:route-table/{id}", Tagged: true,
		Create: []string{"ec2:CreateRouteTable", "ec2:CreateTags"}, Read: []string{"ec2:DescribeRouteTables"},
		Update: []string{"ec2:CreateTags", "ec2:DeleteTags"}, Delete: []string{"ec2:DisassociateRouteTable", "ec2:DeleteRouteTable"}},
	"aws:ec2/route:Route": {Source: "ec2/vpc_route.go", ARN: "arn:aws:ec2:{region}:{account}:route-table/{routeTableId}", OnTagged: true,
		Create: []string{"ec2:CreateRoute"}, Read: []string{"ec2:DescribeRouteTables"}, Update: []string{"ec2:ReplaceRoute"}, Delete: []string{"ec2:DeleteRoute"}},
	"aws:ec2/routeTableAssociation:RouteTableAssociation": {Source: "ec2/vpc_route_table_association.go", ARN: "arn:aws:ec2:{region}:{account}:route-table/{routeTableId}", OnTagged: true,
		Create: []string{"ec2:AssociateRouteTable"}, Read: []string{"ec2:DescribeRouteTables"}, Update: []string{"ec2:ReplaceRouteTableAssociation"}, Delete: []string{"ec2:DisassociateRouteTable"}},
	"aws:ec2/internetGateway:InternetGateway": {Source: "ec2/vpc_internet_gateway.go", ARN: "arn:aws:ec2:{region}:{account}:internet-gateway/{id}", Tagged: true,
		Create: []string{"ec2:CreateInternetGateway", "ec2:CreateTags", "ec2:AttachInternetGateway"}, Read: []string{"ec2:DescribeInternetGateways"},
		Update: []string{"ec2:DetachInternetGateway", "ec2:AttachInternetGateway", "ec2:CreateTags", "ec2:DeleteTags"}, Delete: []string{"ec2:DetachInternetGateway", "ec2:DeleteInternetGateway"}},
	"aws:ec2/natGateway:NatGateway": {Source: "ec2/vpc_nat_gateway.go", ARN: "arn:aws:ec2:{region}:{account}:natgateway/{id}", Tagged: true,
		Create: []string{"ec2:CreateNatGateway", "ec2:CreateTags"}, Read: []string{"ec2:DescribeNatGateways"},
		Update: []string{"ec2:CreateTags", "ec2:DeleteTags"}, Delete: []string{"ec2:DeleteNatGateway"}},
	"aws:ec2/eip:Eip": {Source: "ec2/ec2_eip.go", ARN: "arn:aws:ec2:{region}:{account}:elastic-ip/{id}", Tagged: true,
		Create: []string{"ec2:AllocateAddress", "ec2:CreateTags"}, Read: []string{"ec2:DescribeAddresses", "ec2:DescribeAddressesAttribute"},
		Update: []string{"ec2:CreateTags", "ec2:DeleteTags"}, Delete: []string{"ec2:DisassociateAddress", "ec2:ReleaseAddress"}},
	"aws:ec2/securityGroup:SecurityGroup": {Source: "ec2/vpc_security_group.go", ARN: "arn:aws:ec2:{region}:{account}:security-group/{id}", Tagged: true,
		Create: []string{"ec2:CreateSecurityGroup", "ec2:CreateTags", "ec2:RevokeSecurityGroupEgress"}, Read: []string{"ec2:DescribeSecurityGroups"},
		Update: []string{"ec2:CreateTags", "ec2:DeleteTags"}, Delete: []string{"ec2:DescribeNetworkInterfaces", "ec2:DeleteSecurityGroup"}},
	"aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": {Source: "ec2/vpc_default_security_group.go", ARN: "arn:aws:ec2:{region}:{account}:security-group/{id}", Tagged: true, Adopted: true,
		// Adopting the default group changes it: tags and emptied rules, no creation.
		Create: []string{"ec2:DescribeSecurityGroups", "ec2:CreateTags", "ec2:DescribeSecurityGroupRules", "ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress"},
		Read:   []string{"ec2:DescribeSecurityGroups"}, Update: []string{"ec2:CreateTags", "ec2:DeleteTags"}, Delete: []string{}},
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {Source: "ec2/vpc_security_group_ingress_rule.go", ARN: "arn:aws:ec2:{region}:{account}:security-group/{securityGroupId}", Tagged: true,
		// The rule's tags are on the rule (security-group-rule/<id>), not on its group.
		Create: []string{"ec2:AuthorizeSecurityGroupIngress", "ec2:CreateTags {arn}"}, Read: []string{"ec2:DescribeSecurityGroupRules"},
		Update: []string{"ec2:ModifySecurityGroupRules", "ec2:CreateTags {arn}", "ec2:DeleteTags {arn}"}, Delete: []string{"ec2:RevokeSecurityGroupIngress"}},
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": {Source: "ec2/vpc_security_group_egress_rule.go", ARN: "arn:aws:ec2:{region}:{account}:security-group/{securityGroupId}", Tagged: true,
		// The rule's tags are on the rule (security-group-rule/<id>), not on its group.
		Create: []string{"ec2:AuthorizeSecurityGroupEgress", "ec2:CreateTags {arn}"}, Read: []string{"ec2:DescribeSecurityGroupRules"},
		Update: []string{"ec2:ModifySecurityGroupRules", "ec2:CreateTags {arn}", "ec2:DeleteTags {arn}"}, Delete: []string{"ec2:RevokeSecurityGroupEgress"}},
	"aws:ec2/vpcEndpoint:VpcEndpoint": {Source: "ec2/vpc_endpoint.go", ARN: "arn:aws:ec2:{region}:{account}:vpc-endpoint/{id}", Tagged: true,
		Create: []string{"ec2:CreateVpcEndpoint", "ec2:CreateTags"}, Read: []string{"ec2:DescribeVpcEndpoints", "ec2:DescribePrefixLists"},
		Update: []string{"ec2:ModifyVpcEndpoint", "ec2:CreateTags", "ec2:DeleteTags"}, Delete: []string{"ec2:DeleteVpcEndpoints"}},
	"aws:ec2/flowLog:FlowLog": {Source: "ec2/vpc_flow_log.go", ARN: "arn:aws:ec2:{region}:{account}:vpc-flow-log/{id}", Tagged: true,
		PassRole: "iamRoleArn", Service: "vpc-flow-logs.amazonaws.com",
		Create: []string{"ec2:CreateFlowLogs", "ec2:CreateTags"}, Read: []string{"ec2:DescribeFlowLogs"},
		Update: []string{"ec2:CreateTags", "ec2:DeleteTags"}, Delete: []string{"ec2:DeleteFlowLogs"}},
	"aws:ec2/launchTemplate:LaunchTemplate": {Source: "ec2/ec2_launch_template.go", ARN: "arn:aws:ec2:{region}:{account}:launch-template/{id}", Tagged: true,
		Create: []string{"ec2:CreateLaunchTemplate", "ec2:CreateTags"}, Read: []string{"ec2:DescribeLaunchTemplates", "ec2:DescribeLaunchTemplateVersions"},
		Update: []string{"ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate", "ec2:CreateTags", "ec2:DeleteTags"}, Delete: []string{"ec2:DeleteLaunchTemplate"}},

	// Load balancing and Auto Scaling.
	"aws:lb/loadBalancer:LoadBalancer": {Source: "elbv2/load_balancer.go", ARN: "{arn}", Tagged: true,
		Create: []string{"elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:AddTags", "elasticloadbalancing:ModifyLoadBalancerAttributes"},
		Read:   []string{"elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes", "elasticloadbalancing:DescribeTags", "elasticloadbalancing:DescribeCapacityReservation"},
		Update: []string{"elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets", "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"},
		Delete: []string{"elasticloadbalancing:DeleteLoadBalancer", "ec2:DescribeNetworkInterfaces"}},
	"aws:lb/targetGroup:TargetGroup": {Source: "elbv2/target_group.go", ARN: "{arn}", Tagged: true,
		Create: []string{"elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:AddTags", "elasticloadbalancing:ModifyTargetGroupAttributes"},
		Read:   []string{"elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetGroupAttributes", "elasticloadbalancing:DescribeTags"},
		Update: []string{"elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"},
		Delete: []string{"elasticloadbalancing:DeleteTargetGroup"}},
	"aws:lb/listener:Listener": {Source: "elbv2/listener.go", ARN: "{arn}", Tagged: true,
		Create: []string{"elasticloadbalancing:CreateListener {loadBalancerArn}", "elasticloadbalancing:AddTags"},
		Read:   []string{"elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeListenerAttributes", "elasticloadbalancing:DescribeTags"},
		Update: []string{"elasticloadbalancing:ModifyListener", "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"},
		Delete: []string{"elasticloadbalancing:DeleteListener"}},
	"aws:lb/listenerRule:ListenerRule": {Source: "elbv2/listener_rule.go", ARN: "{arn}", Tagged: true,
		Create: []string{"elasticloadbalancing:CreateRule {listenerArn}", "elasticloadbalancing:AddTags"},
		Read:   []string{"elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTags"},
		Update: []string{"elasticloadbalancing:ModifyRule", "elasticloadbalancing:SetRulePriorities", "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"},
		Delete: []string{"elasticloadbalancing:DeleteRule"}},
	"aws:autoscaling/group:Group": {Source: "autoscaling/group.go", ARN: "arn:aws:autoscaling:{region}:{account}:autoScalingGroup:8e9a6b4c-0000-4000-8000-000000000000:autoScalingGroupName/{name}", Tagged: true,
		// The launch check of a create or update (ec2:RunInstances...) is in iam_test.go's launch.
		// Create and capacity changes wait for the group's capacity (wait_for_capacity_timeout).
		Create: []string{"autoscaling:CreateAutoScalingGroup", "autoscaling:CreateOrUpdateTags", "autoscaling:EnableMetricsCollection",
			"autoscaling:DescribeScalingActivities", "elasticloadbalancing:DescribeTargetHealth"},
		Read: []string{"autoscaling:DescribeAutoScalingGroups"},
		// A replaced target group is detached and the new one attached; a refresh still
		// running is cancelled before a new one starts.
		Update: []string{"autoscaling:UpdateAutoScalingGroup", "autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags",
			"autoscaling:DescribeScalingActivities", "elasticloadbalancing:DescribeTargetHealth",
			"autoscaling:AttachLoadBalancerTargetGroups", "autoscaling:DetachLoadBalancerTargetGroups", "autoscaling:DescribeLoadBalancerTargetGroups",
			"autoscaling:StartInstanceRefresh", "autoscaling:CancelInstanceRefresh", "autoscaling:DescribeInstanceRefreshes",
			"autoscaling:EnableMetricsCollection", "autoscaling:DisableMetricsCollection"},
		// The group is drained (sizes set to 0) before it is deleted.
		Delete: []string{"autoscaling:UpdateAutoScalingGroup", "autoscaling:DeleteAutoScalingGroup"}},
	"aws:autoscaling/policy:Policy": {Source: "autoscaling/policy.go", ARN: "arn:aws:autoscaling:{region}:{account}:autoScalingGroup:8e9a6b4c-0000-4000-8000-000000000000:autoScalingGroupName/{autoscalingGroupName}",
		Create: []string{"autoscaling:PutScalingPolicy"}, Read: []string{"autoscaling:DescribePolicies"}, Update: []string{"autoscaling:PutScalingPolicy"}, Delete: []string{"autoscaling:DeletePolicy"}},

	"aws:autoscaling/schedule:Schedule": {Source: "autoscaling/schedule.go", ARN: "arn:aws:autoscaling:{region}:{account}:autoScalingGroup:8e9a6b4c-0000-4000-8000-000000000000:autoScalingGroupName/{autoscalingGroupName}", OnTagged: true,
		Create: []string{"autoscaling:PutScheduledUpdateGroupAction"}, Read: []string{"autoscaling:DescribeScheduledActions"},
		Update: []string{"autoscaling:PutScheduledUpdateGroupAction"}, Delete: []string{"autoscaling:DeleteScheduledAction"}},
	// Database, keys and backups.
	"aws:rds/instance:Instance": {Source: "rds/instance.go", ARN: "arn:aws:rds:{region}:{account}:db:{identifier}", Tagged: true,
		PassRole: "monitoringRoleArn", Service: "monitoring.rds.amazonaws.com",
		// What RDS authorizes on other resources is in iam_test.go's extraCalls. A create sets
		// what CreateDBInstance cannot (the CA) with ModifyDBInstance; a delete refused for
		// deletion protection the config no longer has lifts it and retries.
		Create: []string{"rds:CreateDBInstance", "rds:AddTagsToResource", "rds:ModifyDBInstance"}, Read: []string{"rds:DescribeDBInstances"},
		Update: []string{"rds:ModifyDBInstance", "rds:AddTagsToResource", "rds:RemoveTagsFromResource"}, Delete: []string{"rds:DeleteDBInstance", "rds:ModifyDBInstance"}},
	"aws:rds/parameterGroup:ParameterGroup": {Source: "rds/parameter_group.go", ARN: "arn:aws:rds:{region}:{account}:pg:{name}", Tagged: true,
		Create: []string{"rds:CreateDBParameterGroup", "rds:AddTagsToResource", "rds:ModifyDBParameterGroup"}, Read: []string{"rds:DescribeDBParameterGroups", "rds:DescribeDBParameters", "rds:ListTagsForResource"},
		Update: []string{"rds:ModifyDBParameterGroup", "rds:ResetDBParameterGroup", "rds:AddTagsToResource", "rds:RemoveTagsFromResource"}, Delete: []string{"rds:DeleteDBParameterGroup"}},
	"aws:rds/subnetGroup:SubnetGroup": {Source: "rds/subnet_group.go", ARN: "arn:aws:rds:{region}:{account}:subgrp:{name}", Tagged: true,
		Create: []string{"rds:CreateDBSubnetGroup", "rds:AddTagsToResource"}, Read: []string{"rds:DescribeDBSubnetGroups", "rds:ListTagsForResource"},
		Update: []string{"rds:ModifyDBSubnetGroup", "rds:AddTagsToResource", "rds:RemoveTagsFromResource"}, Delete: []string{"rds:DeleteDBSubnetGroup"}},
	// The database's master secret, its first value and its rotation.
	"aws:secretsmanager/secret:Secret": {Source: "secretsmanager/secret.go", ARN: "{arn}", Tagged: true,
		Create: []string{"secretsmanager:CreateSecret", "secretsmanager:DescribeSecret"}, Read: []string{"secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy"},
		Update: []string{"secretsmanager:UpdateSecret", "secretsmanager:TagResource", "secretsmanager:UntagResource"}, Delete: []string{"secretsmanager:DeleteSecret", "secretsmanager:DescribeSecret"}},
	"aws:secretsmanager/secretVersion:SecretVersion": {Source: "secretsmanager/secret_version.go", ARN: "{secretId}", OnTagged: true,
		Create: []string{"secretsmanager:PutSecretValue"}, Read: []string{"secretsmanager:GetSecretValue"},
		Update: []string{"secretsmanager:UpdateSecretVersionStage"}, Delete: []string{"secretsmanager:UpdateSecretVersionStage", "secretsmanager:DescribeSecret"}},
	"aws:secretsmanager/secretRotation:SecretRotation": {Source: "secretsmanager/secret_rotation.go", ARN: "{secretId}", OnTagged: true,
		// RotateSecret also needs lambda:InvokeFunction on the function: iam_test.go's extraCalls.
		Create: []string{"secretsmanager:RotateSecret", "secretsmanager:DescribeSecret"}, Read: []string{"secretsmanager:DescribeSecret"},
		Update: []string{"secretsmanager:RotateSecret"}, Delete: []string{"secretsmanager:CancelRotateSecret"}},
	// The random provider computes the password locally: no AWS call.
	"random:index/randomPassword:RandomPassword": {Source: "terraform-provider-random: internal/provider/resource_password.go",
		Create: []string{}, Read: []string{}, Update: []string{}, Delete: []string{}},
	"aws:kms/key:Key": {Source: "kms/key.go", ARN: "arn:aws:kms:{region}:{account}:key/{keyId}", Tagged: true,
		Create: []string{"kms:CreateKey", "kms:TagResource", "kms:EnableKeyRotation"}, Read: []string{"kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"},
		Update: []string{"kms:PutKeyPolicy", "kms:UpdateKeyDescription", "kms:EnableKeyRotation", "kms:TagResource", "kms:UntagResource"}, Delete: []string{"kms:ScheduleKeyDeletion"}},
	"aws:kms/alias:Alias": {Source: "kms/alias.go", ARN: "arn:aws:kms:{region}:{account}:{name}",
		Create: []string{"kms:CreateAlias"}, Read: []string{"kms:ListAliases"}, Update: []string{"kms:UpdateAlias"}, Delete: []string{"kms:DeleteAlias"}},
	"aws:backup/vault:Vault": {Source: "backup/vault.go", ARN: "arn:aws:backup:{region}:{account}:backup-vault:{name}", Tagged: true,
		Create: []string{"backup:CreateBackupVault", "backup:TagResource", "backup-storage:MountCapsule"}, Read: []string{"backup:DescribeBackupVault", "backup:ListTags"},
		Update: []string{"backup:TagResource", "backup:UntagResource"}, Delete: []string{"backup:DeleteBackupVault"}},
	"aws:backup/vaultLockConfiguration:VaultLockConfiguration": {Source: "backup/vault_lock_configuration.go", ARN: "arn:aws:backup:{region}:{account}:backup-vault:{backupVaultName}", OnTagged: true,
		Create: []string{"backup:PutBackupVaultLockConfiguration"}, Read: []string{"backup:DescribeBackupVault"},
		Update: []string{}, Delete: []string{"backup:DeleteBackupVaultLockConfiguration"}},
	// AWS appends an ID to a restore testing plan's ARN; the selections' calls name their plan.
	"aws:backup/restoreTestingPlan:RestoreTestingPlan": {Source: "backup/restore_testing_plan.go", ARN: "arn:aws:backup:{region}:{account}:restore-testing-plan:{name}-a1b2c3d4", Tagged: true,
		Create: []string{"backup:CreateRestoreTestingPlan", "backup:TagResource"}, Read: []string{"backup:GetRestoreTestingPlan", "backup:ListTags"},
		Update: []string{"backup:UpdateRestoreTestingPlan", "backup:TagResource", "backup:UntagResource"}, Delete: []string{"backup:DeleteRestoreTestingPlan"}},
	"aws:backup/restoreTestingSelection:RestoreTestingSelection": {Source: "backup/restore_testing_selection.go", ARN: "arn:aws:backup:{region}:{account}:restore-testing-plan:{restoreTestingPlanName}-a1b2c3d4", OnTagged: true,
		PassRole: "iamRoleArn", Service: "backup.amazonaws.com",
		Create: []string{"backup:CreateRestoreTestingSelection"}, Read: []string{"backup:GetRestoreTestingSelection"},
		Update: []string{"backup:UpdateRestoreTestingSelection"}, Delete: []string{"backup:DeleteRestoreTestingSelection"}},
	"aws:backup/plan:Plan": {Source: "backup/plan.go", ARN: "arn:aws:backup:{region}:{account}:backup-plan:{id}", Tagged: true,
		Create: []string{"backup:CreateBackupPlan", "backup:TagResource"}, Read: []string{"backup:GetBackupPlan", "backup:ListTags"},
		Update: []string{"backup:UpdateBackupPlan", "backup:TagResource", "backup:UntagResource"}, Delete: []string{"backup:DeleteBackupPlan"}},
	"aws:backup/selection:Selection": {Source: "backup/selection.go", ARN: "arn:aws:backup:{region}:{account}:backup-plan:{planId}", OnTagged: true,
		PassRole: "iamRoleArn", Service: "backup.amazonaws.com",
		Create: []string{"backup:CreateBackupSelection"}, Read: []string{"backup:GetBackupSelection"}, Update: []string{}, Delete: []string{"backup:DeleteBackupSelection"}},
	"aws:ssm/parameter:Parameter": {Source: "ssm/parameter.go", ARN: "arn:aws:ssm:{region}:{account}:parameter{name}", Tagged: true,
		Create: []string{"ssm:PutParameter", "ssm:AddTagsToResource"}, Read: []string{"ssm:GetParameter", "ssm:DescribeParameters", "ssm:ListTagsForResource"},
		Update: []string{"ssm:PutParameter", "ssm:AddTagsToResource", "ssm:RemoveTagsFromResource"}, Delete: []string{"ssm:DeleteParameter"}},

	// Storage and the edge.
	"aws:s3/bucketV2:BucketV2": {Source: "s3/bucket.go", ARN: "arn:aws:s3:::{bucket}", Tagged: true,
		Create: []string{"s3:CreateBucket", "s3:PutBucketTagging"}, Read: []string{"s3:ListBucket", "s3:GetBucketTagging", "s3:GetBucketPolicy", "s3:GetBucketVersioning", "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration", "s3:GetBucketLogging", "s3:GetBucketCORS", "s3:GetReplicationConfiguration", "s3:GetBucketObjectLockConfiguration", "s3:GetAccelerateConfiguration", "s3:GetBucketRequestPayment", "s3:GetBucketWebsite", "s3:GetBucketAcl"},
		Update: []string{"s3:PutBucketTagging"}, Delete: []string{"s3:DeleteBucket"}},
	"aws:s3/bucketPolicy:BucketPolicy": {Source: "s3/bucket_policy.go", ARN: "arn:aws:s3:::{bucket}",
		Create: []string{"s3:PutBucketPolicy"}, Read: []string{"s3:GetBucketPolicy"}, Update: []string{"s3:PutBucketPolicy"}, Delete: []string{"s3:DeleteBucketPolicy"}},
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": {Source: "s3/bucket_public_access_block.go", ARN: "arn:aws:s3:::{bucket}",
		Create: []string{"s3:PutBucketPublicAccessBlock"}, Read: []string{"s3:GetBucketPublicAccessBlock"}, Update: []string{"s3:PutBucketPublicAccessBlock"}, Delete: []string{"s3:PutBucketPublicAccessBlock"}},
	"aws:s3/bucketOwnershipControls:BucketOwnershipControls": {Source: "s3/bucket_ownership_controls.go", ARN: "arn:aws:s3:::{bucket}",
		Create: []string{"s3:PutBucketOwnershipControls"}, Read: []string{"s3:GetBucketOwnershipControls"}, Update: []string{"s3:PutBucketOwnershipControls"}, Delete: []string{"s3:PutBucketOwnershipControls"}},
	"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": {Source: "s3/bucket_server_side_encryption_configuration.go", ARN: "arn:aws:s3:::{bucket}",
		Create: []string{"s3:PutEncryptionConfiguration"}, Read: []string{"s3:GetEncryptionConfiguration"}, Update: []string{"s3:PutEncryptionConfiguration"}, Delete: []string{"s3:PutEncryptionConfiguration"}},
	"aws:s3/bucketVersioningV2:BucketVersioningV2": {Source: "s3/bucket_versioning.go", ARN: "arn:aws:s3:::{bucket}",
		Create: []string{"s3:PutBucketVersioning"}, Read: []string{"s3:GetBucketVersioning"}, Update: []string{"s3:PutBucketVersioning"}, Delete: []string{"s3:PutBucketVersioning"}},
	"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2": {Source: "s3/bucket_lifecycle_configuration.go", ARN: "arn:aws:s3:::{bucket}",
		Create: []string{"s3:PutLifecycleConfiguration"}, Read: []string{"s3:GetLifecycleConfiguration"}, Update: []string{"s3:PutLifecycleConfiguration"}, Delete: []string{"s3:PutLifecycleConfiguration"}},
	"aws:s3/bucketLoggingV2:BucketLoggingV2": {Source: "s3/bucket_logging.go", ARN: "arn:aws:s3:::{bucket}",
		Create: []string{"s3:PutBucketLogging"}, Read: []string{"s3:GetBucketLogging"}, Update: []string{"s3:PutBucketLogging"}, Delete: []string{"s3:PutBucketLogging"}},
	"aws:s3/bucketCorsConfigurationV2:BucketCorsConfigurationV2": {Source: "s3/bucket_cors_configuration.go", ARN: "arn:aws:s3:::{bucket}",
		Create: []string{"s3:PutBucketCORS"}, Read: []string{"s3:GetBucketCORS"}, Update: []string{"s3:PutBucketCORS"}, Delete: []string{"s3:PutBucketCORS"}},
	"aws:s3/bucketObjectv2:BucketObjectv2": {Source: "s3/object.go", ARN: "arn:aws:s3:::{bucket}/{key}", Tagged: true,
		// A versioned bucket's object is deleted version by version (the provider's deleteAllObjectVersions).
		Create: []string{"s3:PutObject", "s3:PutObjectTagging"}, Read: []string{"s3:GetObject", "s3:GetObjectTagging"},
		Update: []string{"s3:PutObject", "s3:PutObjectTagging"}, Delete: []string{"s3:ListBucketVersions arn:aws:s3:::{bucket}", "s3:DeleteObjectVersion"}},
	"aws:cloudfront/distribution:Distribution": {Source: "cloudfront/distribution.go", ARN: "{arn}", Tagged: true,
		// The provider calls CreateDistributionWithTags, authorized as these two actions.
		Create: []string{"cloudfront:CreateDistribution", "cloudfront:TagResource"}, Read: []string{"cloudfront:GetDistribution", "cloudfront:ListTagsForResource"},
		// A distribution is disabled (UpdateDistribution) before it is deleted.
		Update: []string{"cloudfront:UpdateDistribution", "cloudfront:TagResource", "cloudfront:UntagResource"}, Delete: []string{"cloudfront:UpdateDistribution", "cloudfront:DeleteDistribution"}},
	// CreateFunction has no resource type: it is authorized on "*".
	"aws:cloudfront/function:Function": {Source: "cloudfront/function.go", ARN: "arn:aws:cloudfront::{account}:function/{name}",
		Create: []string{"cloudfront:CreateFunction *", "cloudfront:PublishFunction"}, Read: []string{"cloudfront:DescribeFunction", "cloudfront:GetFunction"},
		Update: []string{"cloudfront:UpdateFunction", "cloudfront:PublishFunction"}, Delete: []string{"cloudfront:DeleteFunction"}},
	"aws:cloudfront/originAccessControl:OriginAccessControl": {Source: "cloudfront/origin_access_control.go", ARN: "arn:aws:cloudfront::{account}:origin-access-control/E2QWRUHAPOMQZL",
		Create: []string{"cloudfront:CreateOriginAccessControl"}, Read: []string{"cloudfront:GetOriginAccessControl"},
		Update: []string{"cloudfront:UpdateOriginAccessControl"}, Delete: []string{"cloudfront:DeleteOriginAccessControl"}},
	"aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": {Source: "cloudfront/response_headers_policy.go", ARN: "arn:aws:cloudfront::{account}:response-headers-policy/67f7725c-6f97-4210-82d7-5512b31e9d03",
		Create: []string{"cloudfront:CreateResponseHeadersPolicy"}, Read: []string{"cloudfront:GetResponseHeadersPolicy"},
		Update: []string{"cloudfront:UpdateResponseHeadersPolicy"}, Delete: []string{"cloudfront:DeleteResponseHeadersPolicy"}},
	// CreateVpcOrigin has no resource type: it is authorized on "*".
	"aws:cloudfront/vpcOrigin:VpcOrigin": {Source: "cloudfront/vpc_origin.go", ARN: "arn:aws:cloudfront::{account}:vpcorigin/{id}", Tagged: true,
		Create: []string{"cloudfront:CreateVpcOrigin *", "cloudfront:TagResource"}, Read: []string{"cloudfront:GetVpcOrigin", "cloudfront:ListTagsForResource"},
		Update: []string{"cloudfront:UpdateVpcOrigin", "cloudfront:TagResource", "cloudfront:UntagResource"}, Delete: []string{"cloudfront:DeleteVpcOrigin"}},
	"aws:wafv2/ipSet:IpSet": {Source: "wafv2/ip_set.go", ARN: "arn:aws:wafv2:us-east-1:{account}:global/ipset/{name}/a1b2c3d4", Tagged: true,
		Create: []string{"wafv2:CreateIPSet", "wafv2:TagResource"}, Read: []string{"wafv2:GetIPSet", "wafv2:ListTagsForResource"},
		Update: []string{"wafv2:UpdateIPSet", "wafv2:TagResource", "wafv2:UntagResource"}, Delete: []string{"wafv2:DeleteIPSet"}},
	// WAF sets up its delivery to CloudWatch Logs as the caller (CloudWatch Logs User Guide, "Logs
	// sent to CloudWatch Logs": user permissions); the log group's resource policy is the stack's.
	"aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": {Source: "wafv2/web_acl_logging_configuration.go", ARN: "{resourceArn}",
		Create: []string{"wafv2:PutLoggingConfiguration", "logs:CreateLogDelivery *", "logs:DescribeResourcePolicies *", "logs:DescribeLogGroups *"},
		Read:   []string{"wafv2:GetLoggingConfiguration"},
		Update: []string{"wafv2:PutLoggingConfiguration", "logs:CreateLogDelivery *"}, Delete: []string{"wafv2:DeleteLoggingConfiguration", "logs:DeleteLogDelivery *"}},
	"aws:cloudwatch/logResourcePolicy:LogResourcePolicy": {Source: "logs/resource_policy.go", ARN: "*",
		Create: []string{"logs:PutResourcePolicy"}, Read: []string{"logs:DescribeResourcePolicies"},
		Update: []string{"logs:PutResourcePolicy"}, Delete: []string{"logs:DeleteResourcePolicy"}},
	"aws:wafv2/webAcl:WebAcl": {Source: "wafv2/web_acl.go", ARN: "arn:aws:wafv2:us-east-1:{account}:global/webacl/{name}/a1b2c3d4", Tagged: true,
		Create: []string{"wafv2:CreateWebACL", "wafv2:TagResource"}, Read: []string{"wafv2:GetWebACL", "wafv2:ListTagsForResource"},
		Update: []string{"wafv2:UpdateWebACL", "wafv2:TagResource", "wafv2:UntagResource"}, Delete: []string{"wafv2:DeleteWebACL"}},
	"aws:acm/certificate:Certificate": {Source: "acm/certificate.go", ARN: "{arn}", Tagged: true,
		Create: []string{"acm:RequestCertificate", "acm:AddTagsToCertificate"}, Read: []string{"acm:DescribeCertificate", "acm:ListTagsForCertificate"},
		Update: []string{"acm:AddTagsToCertificate", "acm:RemoveTagsFromCertificate"}, Delete: []string{"acm:DeleteCertificate"}},
	"aws:acm/certificateValidation:CertificateValidation": {Source: "acm/certificate_validation.go", ARN: "{certificateArn}",
		Create: []string{"acm:DescribeCertificate"}, Read: []string{"acm:DescribeCertificate"}, Update: []string{}, Delete: []string{}},
	"aws:route53/record:Record": {Source: "route53/record.go", ARN: "arn:aws:route53:::hostedzone/{zoneId}",
		// Every call reads the zone first (GetHostedZone); changes wait until they are in sync.
		Create: []string{"route53:GetHostedZone", "route53:ChangeResourceRecordSets", "route53:GetChange " + dnsChange},
		Read:   []string{"route53:GetHostedZone", "route53:ListResourceRecordSets"},
		Update: []string{"route53:GetHostedZone", "route53:ChangeResourceRecordSets", "route53:GetChange " + dnsChange},
		Delete: []string{"route53:GetHostedZone", "route53:ListResourceRecordSets", "route53:ChangeResourceRecordSets", "route53:GetChange " + dnsChange}},

	// Functions, messaging, schedules and email.
	"aws:lambda/function:Function": {Source: "lambda/function.go", ARN: "arn:aws:lambda:{region}:{account}:function:{name}", Tagged: true,
		PassRole: "role", Service: "lambda.amazonaws.com",
		// Lambda fetches the package and the layers as the caller: iam_test.go's extraCalls.
		Create: []string{"lambda:CreateFunction", "lambda:TagResource", "lambda:PutFunctionConcurrency"}, Read: []string{"lambda:GetFunction", "lambda:GetFunctionCodeSigningConfig", "lambda:ListVersionsByFunction"},
		Update: []string{"lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:PutFunctionConcurrency", "lambda:TagResource", "lambda:UntagResource"}, Delete: []string{"lambda:DeleteFunction"}},
	// Publishing names the layer; reading and deleting name the version.
	"aws:lambda/layerVersion:LayerVersion": {Source: "lambda/layer_version.go", ARN: "arn:aws:lambda:{region}:{account}:layer:{layerName}:1",
		Create: []string{"lambda:PublishLayerVersion arn:aws:lambda:{region}:{account}:layer:{layerName}"}, Read: []string{"lambda:GetLayerVersion"},
		Update: []string{}, Delete: []string{"lambda:DeleteLayerVersion"}},
	"aws:lambda/permission:Permission": {Source: "lambda/permission.go", ARN: "arn:aws:lambda:{region}:{account}:function:{function}",
		Create: []string{"lambda:AddPermission"}, Read: []string{"lambda:GetPolicy"}, Update: []string{}, Delete: []string{"lambda:RemovePermission"}},
	"aws:lambda/eventSourceMapping:EventSourceMapping": {Source: "lambda/event_source_mapping.go", ARN: "arn:aws:lambda:{region}:{account}:event-source-mapping:6d9bce8e-836b-442c-8070-74e77903c815", Tagged: true,
		Create: []string{"lambda:CreateEventSourceMapping", "lambda:TagResource"}, Read: []string{"lambda:GetEventSourceMapping", "lambda:ListTags"},
		Update: []string{"lambda:UpdateEventSourceMapping", "lambda:TagResource", "lambda:UntagResource"}, Delete: []string{"lambda:DeleteEventSourceMapping"}},
	"aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": {Source: "lambda/function_event_invoke_config.go", ARN: "arn:aws:lambda:{region}:{account}:function:{functionName}",
		Create: []string{"lambda:PutFunctionEventInvokeConfig"}, Read: []string{"lambda:GetFunctionEventInvokeConfig"},
		Update: []string{"lambda:PutFunctionEventInvokeConfig"}, Delete: []string{"lambda:DeleteFunctionEventInvokeConfig"}},
	"aws:sqs/queue:Queue": {Source: "sqs/queue.go", ARN: "arn:aws:sqs:{region}:{account}:{name}", Tagged: true,
		Create: []string{"sqs:CreateQueue", "sqs:TagQueue"}, Read: []string{"sqs:GetQueueAttributes", "sqs:ListQueueTags"},
		Update: []string{"sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue"}, Delete: []string{"sqs:DeleteQueue"}},
	"aws:sns/topic:Topic": {Source: "sns/topic.go", ARN: "arn:aws:sns:{region}:{account}:{name}", Tagged: true,
		Create: []string{"sns:CreateTopic", "sns:TagResource", "sns:SetTopicAttributes"}, Read: []string{"sns:GetTopicAttributes", "sns:ListTagsForResource"},
		Update: []string{"sns:SetTopicAttributes", "sns:TagResource", "sns:UntagResource"}, Delete: []string{"sns:DeleteTopic"}},
	"aws:sns/topicPolicy:TopicPolicy": {Source: "sns/topic_policy.go", ARN: "{arn}",
		Create: []string{"sns:SetTopicAttributes"}, Read: []string{"sns:GetTopicAttributes"}, Update: []string{"sns:SetTopicAttributes"}, Delete: []string{"sns:SetTopicAttributes"}},
	"aws:sns/topicSubscription:TopicSubscription": {Source: "sns/topic_subscription.go", ARN: "{topic}",
		Create: []string{"sns:Subscribe", "sns:ListSubscriptionsByTopic"}, Read: []string{"sns:GetSubscriptionAttributes", "sns:ListSubscriptionsByTopic"}, Update: []string{"sns:SetSubscriptionAttributes"}, Delete: []string{"sns:Unsubscribe"}},
	"aws:cloudwatch/eventRule:EventRule": {Source: "events/rule.go", ARN: "arn:aws:events:{region}:{account}:rule/{name}", Tagged: true,
		Create: []string{"events:PutRule", "events:TagResource"}, Read: []string{"events:DescribeRule", "events:ListTagsForResource"},
		Update: []string{"events:PutRule", "events:TagResource", "events:UntagResource"}, Delete: []string{"events:DeleteRule"}},
	"aws:cloudwatch/eventTarget:EventTarget": {Source: "events/target.go", ARN: "arn:aws:events:{region}:{account}:rule/{rule}",
		Create: []string{"events:PutTargets"}, Read: []string{"events:ListTargetsByRule"}, Update: []string{"events:PutTargets"}, Delete: []string{"events:RemoveTargets"}},
	// Scheduler uses the schedule's key with the caller's rights: iam_test.go's extraCalls.
	"aws:scheduler/schedule:Schedule": {Source: "scheduler/schedule.go", ARN: "arn:aws:scheduler:{region}:{account}:schedule/default/{name}",
		PassRole: "target.roleArn", Service: "scheduler.amazonaws.com",
		Create: []string{"scheduler:CreateSchedule"}, Read: []string{"scheduler:GetSchedule"}, Update: []string{"scheduler:UpdateSchedule"}, Delete: []string{"scheduler:DeleteSchedule"}},
	"aws:ses/template:Template": {Source: "ses/template.go", ARN: "*",
		Create: []string{"ses:CreateTemplate"}, Read: []string{"ses:GetTemplate"}, Update: []string{"ses:UpdateTemplate"}, Delete: []string{"ses:DeleteTemplate"}},
	"aws:sesv2/configurationSet:ConfigurationSet": {Source: "sesv2/configuration_set.go", ARN: "arn:aws:ses:{region}:{account}:configuration-set/{configurationSetName}", Tagged: true,
		Create: []string{"ses:CreateConfigurationSet", "ses:TagResource"}, Read: []string{"ses:GetConfigurationSet", "ses:ListTagsForResource"},
		Update: []string{"ses:PutConfigurationSetDeliveryOptions", "ses:PutConfigurationSetReputationOptions", "ses:PutConfigurationSetSendingOptions", "ses:PutConfigurationSetSuppressionOptions", "ses:TagResource", "ses:UntagResource"},
		Delete: []string{"ses:DeleteConfigurationSet"}},
	"aws:sesv2/configurationSetEventDestination:ConfigurationSetEventDestination": {Source: "sesv2/configuration_set_event_destination.go", ARN: "arn:aws:ses:{region}:{account}:configuration-set/{configurationSetName}",
		Create: []string{"ses:CreateConfigurationSetEventDestination"}, Read: []string{"ses:GetConfigurationSetEventDestinations"},
		Update: []string{"ses:UpdateConfigurationSetEventDestination"}, Delete: []string{"ses:DeleteConfigurationSetEventDestination"}},
	"aws:sesv2/emailIdentity:EmailIdentity": {Source: "sesv2/email_identity.go", ARN: "arn:aws:ses:{region}:{account}:identity/{emailIdentity}", Tagged: true,
		Create: []string{"ses:CreateEmailIdentity", "ses:TagResource"}, Read: []string{"ses:GetEmailIdentity", "ses:ListTagsForResource"},
		Update: []string{"ses:PutEmailIdentityConfigurationSetAttributes", "ses:PutEmailIdentityDkimSigningAttributes", "ses:TagResource", "ses:UntagResource"}, Delete: []string{"ses:DeleteEmailIdentity"}},
	"aws:sesv2/emailIdentityMailFromAttributes:EmailIdentityMailFromAttributes": {Source: "sesv2/email_identity_mail_from_attributes.go", ARN: "arn:aws:ses:{region}:{account}:identity/{emailIdentity}",
		Create: []string{"ses:PutEmailIdentityMailFromAttributes"}, Read: []string{"ses:GetEmailIdentity"}, Update: []string{"ses:PutEmailIdentityMailFromAttributes"}, Delete: []string{"ses:PutEmailIdentityMailFromAttributes"}},
	"aws:sesv2/accountSuppressionAttributes:AccountSuppressionAttributes": {Source: "sesv2/account_suppression_attributes.go", ARN: "*",
		Create: []string{"ses:PutAccountSuppressionAttributes"}, Read: []string{"ses:GetAccount"}, Update: []string{"ses:PutAccountSuppressionAttributes"}, Delete: []string{}},
	"aws:ecr/repository:Repository": {Source: "ecr/repository.go", ARN: "arn:aws:ecr:{region}:{account}:repository/{name}", Tagged: true,
		Create: []string{"ecr:CreateRepository", "ecr:TagResource"}, Read: []string{"ecr:DescribeRepositories", "ecr:ListTagsForResource"},
		Update: []string{"ecr:PutImageScanningConfiguration", "ecr:PutImageTagMutability", "ecr:TagResource", "ecr:UntagResource"}, Delete: []string{"ecr:DeleteRepository", "ecr:DescribeRepositories"}},
	"aws:ecr/lifecyclePolicy:LifecyclePolicy": {Source: "ecr/lifecycle_policy.go", ARN: "arn:aws:ecr:{region}:{account}:repository/{repository}",
		Create: []string{"ecr:PutLifecyclePolicy"}, Read: []string{"ecr:GetLifecyclePolicy"}, Update: []string{}, Delete: []string{"ecr:DeleteLifecyclePolicy"}},

	// Logs, alarms, dashboards and costs.
	"aws:cloudwatch/logGroup:LogGroup": {Source: "logs/group.go", ARN: "arn:aws:logs:{region}:{account}:log-group:{name}", Tagged: true,
		Create: []string{"logs:CreateLogGroup", "logs:TagResource", "logs:PutRetentionPolicy"}, Read: []string{"logs:DescribeLogGroups", "logs:ListTagsForResource"},
		Update: []string{"logs:PutRetentionPolicy", "logs:AssociateKmsKey", "logs:TagResource", "logs:UntagResource"}, Delete: []string{"logs:DeleteLogGroup"}},
	"aws:cloudwatch/logDeliverySource:LogDeliverySource": {Source: "logs/delivery_source.go", ARN: "arn:aws:logs:{region}:{account}:delivery-source:{name}", Tagged: true,
		Create: []string{"logs:PutDeliverySource", "logs:TagResource", "cloudfront:AllowVendedLogDeliveryForResource {resourceArn}"}, Read: []string{"logs:GetDeliverySource", "logs:ListTagsForResource"},
		Update: []string{"logs:TagResource", "logs:UntagResource"}, Delete: []string{"logs:DeleteDeliverySource"}},
	"aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination": {Source: "logs/delivery_destination.go", ARN: "arn:aws:logs:{region}:{account}:delivery-destination:{name}", Tagged: true,
		Create: []string{"logs:PutDeliveryDestination", "logs:TagResource"}, Read: []string{"logs:GetDeliveryDestination", "logs:ListTagsForResource"},
		Update: []string{"logs:PutDeliveryDestination", "logs:TagResource", "logs:UntagResource"}, Delete: []string{"logs:DeleteDeliveryDestination"}},
	"aws:cloudwatch/logDelivery:LogDelivery": {Source: "logs/delivery.go", ARN: "arn:aws:logs:{region}:{account}:delivery:a1b2c3d4", Tagged: true,
		// Creating and changing a delivery also names its source and its destination.
		Create: []string{"logs:CreateDelivery", "logs:CreateDelivery " + deliverySource, "logs:CreateDelivery {deliveryDestinationArn}", "logs:TagResource", "logs:GetDelivery"},
		Read:   []string{"logs:GetDelivery", "logs:ListTagsForResource"},
		Update: []string{"logs:UpdateDeliveryConfiguration", "logs:UpdateDeliveryConfiguration " + deliverySource, "logs:UpdateDeliveryConfiguration {deliveryDestinationArn}", "logs:TagResource", "logs:UntagResource"},
		Delete: []string{"logs:DeleteDelivery"}},
	"aws:cloudwatch/metricAlarm:MetricAlarm": {Source: "cloudwatch/metric_alarm.go", ARN: "arn:aws:cloudwatch:{region}:{account}:alarm:{name}", Tagged: true,
		Create: []string{"cloudwatch:PutMetricAlarm", "cloudwatch:TagResource", "cloudwatch:DescribeAlarms"}, Read: []string{"cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"},
		Update: []string{"cloudwatch:PutMetricAlarm", "cloudwatch:TagResource", "cloudwatch:UntagResource"}, Delete: []string{"cloudwatch:DeleteAlarms"}},
	"aws:cloudwatch/dashboard:Dashboard": {Source: "cloudwatch/dashboard.go", ARN: "arn:aws:cloudwatch::{account}:dashboard/{dashboardName}",
		Create: []string{"cloudwatch:PutDashboard"}, Read: []string{"cloudwatch:GetDashboard"}, Update: []string{"cloudwatch:PutDashboard"}, Delete: []string{"cloudwatch:DeleteDashboards"}},
	"aws:budgets/budget:Budget": {Source: "budgets/budget.go", ARN: "arn:aws:budgets::{account}:budget/{name}", Tagged: true,
		Create: []string{"budgets:ModifyBudget", "budgets:TagResource", "budgets:ViewBudget"}, Read: []string{"budgets:ViewBudget", "budgets:ListTagsForResource"},
		Update: []string{"budgets:ModifyBudget", "budgets:TagResource", "budgets:UntagResource"}, Delete: []string{"budgets:ModifyBudget"}},

	// Identities.
	"aws:iam/role:Role": {Source: "iam/role.go", ARN: "arn:aws:iam::{account}:role/{name}", Tagged: true,
		Create: []string{"iam:CreateRole", "iam:TagRole"}, Read: []string{"iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies"},
		Update: []string{"iam:UpdateRole", "iam:UpdateAssumeRolePolicy", "iam:UpdateRoleDescription", "iam:PutRolePermissionsBoundary", "iam:TagRole", "iam:UntagRole"},
		Delete: []string{"iam:ListInstanceProfilesForRole", "iam:DeleteRole"}},
	"aws:iam/rolePolicy:RolePolicy": {Source: "iam/role_policy.go", ARN: "arn:aws:iam::{account}:role/{role}",
		Create: []string{"iam:PutRolePolicy", "iam:GetRolePolicy"}, Read: []string{"iam:GetRolePolicy"}, Update: []string{"iam:PutRolePolicy"}, Delete: []string{"iam:DeleteRolePolicy"}},
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment": {Source: "iam/role_policy_attachment.go", ARN: "arn:aws:iam::{account}:role/{role}",
		Create: []string{"iam:AttachRolePolicy"}, Read: []string{"iam:ListAttachedRolePolicies"}, Update: []string{}, Delete: []string{"iam:DetachRolePolicy"}},
	"aws:iam/policy:Policy": {Source: "iam/policy.go", ARN: "arn:aws:iam::{account}:policy/{name}", Tagged: true,
		Create: []string{"iam:CreatePolicy", "iam:TagPolicy"}, Read: []string{"iam:GetPolicy", "iam:GetPolicyVersion"},
		// IAM keeps five versions: the oldest is pruned before a new one is made.
		Update: []string{"iam:ListPolicyVersions", "iam:DeletePolicyVersion", "iam:CreatePolicyVersion", "iam:TagPolicy", "iam:UntagPolicy"},
		Delete: []string{"iam:ListPolicyVersions", "iam:DeletePolicyVersion", "iam:DeletePolicy"}},
	"aws:iam/instanceProfile:InstanceProfile": {Source: "iam/instance_profile.go", ARN: "arn:aws:iam::{account}:instance-profile/{name}", Tagged: true,
		PassRole: "role", Service: "ec2.amazonaws.com",
		Create: []string{"iam:CreateInstanceProfile", "iam:TagInstanceProfile", "iam:GetInstanceProfile", "iam:AddRoleToInstanceProfile"},
		Read:   []string{"iam:GetInstanceProfile", "iam:GetRole arn:aws:iam::{account}:role/{role}"},
		Update: []string{"iam:RemoveRoleFromInstanceProfile", "iam:AddRoleToInstanceProfile", "iam:TagInstanceProfile", "iam:UntagInstanceProfile"}, Delete: []string{"iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"}},
	"aws:iam/group:Group": {Source: "iam/group.go", ARN: "arn:aws:iam::{account}:group/{name}",
		Create: []string{"iam:CreateGroup", "iam:GetGroup"}, Read: []string{"iam:GetGroup"}, Update: []string{"iam:UpdateGroup"}, Delete: []string{"iam:DeleteGroup"}},
	"aws:iam/groupPolicyAttachment:GroupPolicyAttachment": {Source: "iam/group_policy_attachment.go", ARN: "arn:aws:iam::{account}:group/{group}",
		Create: []string{"iam:AttachGroupPolicy"}, Read: []string{"iam:ListAttachedGroupPolicies"}, Update: []string{}, Delete: []string{"iam:DetachGroupPolicy"}},
	// Administrators apply it (the boundary denies its changes to every role): the deploy and
	// preview roles only read it.
	"aws:accessanalyzer/analyzer:Analyzer": {Source: "accessanalyzer/analyzer.go", ARN: "arn:aws:access-analyzer:{region}:{account}:analyzer/{analyzerName}", Tagged: true,
		Create: []string{"access-analyzer:CreateAnalyzer", "access-analyzer:GetAnalyzer"}, Read: []string{"access-analyzer:GetAnalyzer"},
		Update: []string{"access-analyzer:TagResource", "access-analyzer:UntagResource"}, Delete: []string{"access-analyzer:DeleteAnalyzer"}},
	"aws:iam/openIdConnectProvider:OpenIdConnectProvider": {Source: "iam/openid_connect_provider.go", ARN: "{arn}", Tagged: true,
		Create: []string{"iam:CreateOpenIDConnectProvider", "iam:TagOpenIDConnectProvider"}, Read: []string{"iam:GetOpenIDConnectProvider"},
		// The program sets no thumbprints; the provider is retained on delete (RetainOnDelete).
		Update: []string{"iam:AddClientIDToOpenIDConnectProvider", "iam:RemoveClientIDFromOpenIDConnectProvider", "iam:TagOpenIDConnectProvider", "iam:UntagOpenIDConnectProvider"},
		Delete: []string{}},
}

// Invoke is a provider function's IAM actions, each on a resource ARN (templates as above,
// on the invoke's arguments and answers).
type Invoke struct {
	Source string
	Calls  [][2]string // action, resource
}

// Invokes are the provider functions the program calls. The region, partition and ELB
// account functions answer from the provider's own data, and sts:GetCallerIdentity needs no
// permission (AWS STS API Reference, GetCallerIdentity): they make no call IAM authorizes.
var Invokes = map[string]Invoke{
	"aws:index/getCallerIdentity:getCallerIdentity": {Source: "sts/caller_identity_data_source.go"},
	"aws:index/getRegion:getRegion":                 {Source: "meta/region_data_source.go"},
	"aws:index/getPartition:getPartition":           {Source: "meta/partition_data_source.go"},
	"aws:elb/getServiceAccount:getServiceAccount":   {Source: "elb/service_account_data_source.go"},
	"aws:ec2/getManagedPrefixList:getManagedPrefixList": {Source: "ec2/vpc_managed_prefix_list_data_source.go", Calls: [][2]string{
		{"ec2:DescribeManagedPrefixLists", "*"},
		{"ec2:GetManagedPrefixListEntries", "arn:aws:ec2:{region}:aws:prefix-list/{id}"},
	}},
	"aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings": {Source: "ec2/ec2_instance_type_offerings_data_source.go", Calls: [][2]string{
		{"ec2:DescribeInstanceTypeOfferings", "*"},
	}},
	"aws:route53/getZone:getZone": {Source: "route53/zone_data_source.go", Calls: [][2]string{
		{"route53:ListHostedZones", "*"},
		{"route53:GetHostedZone", "arn:aws:route53:::hostedzone/{zoneId}"},
		{"route53:ListTagsForResource", "arn:aws:route53:::hostedzone/{zoneId}"},
	}},
}
