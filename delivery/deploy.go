package delivery

import (
	"slices"
	"strings"

	"github.com/canalco/infra/security"
)

// The deploy role runs `pulumi up` of this program and the release scripts. Its rules:
//   - services whose ARNs carry names: only ARNs named canalco-<stack>-*;
//   - services whose ARNs carry IDs and that support tag conditions (EC2, KMS, AWS Backup,
//     Cost Explorer): creation only with the stack's Project and Environment tags, every
//     other call only on resources that carry them;
//   - Resource "*" only for calls that take no resource (Describe*, the ECR login) or whose
//     tag condition scopes them; the test lists every such action;
//   - the few services that allow neither (CloudFront's policies, ACM, log deliveries)
//     get their resource type, with the reason next to the statement;
//   - no data reads: no objects but the functions' packages, no GetSecretValue on the
//     database's secret, no messages, no logs.
//
// The policies are split by family so that each stays under IAM's 6,144-character limit.

// ec2Creates make a new, tagged resource; the parent resources they name (the VPC of a
// subnet, the subnet of a NAT gateway) must already carry the stack's tags.
var ec2Creates = []string{
	"ec2:CreateVpc", "ec2:CreateSubnet", "ec2:CreateRouteTable", "ec2:CreateInternetGateway",
	"ec2:CreateNatGateway", "ec2:AllocateAddress", "ec2:CreateSecurityGroup",
	"ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress",
	"ec2:CreateLaunchTemplate", "ec2:CreateVpcEndpoint", "ec2:CreateFlowLogs",
}

// ec2Created are the resource types ec2Creates make.
var ec2Created = []string{
	"vpc", "subnet", "route-table", "internet-gateway", "natgateway", "elastic-ip", "security-group",
	"security-group-rule", "launch-template", "vpc-endpoint", "vpc-flow-log",
}

// ec2Manage change and delete the stack's tagged EC2 resources.
var ec2Manage = []string{
	"ec2:ModifyVpcAttribute", "ec2:DeleteVpc", "ec2:ModifySubnetAttribute", "ec2:DeleteSubnet",
	"ec2:CreateRoute", "ec2:ReplaceRoute", "ec2:DeleteRoute", "ec2:AssociateRouteTable",
	"ec2:DisassociateRouteTable", "ec2:ReplaceRouteTableAssociation", "ec2:DeleteRouteTable",
	"ec2:AttachInternetGateway", "ec2:DetachInternetGateway", "ec2:DeleteInternetGateway",
	"ec2:DeleteNatGateway", "ec2:ReleaseAddress", "ec2:DisassociateAddress",
	"ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress", "ec2:ModifySecurityGroupRules",
	"ec2:UpdateSecurityGroupRuleDescriptionsIngress", "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
	"ec2:DeleteSecurityGroup", "ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate",
	"ec2:DeleteLaunchTemplate", "ec2:DeleteLaunchTemplateVersions", "ec2:ModifyVpcEndpoint",
	"ec2:DeleteVpcEndpoints", "ec2:DeleteFlowLogs", "ec2:CreateTags", "ec2:DeleteTags",
}

// createActions are the API names ec2:CreateAction holds: the creations that may tag.
func createActions() []string {
	out := []string{"RunInstances"}
	for _, a := range ec2Creates {
		out = append(out, strings.TrimPrefix(a, "ec2:"))
	}
	return out
}

// serviceLinkedRoles are the services whose service-linked roles a first deploy in a fresh
// account creates: the load balancer, Auto Scaling, RDS, AWS Backup (and its restore
// testing), WAF's logging and CloudFront's VPC origins (each service's "Using service-linked
// roles" page).
var serviceLinkedRoles = []string{
	"elasticloadbalancing.amazonaws.com", "autoscaling.amazonaws.com", "rds.amazonaws.com",
	"backup.amazonaws.com", "restore-testing.backup.amazonaws.com", "wafv2.amazonaws.com",
	"vpcorigin.cloudfront.amazonaws.com",
}

// deployPolicies are the deploy role's managed policies.
func deployPolicies(s scope) []policy {
	return []policy{
		{"network", deployNetwork(s)},
		{"scaling", deployScaling(s)},
		{"data", deployData(s)},
		{"backup", deployBackup(s)},
		{"edge", deployEdge(s)},
		{"app", deployApp(s)},
		{"operations", deployOperations(s)},
		{"identity", deployIdentity(s)},
		{"guards", deployGuards(s)},
	}
}

// deployNetwork: the VPC and its security groups.
func deployNetwork(s scope) []security.Statement {
	ec2 := func(kind string) string { return s.arn("ec2", kind+"/*") }
	return []security.Statement{
		// CloudFront's origin-facing prefix list is read with an action Describe* does not cover.
		allow("Ec2Read", []string{"ec2:Describe*", "ec2:GetManagedPrefixListEntries"}, everything),
		s.tagged(allow("Ec2CreateTagged", ec2Creates, each(ec2Created, ec2)...), "aws:RequestTag"),
		with(allow("Ec2TagOnCreate", []string{"ec2:CreateTags"}, everything), "StringEquals", "ec2:CreateAction", createActions()),
		s.tagged(allow("Ec2ManageTagged", slices.Concat(ec2Creates, ec2Manage), everything), "aws:ResourceTag"),
		// AWS creates the VPC's default security group untagged, and adopting it (EC2.2: no
		// rules) tags it and revokes its rules: ec2:Vpc limits that to the stack's own VPC.
		with(allow("Ec2AdoptDefaultSecurityGroup", []string{"ec2:CreateTags", "ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress"}, ec2("security-group")),
			"ArnLike", "ec2:Vpc", s.vpc()),
		// Deleting a subnet or a security group first deletes the network interfaces a VPC
		// function left in it: Lambda's, untagged (AWS detaches them itself).
		with(allow("Ec2LingeringFunctionInterfaces", []string{"ec2:DeleteNetworkInterface"}, ec2("network-interface")),
			"ArnLike", "ec2:Vpc", s.vpc()),
	}
}

// deployScaling: the load balancer, the Auto Scaling group and the launches it checks.
func deployScaling(s scope) []security.Statement {
	ec2 := func(kind string) string { return s.arn("ec2", kind+"/*") }
	elb := func(resource string) string { return s.arn("elasticloadbalancing", resource) }
	return []security.Statement{
		// Auto Scaling checks that whoever sets a launch template on a group may launch it, on
		// every resource of the launch (Auto Scaling User Guide, "Control Amazon EC2 launch
		// template usage in Auto Scaling groups"): the stack's template, subnets and security
		// groups; Amazon's images; and instances, volumes and interfaces made from a template.
		s.tagged(allow("Ec2LaunchInStack", []string{"ec2:RunInstances"}, ec2("launch-template"), ec2("subnet"), ec2("security-group")), "aws:ResourceTag"),
		with(allow("Ec2LaunchFromTemplate", []string{"ec2:RunInstances"}, ec2("instance"), ec2("volume"), ec2("network-interface")),
			"ArnLike", "ec2:LaunchTemplate", ec2("launch-template")),
		with(allow("Ec2LaunchAmazonImages", []string{"ec2:RunInstances"}, "arn:aws:ec2:*::image/*"), "StringEquals", "ec2:Owner", "amazon"),
		allow("ElbRead", []string{"elasticloadbalancing:Describe*"}, everything),
		allow("ElbManage", []string{
			"elasticloadbalancing:Create*", "elasticloadbalancing:Delete*", "elasticloadbalancing:Modify*",
			"elasticloadbalancing:Set*", "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags",
			"elasticloadbalancing:AddListenerCertificates", "elasticloadbalancing:RemoveListenerCertificates",
			"elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets",
		}, elb("loadbalancer/app/"+s.own()+"/*"), elb("listener/app/"+s.own()+"/*"), elb("listener-rule/app/"+s.own()+"/*")),
		// The target group is auto-named (targetgroup/<generated>/<id>), so its name cannot
		// scope it: its creation carries the stack's tags, and every later call needs them on
		// the group (ELB supports aws:RequestTag and aws:ResourceTag, Service Authorization
		// Reference).
		s.tagged(allow("ElbTargetGroupCreateTagged", []string{
			"elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:AddTags",
		}, elb("targetgroup/*/*")), "aws:RequestTag"),
		s.tagged(allow("ElbTargetGroupsTagged", []string{
			"elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes",
			"elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags",
			"elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets",
		}, elb("targetgroup/*/*")), "aws:ResourceTag"),
		allow("AsgRead", []string{"autoscaling:Describe*"}, everything),
		allow("AsgManage", []string{
			"autoscaling:CreateAutoScalingGroup", "autoscaling:UpdateAutoScalingGroup", "autoscaling:DeleteAutoScalingGroup",
			"autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags", "autoscaling:PutScalingPolicy", "autoscaling:DeletePolicy",
			"autoscaling:PutLifecycleHook", "autoscaling:DeleteLifecycleHook", "autoscaling:EnableMetricsCollection",
			"autoscaling:DisableMetricsCollection", "autoscaling:AttachTrafficSources", "autoscaling:DetachTrafficSources",
			"autoscaling:AttachLoadBalancerTargetGroups", "autoscaling:DetachLoadBalancerTargetGroups",
			"autoscaling:SetDesiredCapacity", "autoscaling:SuspendProcesses", "autoscaling:ResumeProcesses",
			"autoscaling:StartInstanceRefresh", "autoscaling:CancelInstanceRefresh", "autoscaling:RollbackInstanceRefresh",
			// The scheduled actions that put a sleeping stack's group to sleep and wake it.
			"autoscaling:PutScheduledUpdateGroupAction", "autoscaling:DeleteScheduledAction",
		}, s.arn("autoscaling", "autoScalingGroup:*:autoScalingGroupName/"+s.own())),
	}
}

// deployData: the database, its keys and secrets.
func deployData(s scope) []security.Statement {
	rds := func(kind string) string { return s.arn("rds", kind+":"+s.own()) }
	key := s.arn("kms", "key/*")
	return []security.Statement{
		allow("RdsRead", []string{"rds:Describe*"}, everything),
		// Not snapshot sharing (ModifyDBSnapshotAttribute) nor log downloads.
		allow("RdsManage", []string{
			"rds:CreateDBInstance", "rds:ModifyDBInstance", "rds:DeleteDBInstance", "rds:RebootDBInstance",
			// The optional read replica (dbReadReplica).
			"rds:CreateDBInstanceReadReplica",
			// scripts/deploy-backend.sh wakes a sleeping database before a release or an update.
			"rds:StartDBInstance",
			"rds:CreateDBSnapshot",
			"rds:AddTagsToResource", "rds:RemoveTagsFromResource", "rds:ListTagsForResource",
			"rds:CreateDBParameterGroup", "rds:ModifyDBParameterGroup", "rds:ResetDBParameterGroup", "rds:DeleteDBParameterGroup",
			"rds:CreateDBSubnetGroup", "rds:ModifyDBSubnetGroup", "rds:DeleteDBSubnetGroup",
			"rds:CreateOptionGroup", "rds:ModifyOptionGroup", "rds:DeleteOptionGroup",
			"rds:StartDBInstanceAutomatedBackupsReplication", "rds:StopDBInstanceAutomatedBackupsReplication",
		}, rds("db"), rds("pg"), rds("og"), rds("subgrp"), rds("snapshot")),
		// A major upgrade through Blue/Green (dbBlueGreenUpdate): RDS names the deployment
		// bgd-<id> and the green instances after the stack's, on its parameter group.
		allow("RdsBlueGreen", []string{
			"rds:CreateBlueGreenDeployment", "rds:SwitchoverBlueGreenDeployment", "rds:DeleteBlueGreenDeployment",
		}, rds("db"), rds("pg"), s.arn("rds", "deployment:*")),
		// RDS authorizes a database's create and changes on the option group it uses too: the
		// engine's default one, which AWS owns and nobody can change or delete.
		allow("RdsDefaultOptionGroup", []string{"rds:CreateDBInstance", "rds:ModifyDBInstance"}, s.arn("rds", "og:default:*")),
		// RDS creates the master password's secret (rds!db-...) with the caller's rights (RDS User
		// Guide, "Password management with Amazon RDS and AWS Secrets Manager": permissions). RDS
		// is not documented to set aws:CalledVia, so the name is the scope; no value reads.
		allow("RdsManagedSecret", []string{
			"secretsmanager:CreateSecret", "secretsmanager:TagResource", "secretsmanager:DescribeSecret",
			"secretsmanager:UpdateSecret", "secretsmanager:RotateSecret", "secretsmanager:DeleteSecret",
		}, s.arn("secretsmanager", "secret:rds!db-*")),
		// GetSecretValue on the stack's own secrets only: the provider reads back the values
		// it wrote from the stack's encrypted config. Never the database's secret above.
		allow("Secrets", []string{
			"secretsmanager:CreateSecret", "secretsmanager:DeleteSecret", "secretsmanager:DescribeSecret",
			"secretsmanager:UpdateSecret", "secretsmanager:PutSecretValue", "secretsmanager:GetSecretValue",
			"secretsmanager:ListSecretVersionIds", "secretsmanager:TagResource", "secretsmanager:UntagResource",
			"secretsmanager:GetResourcePolicy", "secretsmanager:PutResourcePolicy", "secretsmanager:DeleteResourcePolicy",
			"secretsmanager:RestoreSecret",
			// The database's master secret: its first version, and its rotation by the function below.
			"secretsmanager:UpdateSecretVersionStage", "secretsmanager:RotateSecret", "secretsmanager:CancelRotateSecret",
		}, s.arn("secretsmanager", "secret:"+s.own())),
		// RotateSecret, when it turns rotation on, checks that the caller may invoke the
		// rotation function (RotateSecret's required permissions), and rotates at once.
		allow("RotationFunction", []string{"lambda:InvokeFunction"}, s.arn("lambda", "function:"+s.prefix+"-rotation")),
		// Tagging a key as it is created needs kms:TagResource with the request's tags: the key
		// has no tags yet (KMS Developer Guide, "Controlling access to tags").
		s.tagged(allow("KmsCreateTagged", []string{"kms:CreateKey", "kms:TagResource"}, everything), "aws:RequestTag"),
		allow("KmsRead", []string{"kms:ListAliases", "kms:ListKeys"}, everything),
		allow("KmsAliases", []string{"kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"}, s.arn("kms", "alias/"+s.own())),
		s.tagged(allow("KmsManageTagged", []string{
			"kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:GetKeyRotationStatus",
			"kms:EnableKeyRotation", "kms:UpdateKeyDescription", "kms:TagResource", "kms:UntagResource",
			"kms:ListResourceTags", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
			"kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias",
			"kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
		}, key), "aws:ResourceTag"),
		// The provider tells an object's key from S3's AWS managed key by reading the latter's
		// metadata (DescribeKey on alias/aws/s3): no use of the key.
		with(allow("KmsS3ManagedKeyMetadata", []string{"kms:DescribeKey"}, key), "StringEquals", "kms:RequestAlias", "alias/aws/s3"),
		with(s.tagged(allow("KmsGrantsForServices", []string{"kms:CreateGrant"}, key), "aws:ResourceTag"),
			"Bool", "kms:GrantIsForAWSResource", "true"),
		// Decrypt only through the services that need it while deploying: Lambda (the functions'
		// environment), Secrets Manager (the stack's own secrets), S3 (the functions' packages,
		// multipart uploads), AWS Backup (a new vault) and EventBridge Scheduler, which encrypts
		// a schedule with its creator's rights (Scheduler User Guide, "Managing your KMS keys":
		// kms:DescribeKey, GenerateDataKey and Decrypt; the first two are in KmsManageTagged).
		with(s.tagged(allow("KmsDecryptViaServices", []string{"kms:Decrypt"}, key), "aws:ResourceTag"),
			"StringLike", "kms:ViaService", []string{"lambda.*.amazonaws.com", "secretsmanager.*.amazonaws.com", "s3.*.amazonaws.com", "backup.*.amazonaws.com", "scheduler.*.amazonaws.com"}),
	}
}

// deployBackup: AWS Backup's vault, plans and restore testing.
func deployBackup(s scope) []security.Statement {
	statements := []security.Statement{
		allow("BackupVaults", []string{
			"backup:CreateBackupVault", "backup:DeleteBackupVault", "backup:DescribeBackupVault",
			"backup:PutBackupVaultAccessPolicy", "backup:GetBackupVaultAccessPolicy", "backup:DeleteBackupVaultAccessPolicy",
			"backup:PutBackupVaultNotifications", "backup:GetBackupVaultNotifications", "backup:DeleteBackupVaultNotifications",
			"backup:PutBackupVaultLockConfiguration", "backup:DeleteBackupVaultLockConfiguration",
			"backup:TagResource", "backup:UntagResource", "backup:ListTags",
		}, s.arn("backup", "backup-vault:"+s.prefix), s.arn("backup", "backup-vault:"+s.own())),
		// The monthly restore test. Its plan's name allows only letters, digits and underscores
		// (canalco_<stack>_restore_test) and AWS appends an ID to the ARN; the selections are
		// authorized on their plan.
		s.tagged(allow("RestoreTestingCreateTagged", []string{"backup:CreateRestoreTestingPlan", "backup:TagResource"}, s.restoreTestingPlans()), "aws:RequestTag"),
		allow("RestoreTesting", []string{
			"backup:GetRestoreTestingPlan", "backup:UpdateRestoreTestingPlan", "backup:DeleteRestoreTestingPlan",
			"backup:CreateRestoreTestingSelection", "backup:GetRestoreTestingSelection", "backup:UpdateRestoreTestingSelection",
			"backup:DeleteRestoreTestingSelection", "backup:ListRestoreTestingSelections",
			"backup:TagResource", "backup:UntagResource", "backup:ListTags",
		}, s.restoreTestingPlans()),
		// AWS Backup stores a new vault's recovery points through this permission.
		allow("BackupStorage", []string{"backup-storage:MountCapsule"}, everything),
		s.tagged(allow("BackupPlanCreateTagged", []string{"backup:CreateBackupPlan", "backup:TagResource"}, s.arn("backup", "backup-plan:*")), "aws:RequestTag"),
		s.tagged(allow("BackupPlansTagged", []string{
			"backup:UpdateBackupPlan", "backup:DeleteBackupPlan", "backup:GetBackupPlan",
			"backup:CreateBackupSelection", "backup:DeleteBackupSelection", "backup:GetBackupSelection",
			"backup:ListBackupSelections", "backup:TagResource", "backup:UntagResource", "backup:ListTags",
		}, s.arn("backup", "backup-plan:*")), "aws:ResourceTag"),
	}
	if !s.disposable {
		return statements
	}
	// A stack that keeps no data deletes its vault's recovery points (the database's and the
	// volumes' snapshots) before the vault (forceDestroy).
	return append(statements,
		allow("EmptyVaultList", []string{"backup:ListRecoveryPointsByBackupVault"}, s.arn("backup", "backup-vault:"+s.prefix)),
		allow("EmptyVaultOnDestroy", []string{"backup:DescribeRecoveryPoint", "backup:DeleteRecoveryPoint"},
			s.arn("rds", "snapshot:awsbackup:*"), "arn:aws:ec2:*::snapshot/*"))
}

// deployEdge: buckets, CloudFront, WAF, certificates and DNS records.
func deployEdge(s scope) []security.Statement {
	cf := func(resource string) string { return s.global("cloudfront", resource) }
	waf := func(kind string) string { return s.arn("wafv2", "global/"+kind+"/"+s.own()+"/*") }
	statements := []security.Statement{
		// Bucket configuration only: no object reads, the data stays out of reach.
		allow("Buckets", []string{
			"s3:CreateBucket", "s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucket*", "s3:PutBucket*", "s3:DeleteBucket*",
			"s3:Get*Configuration", "s3:Put*Configuration",
		}, "arn:aws:s3:::"+s.own()),
		allow("PublishFrontend", []string{"s3:PutObject", "s3:DeleteObject"}, "arn:aws:s3:::"+s.frontendBucket+"/*"),
		// The functions' packages: the program uploads them, Lambda fetches them as the caller.
		allow("FunctionPackages", []string{
			"s3:PutObject", "s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject", "s3:DeleteObjectVersion",
			"s3:PutObjectTagging", "s3:GetObjectTagging", "s3:DeleteObjectTagging",
		}, s.artifacts()),
		// CreateDistribution takes only Resource "*" (Service Authorization Reference); the
		// provider's CreateDistributionWithTags call is authorized as CreateDistribution plus
		// TagResource.
		allow("CloudFrontCreate", []string{"cloudfront:CreateDistribution"}, everything),
		// CreateVpcOrigin has no resource type either (Service Authorization Reference); the
		// origin is then named by an ID and CloudFront offers no tag condition on it, so the
		// resource type is the scope.
		allow("CloudFrontVpcOriginCreate", []string{"cloudfront:CreateVpcOrigin"}, everything),
		allow("CloudFrontVpcOrigins", []string{
			"cloudfront:GetVpcOrigin", "cloudfront:UpdateVpcOrigin", "cloudfront:DeleteVpcOrigin",
			"cloudfront:TagResource", "cloudfront:UntagResource", "cloudfront:ListTagsForResource",
		}, cf("vpcorigin/*")),
		allow("CloudFrontTagOnCreate", []string{"cloudfront:TagResource"}, cf("distribution/*")),
		// CloudFront has no tag conditions on existing distributions: the account's, which is
		// the stack's alone (one account per environment).
		allow("CloudFrontDistribution", []string{
			"cloudfront:GetDistribution", "cloudfront:GetDistributionConfig", "cloudfront:UpdateDistribution",
			"cloudfront:DeleteDistribution", "cloudfront:TagResource", "cloudfront:UntagResource",
			"cloudfront:ListTagsForResource", "cloudfront:CreateInvalidation", "cloudfront:GetInvalidation",
			"cloudfront:ListInvalidations", "cloudfront:AllowVendedLogDeliveryForResource",
		}, cf("distribution/*")),
		// Creating these takes Resource "*" (Service Authorization Reference, CloudFront); a
		// function does nothing until the stack's distribution, scoped above, uses it.
		allow("CloudFrontPolicyCreate", []string{
			"cloudfront:CreateOriginAccessControl", "cloudfront:CreateCachePolicy", "cloudfront:CreateOriginRequestPolicy",
			"cloudfront:CreateResponseHeadersPolicy", "cloudfront:CreateFunction",
		}, everything),
		allow("CloudFrontPolicies", []string{
			"cloudfront:*OriginAccessControl*", "cloudfront:*CachePolicy*", "cloudfront:*OriginRequestPolicy*",
			"cloudfront:*ResponseHeadersPolicy*",
		}, cf("origin-access-control/*"), cf("cache-policy/*"), cf("origin-request-policy/*"), cf("response-headers-policy/*")),
		allow("CloudFrontFunctions", []string{"cloudfront:*Function"}, cf("function/"+s.own())),
		allow("WebAcl", []string{
			"wafv2:*WebACL", "wafv2:*LoggingConfiguration", "wafv2:*IPSet", "wafv2:*RuleGroup",
			"wafv2:TagResource", "wafv2:UntagResource", "wafv2:ListTagsForResource",
		}, waf("webacl"), waf("ipset"), waf("rulegroup")),
		// A web ACL that uses AWS's managed rule groups names them.
		allow("WebAclManagedRules", []string{"wafv2:CreateWebACL", "wafv2:UpdateWebACL"}, "arn:aws:wafv2:*:*:global/managedruleset/*/*"),
		// RequestCertificate takes only Resource "*"; its tags are the request's.
		s.tagged(allow("CertificateRequestTagged", []string{"acm:RequestCertificate"}, everything), "aws:RequestTag"),
		// ACM deletes no certificate that is in use, so other stacks' certificates are safe.
		allow("Certificates", []string{
			"acm:DescribeCertificate", "acm:DeleteCertificate", "acm:ListTagsForCertificate",
			"acm:AddTagsToCertificate", "acm:RemoveTagsFromCertificate",
		}, s.arn("acm", "certificate/*")),
		allow("DnsRead", []string{"route53:ListHostedZones", "route53:ListHostedZonesByName"}, everything),
		allow("DnsChanges", []string{"route53:GetChange"}, "arn:aws:route53:::change/*"),
	}
	if s.disposable {
		// A stack that keeps no data empties its buckets before deleting them (forceDestroy).
		statements = append(statements, allow("EmptyBucketsOnDestroy", []string{"s3:DeleteObject", "s3:DeleteObjectVersion"}, "arn:aws:s3:::"+s.own()+"/*"))
	}
	names := s.recordPatterns()
	if s.zoneID == "" || len(names) == 0 {
		return statements
	}
	zone := "arn:aws:route53:::hostedzone/" + s.zoneID
	// Only the stack's own records, of the types it writes, in its own zone (Route 53
	// Developer Guide, "Using IAM policy conditions for fine-grained access control").
	records := with(allow("DnsRecords", []string{"route53:ChangeResourceRecordSets"}, zone),
		"ForAllValues:StringLike", "route53:ChangeResourceRecordSetsNormalizedRecordNames", names)
	records = with(records, "ForAllValues:StringEquals", "route53:ChangeResourceRecordSetsRecordTypes", s.types())
	return append(statements,
		allow("DnsZone", []string{"route53:GetHostedZone", "route53:ListResourceRecordSets", "route53:ListTagsForResource"}, zone),
		records,
	)
}

// recordTypes are the DNS record types the program writes: aliases, validation and DKIM
// CNAMEs, DMARC and SPF texts, the MAIL FROM MX.
var recordTypes = []string{"A", "AAAA", "CNAME", "MX", "TXT"}

// types are the record types the stack writes: recordTypes, and NS when it delegates a
// subzone to another stack's account.
func (s scope) types() []string {
	if s.delegatedZone == "" {
		return recordTypes
	}
	return append(slices.Clone(recordTypes), "NS")
}

// recordPatterns are the record names the stack writes: its hostnames and their ACM
// validation records (_<token>.<host>), the email domain's DKIM (<token>._domainkey.<domain>)
// and DMARC records and its MAIL FROM domain. Not the email domain itself, nor other
// subdomains: prod's email domain is the zone's apex.
func (s scope) recordPatterns() []string {
	var out []string
	for _, h := range s.hostnames {
		out = append(out, h, "_*."+h)
	}
	if s.emailDomain != "" {
		out = append(out, "*._domainkey."+s.emailDomain, "_dmarc."+s.emailDomain, s.mailFrom)
	}
	// The delegation's NS record is named as the subzone itself, nothing below it.
	out = append(out, s.delegatedZone)
	return unique(out...)
}

// deployApp: functions, queues, topics, schedules, email and images.
func deployApp(s scope) []security.Statement {
	statements := []security.Statement{
		allow("Functions", []string{
			"lambda:CreateFunction", "lambda:DeleteFunction", "lambda:GetFunction", "lambda:GetFunctionConfiguration",
			"lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:ListVersionsByFunction",
			"lambda:PublishVersion", "lambda:GetFunctionCodeSigningConfig", "lambda:PutFunctionConcurrency",
			"lambda:DeleteFunctionConcurrency", "lambda:GetFunctionConcurrency", "lambda:PutFunctionEventInvokeConfig",
			"lambda:UpdateFunctionEventInvokeConfig", "lambda:GetFunctionEventInvokeConfig", "lambda:DeleteFunctionEventInvokeConfig",
			"lambda:PutFunctionRecursionConfig", "lambda:GetFunctionRecursionConfig", "lambda:GetRuntimeManagementConfig",
			"lambda:AddPermission", "lambda:RemovePermission", "lambda:GetPolicy",
			"lambda:CreateAlias", "lambda:UpdateAlias", "lambda:DeleteAlias", "lambda:GetAlias",
			"lambda:TagResource", "lambda:UntagResource", "lambda:ListTags",
		}, s.arn("lambda", "function:"+s.own())),
		// The functions' dependency layers (canalco-<stack>-<function>-deps): publishing names
		// the layer, reading and deleting name one of its versions.
		allow("FunctionLayers", []string{"lambda:PublishLayerVersion", "lambda:GetLayerVersion", "lambda:DeleteLayerVersion"},
			s.arn("lambda", "layer:"+s.own()), s.arn("lambda", "layer:"+s.own()+":*")),
		// Event source mappings are named by a UUID; the function they feed is the stack's.
		with(allow("FunctionTriggers", []string{
			"lambda:CreateEventSourceMapping", "lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping",
		}, everything), "ArnLike", "lambda:FunctionArn", s.arn("lambda", "function:"+s.own())),
		allow("FunctionTriggersRead", []string{"lambda:GetEventSourceMapping", "lambda:ListEventSourceMappings"}, everything),
		allow("FunctionTriggerTags", []string{"lambda:TagResource", "lambda:UntagResource", "lambda:ListTags"},
			s.arn("lambda", "event-source-mapping:*")),
		allow("Queues", []string{
			"sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes", "sqs:GetQueueUrl",
			"sqs:TagQueue", "sqs:UntagQueue", "sqs:ListQueueTags", "sqs:ListDeadLetterSourceQueues",
		}, s.arn("sqs", s.own())),
		allow("Topics", []string{
			"sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:SetTopicAttributes",
			"sns:Subscribe", "sns:Unsubscribe", "sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes",
			"sns:ListSubscriptionsByTopic", "sns:GetDataProtectionPolicy", "sns:PutDataProtectionPolicy",
			"sns:TagResource", "sns:UntagResource", "sns:ListTagsForResource",
		}, s.arn("sns", s.own())),
		allow("EventRules", []string{
			"events:PutRule", "events:DeleteRule", "events:DescribeRule", "events:EnableRule", "events:DisableRule",
			"events:PutTargets", "events:RemoveTargets", "events:ListTargetsByRule",
			"events:TagResource", "events:UntagResource", "events:ListTagsForResource",
		}, s.arn("events", "rule/"+s.own())),
		allow("Schedules", []string{
			"scheduler:CreateSchedule", "scheduler:GetSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule",
			"scheduler:CreateScheduleGroup", "scheduler:GetScheduleGroup", "scheduler:DeleteScheduleGroup",
			"scheduler:TagResource", "scheduler:UntagResource", "scheduler:ListTagsForResource",
		}, s.arn("scheduler", "schedule/*/"+s.own()), s.arn("scheduler", "schedule-group/"+s.own())),
		// The configuration set is named after the stack itself (canalco-<stack>).
		allow("EmailSettings", []string{
			"ses:CreateConfigurationSet", "ses:DeleteConfigurationSet", "ses:GetConfigurationSet", "ses:PutConfigurationSet*",
			"ses:*ConfigurationSetEventDestination*", "ses:TagResource", "ses:UntagResource", "ses:ListTagsForResource",
		}, s.arn("ses", "configuration-set/"+s.prefix)),
		// SES v1's template actions have no resource type: Resource "*" only (Service
		// Authorization Reference, Amazon SES).
		allow("EmailTemplates", []string{"ses:CreateTemplate", "ses:UpdateTemplate", "ses:DeleteTemplate", "ses:GetTemplate"}, everything),
		// One setting per account and region, which every stack sets to the same value.
		allow("EmailAccount", []string{"ses:GetAccount", "ses:PutAccountSuppressionAttributes"}, everything),
		allow("Images", []string{
			"ecr:CreateRepository", "ecr:DeleteRepository", "ecr:DescribeRepositories", "ecr:PutLifecyclePolicy",
			"ecr:GetLifecyclePolicy", "ecr:DeleteLifecyclePolicy", "ecr:PutImageScanningConfiguration",
			"ecr:PutImageTagMutability", "ecr:SetRepositoryPolicy", "ecr:GetRepositoryPolicy", "ecr:DeleteRepositoryPolicy",
			"ecr:TagResource", "ecr:UntagResource", "ecr:ListTagsForResource",
			"ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload",
			"ecr:PutImage", "ecr:BatchGetImage", "ecr:DescribeImages", "ecr:ListImages",
			// scripts/deploy-backend.sh moves the release tag off the previous image.
			"ecr:BatchDeleteImage",
		}, s.arn("ecr", "repository/"+s.own())),
		allow("ImagesLogin", []string{"ecr:GetAuthorizationToken"}, everything),
	}
	if s.emailIdentity == "" {
		return statements
	}
	// SES identities are named by the domain or address they verify, not by the stack.
	return append(statements, allow("EmailIdentity", []string{
		"ses:CreateEmailIdentity", "ses:DeleteEmailIdentity", "ses:GetEmailIdentity", "ses:PutEmailIdentity*",
		"ses:TagResource", "ses:UntagResource", "ses:ListTagsForResource",
	}, s.arn("ses", "identity/"+s.emailIdentity)))
}

// deployOperations: logs, alarms, dashboards, budgets, the instances' SSM parameters and
// the release's migrations (SSM Run Command on one backend instance).
func deployOperations(s scope) []security.Statement {
	logGroup := func(name string) string { return s.arn("logs", "log-group:"+name) }
	return []security.Statement{
		// The migrations run AWS-RunShellScript on an instance of the stack's group only.
		allow("RunMigrationsDocument", []string{"ssm:SendCommand"}, "arn:aws:ssm:*::document/AWS-RunShellScript"),
		with(allow("RunMigrationsInstances", []string{"ssm:SendCommand"}, s.arn("ec2", "instance/*")),
			"StringEquals", "aws:ResourceTag/aws:autoscaling:groupName", s.asgName),
		allow("SsmRead", []string{
			"ssm:GetCommandInvocation", "ssm:ListCommands", "ssm:ListCommandInvocations",
			"ssm:CancelCommand", "ssm:DescribeInstanceInformation", "ssm:DescribeParameters",
		}, everything),
		// The instances' image comes from AWS's public parameters (latest Amazon Linux).
		allow("PublicParameters", []string{"ssm:GetParameter", "ssm:GetParameters"}, publicParameters),
		// scripts/deploy-backend.sh records each release in /canalco/<stack>/backend/release and
		// reads its history to roll back.
		allow("Parameters", []string{
			"ssm:PutParameter", "ssm:DeleteParameter", "ssm:GetParameter", "ssm:GetParameters", "ssm:GetParameterHistory",
			"ssm:AddTagsToResource", "ssm:RemoveTagsFromResource", "ssm:ListTagsForResource",
		}, s.parameters()),
		// Log groups of the stack, of its functions and of its database (AWS fixes the
		// prefixes of the last two). No log reads.
		allow("LogGroups", []string{
			"logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy",
			"logs:AssociateKmsKey", "logs:DisassociateKmsKey", "logs:TagResource", "logs:UntagResource",
			"logs:ListTagsForResource", "logs:TagLogGroup", "logs:UntagLogGroup", "logs:ListTagsLogGroup",
			"logs:PutMetricFilter", "logs:DeleteMetricFilter", "logs:PutSubscriptionFilter", "logs:DeleteSubscriptionFilter",
		}, logGroup(s.own()), logGroup("/aws/lambda/"+s.own()), logGroup("/aws/rds/instance/"+s.own()), logGroup("aws-waf-logs-"+s.own())),
		// The web ACL's logs: WAF creates the delivery as the caller, and the stack writes the
		// log group's resource policy. Neither action takes a resource narrower than "*".
		allow("WafLogDelivery", []string{
			"logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:ListLogDeliveries",
			"logs:PutResourcePolicy", "logs:DeleteResourcePolicy", "logs:DescribeResourcePolicies",
		}, everything),
		allow("LogsRead", []string{"logs:DescribeLogGroups", "logs:DescribeMetricFilters", "logs:DescribeSubscriptionFilters"}, everything),
		// CloudFront's access logs: a CloudWatch Logs delivery from the distribution to the logs
		// bucket. Deliveries are named by an ID.
		allow("LogDeliveries", []string{
			"logs:PutDeliverySource", "logs:GetDeliverySource", "logs:DeleteDeliverySource",
			"logs:PutDeliveryDestination", "logs:GetDeliveryDestination", "logs:DeleteDeliveryDestination",
			"logs:CreateDelivery", "logs:GetDelivery", "logs:DeleteDelivery", "logs:UpdateDeliveryConfiguration",
			"logs:TagResource", "logs:UntagResource", "logs:ListTagsForResource",
		}, s.arn("logs", "delivery-source:"+s.own()), s.arn("logs", "delivery-destination:"+s.own()), s.arn("logs", "delivery:*")),
		allow("Alarms", []string{
			"cloudwatch:PutMetricAlarm", "cloudwatch:PutCompositeAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms",
			"cloudwatch:EnableAlarmActions", "cloudwatch:DisableAlarmActions",
			"cloudwatch:TagResource", "cloudwatch:UntagResource", "cloudwatch:ListTagsForResource",
		}, s.arn("cloudwatch", "alarm:"+s.own())),
		allow("Dashboards", []string{"cloudwatch:PutDashboard", "cloudwatch:GetDashboard", "cloudwatch:DeleteDashboards"},
			s.global("cloudwatch", "dashboard/"+s.own())),
		allow("Budgets", []string{
			"budgets:ViewBudget", "budgets:ModifyBudget", "budgets:TagResource", "budgets:UntagResource", "budgets:ListTagsForResource",
		}, s.global("budgets", "budget/"+s.own())),
		s.tagged(allow("CostAnomalyCreateTagged", []string{"ce:CreateAnomalyMonitor", "ce:CreateAnomalySubscription", "ce:TagResource"}, everything), "aws:RequestTag"),
		s.tagged(allow("CostAnomalyTagged", []string{
			"ce:GetAnomalyMonitors", "ce:GetAnomalySubscriptions", "ce:UpdateAnomalyMonitor", "ce:UpdateAnomalySubscription",
			"ce:DeleteAnomalyMonitor", "ce:DeleteAnomalySubscription", "ce:TagResource", "ce:UntagResource", "ce:ListTagsForResource",
		}, s.global("ce", "anomalymonitor/*"), s.global("ce", "anomalysubscription/*")), "aws:ResourceTag"),
	}
}

// deployIdentity: the stack's roles and policies, the roles it hands to services, and the
// Pulumi state.
func deployIdentity(s scope) []security.Statement {
	iam := func(kind string) string { return s.global("iam", kind+"/"+s.own()) }
	state := s.stateBucket()
	return []security.Statement{
		// Roles' rights change only with the boundary on them (the boundary denies the rest).
		allow("Roles", []string{
			"iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateRoleDescription",
			"iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:ListRoleTags",
			"iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole",
		}, iam("role")),
		with(allow("RolesWithTheBoundary", []string{
			"iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary",
		}, iam("role")), "StringEquals", "iam:PermissionsBoundary", s.boundary),
		// The stack's own policies and AWS's: the boundary caps whatever they grant, and denies
		// the privileged ones and the pipeline's.
		with(with(allow("AttachPolicies", []string{"iam:AttachRolePolicy"}, iam("role")),
			"StringEquals", "iam:PermissionsBoundary", s.boundary),
			"ArnLike", "iam:PolicyARN", []string{iam("policy"), "arn:aws:iam::aws:policy/*"}),
		allow("Policies", []string{
			"iam:CreatePolicy", "iam:DeletePolicy", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions",
			"iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion",
			"iam:TagPolicy", "iam:UntagPolicy", "iam:ListPolicyTags", "iam:ListEntitiesForPolicy",
		}, iam("policy")),
		allow("InstanceProfiles", []string{
			"iam:CreateInstanceProfile", "iam:DeleteInstanceProfile", "iam:GetInstanceProfile",
			"iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile",
			"iam:TagInstanceProfile", "iam:UntagInstanceProfile", "iam:ListInstanceProfileTags",
		}, iam("instance-profile")),
		with(allow("ServiceLinkedRoles", []string{"iam:CreateServiceLinkedRole"}, s.global("iam", "role/aws-service-role/*")),
			"StringEquals", "iam:AWSServiceName", serviceLinkedRoles),
		// The administrators group and the OIDC provider: read only (the boundary's guard-rails).
		allow("ReadAccountIdentities", []string{
			"iam:GetGroup", "iam:ListAttachedGroupPolicies", "iam:ListGroupPolicies", "iam:GetOpenIDConnectProvider",
		}, s.global("iam", "group/"+s.prefix+"-admins"), s.global("iam", "oidc-provider/"+oidcHost)),
		allow("ReadAnalyzer", []string{"access-analyzer:GetAnalyzer"}, s.arn("access-analyzer", "analyzer/"+s.own())),
		allow("StateBucket", []string{"s3:ListBucket", "s3:GetBucketLocation"}, state),
		allow("StateObjects", []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}, state+"/*"),
		// The state bucket is encrypted with the secrets key too.
		s.secretsKey(allow("StateKey", []string{"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"}, s.arn("kms", "key/*"))),
		// The stack's roles go only to the services that run them; the boundary keeps the
		// pipeline roles from being handed to any.
		with(allow("PassRolesToServices", []string{"iam:PassRole"}, iam("role")), "StringEquals", "iam:PassedToService", runtimeServices),
	}
}

// runtimeServices are the services the stack's roles are handed to: the instances, the
// functions and their schedules, AWS Backup, RDS's enhanced monitoring, the VPC's flow logs
// and S3's replication.
var runtimeServices = []string{
	"ec2.amazonaws.com", "lambda.amazonaws.com", "scheduler.amazonaws.com", "backup.amazonaws.com",
	"monitoring.rds.amazonaws.com", "vpc-flow-logs.amazonaws.com", "s3.amazonaws.com",
}

// deployGuards are the deploy role's explicit denies besides the boundary's, which it carries
// too (guard-rails, pipeline identities, roles without the boundary).
func deployGuards(s scope) []security.Statement {
	return []security.Statement{denyOtherRegions(s)}
}

// denyOtherRegions keeps a role in the stack's regions (global services answer in us-east-1).
func denyOtherRegions(s scope) security.Statement {
	return with(deny("OnlyTheStackRegions", []string{"*"}, everything), "StringNotEquals", "aws:RequestedRegion", s.regions)
}
