package delivery

import "github.com/canalco/infra/security"

// previewReads are the configuration reads of the services the program uses: what
// `pulumi preview` (and `preview --refresh`) needs. AWS's ReadOnlyAccess would also read
// objects, secrets, parameters, queues and logs; these are Describe/List/Get of
// configuration only.
var previewReads = []string{
	"ec2:Describe*", "ec2:GetManagedPrefixListEntries", "elasticloadbalancing:Describe*", "autoscaling:Describe*",
	"rds:Describe*", "rds:ListTagsForResource",
	"cloudfront:Get*", "cloudfront:List*", "cloudfront:DescribeFunction",
	"wafv2:GetWebACL", "wafv2:GetIPSet", "wafv2:GetRuleGroup", "wafv2:GetLoggingConfiguration",
	"wafv2:GetWebACLForResource", "wafv2:List*",
	"acm:DescribeCertificate", "acm:ListCertificates", "acm:ListTagsForCertificate",
	"route53:Get*", "route53:List*",
	"lambda:Get*", "lambda:List*",
	"sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueues", "sqs:ListQueueTags", "sqs:ListDeadLetterSourceQueues",
	"sns:GetTopicAttributes", "sns:GetSubscriptionAttributes", "sns:GetDataProtectionPolicy",
	"sns:ListTopics", "sns:ListSubscriptionsByTopic", "sns:ListTagsForResource",
	"events:DescribeRule", "events:ListRules", "events:ListTargetsByRule", "events:ListTagsForResource",
	"scheduler:Get*", "scheduler:List*",
	"ses:GetAccount", "ses:GetEmailIdentity", "ses:GetConfigurationSet", "ses:GetConfigurationSetEventDestinations",
	"ses:ListEmailIdentities", "ses:ListConfigurationSets", "ses:ListTagsForResource", "ses:GetTemplate",
	"ecr:DescribeRepositories", "ecr:DescribeImages", "ecr:ListImages", "ecr:GetLifecyclePolicy",
	"ecr:GetRepositoryPolicy", "ecr:ListTagsForResource",
	"logs:DescribeLogGroups", "logs:DescribeMetricFilters", "logs:DescribeSubscriptionFilters",
	"logs:ListTagsForResource", "logs:ListTagsLogGroup",
	"logs:GetDelivery", "logs:GetDeliverySource", "logs:GetDeliveryDestination", "logs:DescribeResourcePolicies",
	"cloudwatch:DescribeAlarms", "cloudwatch:GetDashboard", "cloudwatch:ListDashboards", "cloudwatch:ListTagsForResource",
	"kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListKeys", "kms:ListResourceTags",
	"secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy", "secretsmanager:ListSecrets",
	"secretsmanager:ListSecretVersionIds",
	"ssm:DescribeParameters", "ssm:ListTagsForResource",
	"iam:GetRole*", "iam:ListRole*", "iam:ListAttached*Policies", "iam:GetPolicy*", "iam:ListPolicy*",
	"iam:GetInstanceProfile", "iam:ListInstanceProfile*", "iam:GetGroup*", "iam:ListGroup*",
	"iam:GetOpenIDConnectProvider", "iam:ListOpenIDConnectProvider*",
	"backup:DescribeBackupVault", "backup:GetBackupPlan", "backup:GetBackupSelection", "backup:GetBackupVault*",
	"backup:ListBackupPlans", "backup:ListBackupSelections", "backup:ListBackupVaults", "backup:ListTags",
	"backup:GetRestoreTestingPlan", "backup:GetRestoreTestingSelection", "backup:ListRestoreTestingPlans",
	"backup:ListRestoreTestingSelections",
	"budgets:ViewBudget", "budgets:ListTagsForResource",
	"ce:GetAnomalyMonitors", "ce:GetAnomalySubscriptions", "ce:ListTagsForResource",
	"access-analyzer:GetAnalyzer", "access-analyzer:ListAnalyzers",
}

// previewPolicies are the preview role's managed policies: it reads configuration and the
// state, and changes nothing.
func previewPolicies(s scope) []policy {
	state := s.stateBucket()
	return []policy{
		{"read", []security.Statement{
			allow("ReadConfiguration", previewReads, everything),
			// Bucket settings of the stack's buckets, not their objects. The provider finds a
			// bucket with HeadBucket, which needs s3:ListBucket (S3 API Reference, HeadBucket).
			allow("ReadBuckets", []string{"s3:GetBucket*", "s3:Get*Configuration", "s3:ListBucket"}, "arn:aws:s3:::"+s.own()),
			// The functions' packages are code the program uploads, not data.
			allow("FunctionPackages", []string{"s3:GetObject", "s3:GetObjectTagging"}, s.artifacts()),
			// AWS's public parameters, and the stack's own, which hold configuration (secrets
			// live in Secrets Manager).
			allow("Parameters", []string{"ssm:GetParameter", "ssm:GetParameters"}, publicParameters, s.parameters()),
			allow("StateBucket", []string{"s3:ListBucket", "s3:GetBucketLocation"}, state),
			allow("StateObjects", []string{"s3:GetObject"}, state+"/*"),
			s.secretsKey(allow("StateKey", []string{"kms:Decrypt", "kms:DescribeKey"}, s.arn("kms", "key/*"))),
		}},
		{"guards", previewGuards(s)},
	}
}

// previewGuards keep the preview role away from data even if a broader policy (such as
// ReadOnlyAccess) is ever attached to it.
func previewGuards(s scope) []security.Statement {
	return []security.Statement{
		deny("NoSecretValues", []string{"secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue"}, everything),
		except(deny("NoObjectReadsButTheState", []string{"s3:GetObject*"}), s.stateBucket()+"/*", s.artifacts()),
		except(deny("NoOtherParameters", []string{"ssm:GetParameter*"}), publicParameters, s.parameters()),
		// Decrypt with the secrets key only: every other key protects data.
		with(deny("NoDecryptButTheSecretsKey", []string{"kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"}, everything),
			"ForAllValues:StringNotEquals", "kms:ResourceAliases", s.secretsAlias()),
		deny("NoDataReads", []string{
			"sqs:ReceiveMessage", "logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery", "logs:StartLiveTail",
			"lambda:InvokeFunction", "ecr:GetDownloadUrlForLayer", "rds:DownloadDBLogFilePortion", "rds:DownloadCompleteDBLogFile",
		}, everything),
		denyOtherRegions(s),
	}
}
