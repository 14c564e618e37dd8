package policy

import (
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/settings"
)

// ruleCase holds, for one rule, a complying and a failing subject (the first resource of each
// list), with the companion resources the check looks at.
type ruleCase struct {
	rule       string
	env        settings.Environment // prod when empty
	pass, fail []*offline.Resource
}

const (
	sgID     = "sg-backend"
	worldTCP = "0.0.0.0/0"
)

var (
	// An ALB in two AZs, with its listener and association living beside it in the cases.
	alb = func(kv ...any) *offline.Resource {
		return res(typeLB, "alb", append([]any{"subnets", list("subnet-a", "subnet-b")}, kv...)...)
	}
	function = func(kv ...any) *offline.Resource {
		return res(typeFunction, "fn", append([]any{"name", "fn", "runtime", "python3.12"}, kv...)...)
	}
	db = func(kv ...any) *offline.Resource {
		return res(typeDB, "db", append([]any{"engine", "postgres"}, kv...)...)
	}
	bucket  = func() *offline.Resource { return res(typeBucket, "docs") }
	dist    = func(kv ...any) *offline.Resource { return res(typeDistribution, "cdn", kv...) }
	s3orig  = obj("originId", "s3", "domainName", "docs.s3.us-east-1.amazonaws.com", "originAccessControlId", "oac")
	albOrig = func(kv ...any) map[string]any {
		return obj(append([]any{"originId", "api", "domainName", "alb.elb.amazonaws.com", "customOriginConfig.originProtocolPolicy", "https-only"}, kv...)...)
	}
	queue = func(kv ...any) *offline.Resource { return res(typeQueue, "q", append([]any{"name", "q"}, kv...)...) }
	role  = func(trust string) *offline.Resource {
		return res(typeRole, "role", "assumeRolePolicy", policyDoc(trust))
	}
	allow = func(action, resource string) *offline.Resource {
		return res("aws:iam/rolePolicy:RolePolicy", "perm", "policy", policyDoc(`{"Effect":"Allow","Action":["`+action+`"],"Resource":"`+resource+`"}`))
	}
)

var ruleCases = []ruleCase{
	// Network.
	{rule: "EC2.2",
		pass: []*offline.Resource{res(typeVpc, "vpc"), res(typeDefaultSG, "default", "vpcId", "vpc")},
		fail: []*offline.Resource{res(typeVpc, "vpc"), res(typeDefaultSG, "default", "vpcId", "vpc", "ingress", list(obj("fromPort", 0.0, "toPort", 0.0, "protocol", "-1", "self", true)))}},
	{rule: "EC2.6",
		pass: []*offline.Resource{res(typeVpc, "vpc"), res(typeFlowLog, "fl", "vpcId", "vpc", "trafficType", "ALL")},
		fail: []*offline.Resource{res(typeVpc, "vpc"), res(typeFlowLog, "fl", "vpcId", "vpc", "trafficType", "ACCEPT")}},
	{rule: "EC2.15",
		pass: []*offline.Resource{res(typeSubnet, "s", "mapPublicIpOnLaunch", false)},
		fail: []*offline.Resource{res(typeSubnet, "s", "mapPublicIpOnLaunch", true)}},
	{rule: "EC2.18",
		pass: []*offline.Resource{res(typeIngressRule, "in", "cidrIpv4", worldTCP, "fromPort", 443.0, "toPort", 443.0, "ipProtocol", "tcp")},
		fail: []*offline.Resource{res(typeIngressRule, "in", "cidrIpv4", worldTCP, "fromPort", 8000.0, "toPort", 8000.0, "ipProtocol", "tcp")}},
	{rule: "EC2.19",
		pass: []*offline.Resource{res(typeIngressRule, "in", "referencedSecurityGroupId", sgID, "fromPort", 5432.0, "toPort", 5432.0, "ipProtocol", "tcp")},
		fail: []*offline.Resource{res(typeSGRule, "in", "type", "ingress", "cidrBlocks", list(worldTCP), "fromPort", 5000.0, "toPort", 5500.0, "protocol", "tcp")}},
	{rule: "EC2.13",
		pass: []*offline.Resource{res(typeIngressRule, "in", "cidrIpv4", "10.0.0.0/16", "fromPort", 22.0, "toPort", 22.0, "ipProtocol", "tcp")},
		fail: []*offline.Resource{res(typeSG, "sg", "ingress", list(obj("cidrBlocks", list(worldTCP), "fromPort", 22.0, "toPort", 22.0, "protocol", "tcp")))}},
	{rule: "EC2.14",
		pass: []*offline.Resource{res(typeIngressRule, "in", "cidrIpv6", "::/0", "fromPort", 443.0, "toPort", 443.0, "ipProtocol", "tcp")},
		fail: []*offline.Resource{res(typeIngressRule, "in", "cidrIpv6", "::/0", "fromPort", 0.0, "toPort", 0.0, "ipProtocol", "-1")}},
	{rule: "Canalco.1",
		pass: []*offline.Resource{res(typeSG, "sg", "description", "Backend", "ingress", list(obj("description", "from ALB")))},
		fail: []*offline.Resource{res(typeEgressRule, "out", "fromPort", 443.0, "toPort", 443.0)}},
	{rule: "Canalco.2",
		pass: []*offline.Resource{res(typeEgressRule, "out", "cidrIpv4", worldTCP, "fromPort", 443.0, "toPort", 443.0, "ipProtocol", "tcp")},
		fail: []*offline.Resource{res(typeSG, "sg", "egress", list(obj("cidrBlocks", list(worldTCP), "protocol", "-1")))}},

	// Compute.
	{rule: "EC2.8",
		pass: []*offline.Resource{res(typeLaunchTemplate, "lt", "metadataOptions.httpTokens", "required")},
		fail: []*offline.Resource{res(typeLaunchTemplate, "lt", "metadataOptions.httpTokens", "optional")}},
	{rule: "EC2.25",
		pass: []*offline.Resource{res(typeLaunchTemplate, "lt", "networkInterfaces", list(obj("associatePublicIpAddress", "false")))},
		fail: []*offline.Resource{res(typeLaunchTemplate, "lt", "networkInterfaces", list(obj("associatePublicIpAddress", "true")))}},
	{rule: "EC2.9",
		pass: []*offline.Resource{res(typeInstance, "i")},
		fail: []*offline.Resource{res(typeInstance, "i", "associatePublicIpAddress", true)}},
	{rule: "EC2.3",
		pass: []*offline.Resource{res(typeLaunchTemplate, "lt", "blockDeviceMappings", list(obj("deviceName", "/dev/xvda", "ebs.encrypted", "true")))},
		fail: []*offline.Resource{res(typeLaunchTemplate, "lt")}},
	{rule: "EC2.7",
		pass: []*offline.Resource{res(typeEbsDefault, "ebs", "enabled", true)},
		fail: []*offline.Resource{res(typeEbsDefault, "ebs", "enabled", false)}},
	{rule: "AutoScaling.1",
		pass: []*offline.Resource{res(typeASG, "asg", "targetGroupArns", list("tg"), "healthCheckType", "ELB")},
		fail: []*offline.Resource{res(typeASG, "asg", "targetGroupArns", list("tg"), "healthCheckType", "EC2")}},
	{rule: "AutoScaling.2",
		pass: []*offline.Resource{res(typeASG, "asg", "vpcZoneIdentifiers", list("subnet-a", "subnet-b")), subnetA, subnetB},
		fail: []*offline.Resource{res(typeASG, "asg", "vpcZoneIdentifiers", list("subnet-a")), subnetA}},
	{rule: "AutoScaling.6",
		pass: []*offline.Resource{res(typeASG, "asg", "vpcZoneIdentifiers", list("subnet-a", "subnet-b"),
			"mixedInstancesPolicy.launchTemplate.overrides", list(obj("instanceType", "t3.medium"), obj("instanceType", "t3a.medium"))), subnetA, subnetB},
		fail: []*offline.Resource{res(typeASG, "asg", "vpcZoneIdentifiers", list("subnet-a", "subnet-b"), "launchTemplate.id", "lt"), subnetA, subnetB}},
	{rule: "AutoScaling.9",
		pass: []*offline.Resource{res(typeASG, "asg", "launchTemplate.id", "lt")},
		fail: []*offline.Resource{res(typeASG, "asg", "launchConfiguration", "lc")}},
	{rule: "ECR.1",
		pass: []*offline.Resource{res(typeEcrRepo, "repo", "imageScanningConfiguration.scanOnPush", true)},
		fail: []*offline.Resource{res(typeEcrRepo, "repo")}},
	{rule: "ECR.2",
		pass: []*offline.Resource{res(typeEcrRepo, "repo", "imageTagMutability", "IMMUTABLE")},
		fail: []*offline.Resource{res(typeEcrRepo, "repo", "imageTagMutability", "MUTABLE")}},
	{rule: "ECR.3",
		pass: []*offline.Resource{res(typeEcrRepo, "repo", "name", "repo"), res(typeEcrLifecycle, "lc", "repository", "repo")},
		fail: []*offline.Resource{res(typeEcrRepo, "repo", "name", "repo")}},

	// Load balancer.
	{rule: "ELB.1",
		pass: []*offline.Resource{alb(), res(typeListener, "http", "loadBalancerArn", "arn:aws:test:::alb", "protocol", "HTTP", "port", 80.0,
			"defaultActions", list(obj("type", "redirect", "redirect.protocol", "HTTPS", "redirect.port", "443")))},
		fail: []*offline.Resource{alb(), res(typeListener, "http", "loadBalancerArn", "arn:aws:test:::alb", "protocol", "HTTP", "port", 80.0,
			"defaultActions", list(obj("type", "forward", "targetGroupArn", "tg")))}},
	{rule: "ELB.4", pass: []*offline.Resource{alb("dropInvalidHeaderFields", true)}, fail: []*offline.Resource{alb()}},
	{rule: "ELB.5",
		pass: []*offline.Resource{alb("accessLogs.enabled", true, "accessLogs.bucket", "logs")},
		fail: []*offline.Resource{alb("accessLogs.enabled", false, "accessLogs.bucket", "logs")}},
	{rule: "ELB.6", pass: []*offline.Resource{alb("enableDeletionProtection", true)}, fail: []*offline.Resource{alb()}},
	{rule: "ELB.12", pass: []*offline.Resource{alb()}, fail: []*offline.Resource{alb("desyncMitigationMode", "monitor")}},
	{rule: "ELB.13",
		pass: []*offline.Resource{alb(), subnetA, subnetB},
		fail: []*offline.Resource{res(typeLB, "alb", "subnetMappings", list(obj("subnetId", "subnet-a"))), subnetA}},
	{rule: "ELB.16",
		pass: []*offline.Resource{alb(), res(typeWafAssociation, "waf", "resourceArn", "arn:aws:test:::alb", "webAclArn", "acl")},
		fail: []*offline.Resource{alb()}},
	{rule: "ELB.17",
		pass: []*offline.Resource{res(typeListener, "https", "protocol", "HTTPS", "sslPolicy", "ELBSecurityPolicy-TLS13-1-2-2021-06")},
		fail: []*offline.Resource{res(typeListener, "https", "protocol", "HTTPS", "sslPolicy", "ELBSecurityPolicy-2016-08")}},

	// Database.
	{rule: "RDS.2", pass: []*offline.Resource{db("publiclyAccessible", false)}, fail: []*offline.Resource{db("publiclyAccessible", true)}},
	{rule: "RDS.3",
		pass: []*offline.Resource{res(typeDB, "replica", "replicateSourceDb", "db"), db("identifier", "db", "storageEncrypted", true)},
		fail: []*offline.Resource{db()}},
	{rule: "RDS.4",
		pass: []*offline.Resource{res(typeDBSnapshot, "snap", "dbInstanceIdentifier", "db"), db("storageEncrypted", true)},
		fail: []*offline.Resource{res(typeDBSnapshot, "snap", "dbInstanceIdentifier", "db"), db()}},
	{rule: "RDS.5", pass: []*offline.Resource{db("multiAz", true)}, fail: []*offline.Resource{db("multiAz", false)}},
	{rule: "RDS.6",
		pass: []*offline.Resource{db("monitoringInterval", 60.0, "monitoringRoleArn", "role")},
		fail: []*offline.Resource{db("monitoringInterval", 0.0)}},
	{rule: "RDS.8", pass: []*offline.Resource{db("deletionProtection", true)}, fail: []*offline.Resource{db()}},
	{rule: "RDS.9",
		pass: []*offline.Resource{db("enabledCloudwatchLogsExports", list("postgresql", "upgrade"))},
		fail: []*offline.Resource{db("enabledCloudwatchLogsExports", list("postgresql"))}},
	{rule: "RDS.10", pass: []*offline.Resource{db("iamDatabaseAuthenticationEnabled", true)}, fail: []*offline.Resource{db()}},
	{rule: "RDS.11", pass: []*offline.Resource{db("backupRetentionPeriod", 30.0)}, fail: []*offline.Resource{db("backupRetentionPeriod", 1.0)}},
	{rule: "RDS.13", pass: []*offline.Resource{db()}, fail: []*offline.Resource{db("autoMinorVersionUpgrade", false)}},
	{rule: "RDS.17", pass: []*offline.Resource{db("copyTagsToSnapshot", true)}, fail: []*offline.Resource{db()}},
	{rule: "RDS.18", pass: []*offline.Resource{db("dbSubnetGroupName", "dbs")}, fail: []*offline.Resource{db()}},
	{rule: "RDS.23", pass: []*offline.Resource{db("port", 6543.0)}, fail: []*offline.Resource{db()}},
	{rule: "RDS.25", pass: []*offline.Resource{db("username", "canalco_admin")}, fail: []*offline.Resource{db("username", "postgres")}},
	{rule: "Canalco.3",
		pass: []*offline.Resource{db("manageMasterUserPassword", true)},
		fail: []*offline.Resource{db("password", offline.Secret{Value: "x"})}},
	{rule: "Canalco.3",
		pass: []*offline.Resource{db("identifier", "db", "password", offline.Secret{Value: "x"}), masterVersion("db"),
			res(typeSecret, "master", "kmsKeyId", "arn:aws:test:::key"), res(typeSecretRotation, "rot", "secretId", "arn:aws:test:::master")},
		fail: []*offline.Resource{db("identifier", "db", "password", offline.Secret{Value: "x"}), masterVersion("db"),
			res(typeSecret, "master"), res(typeSecretRotation, "rot", "secretId", "arn:aws:test:::master")}},
	{rule: "Canalco.3",
		pass: []*offline.Resource{db("identifier", "db", "password", offline.Secret{Value: "x"}), masterVersion("db"),
			res(typeSecret, "master", "kmsKeyId", "arn:aws:test:::key"), res(typeSecretRotation, "rot", "secretId", "arn:aws:test:::master")},
		fail: []*offline.Resource{db("identifier", "db", "password", offline.Secret{Value: "x"}), masterVersion("db"),
			res(typeSecret, "master", "kmsKeyId", "arn:aws:test:::key")}},
	{rule: "Canalco.4",
		pass: []*offline.Resource{db("engineVersion", "14", "parameterGroupName", "pg"),
			res(typeParameterGroup, "pg", "name", "pg", "parameters", list(obj("name", "rds.force_ssl", "value", "1")))},
		fail: []*offline.Resource{db("engineVersion", "14")}},
	{rule: "Canalco.5",
		pass: []*offline.Resource{db("performanceInsightsEnabled", true, "performanceInsightsKmsKeyId", "key")},
		fail: []*offline.Resource{db("performanceInsightsEnabled", true)}},

	// Buckets.
	{rule: "S3.1",
		pass: []*offline.Resource{res(typeAccountPAB, "pab", "blockPublicAcls", true, "blockPublicPolicy", true, "ignorePublicAcls", true, "restrictPublicBuckets", true)},
		fail: []*offline.Resource{res(typeAccountPAB, "pab", "blockPublicAcls", true)}},
	{rule: "S3.8",
		pass: []*offline.Resource{bucket(), res(typePAB, "pab", "bucket", "docs", "blockPublicAcls", true, "blockPublicPolicy", true, "ignorePublicAcls", true, "restrictPublicBuckets", true)},
		fail: []*offline.Resource{bucket(), res(typePAB, "pab", "bucket", "docs", "blockPublicAcls", true, "blockPublicPolicy", true, "ignorePublicAcls", true)}},
	{rule: "S3.5",
		pass: []*offline.Resource{bucket(), res(typeBucketPolicy, "bp", "bucket", "docs", "policy",
			policyDoc(`{"Effect":"Deny","Principal":{"AWS":"*"},"Action":["s3:*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}`))},
		fail: []*offline.Resource{bucket()}},
	{rule: "S3.9",
		pass: []*offline.Resource{bucket(), res(typeBucketLogging, "bl", "bucket", "docs", "targetBucket", "logs")},
		fail: []*offline.Resource{bucket()}},
	{rule: "S3.12",
		pass: []*offline.Resource{bucket(), res(typeOwnership, "oc", "bucket", "docs", "rule.objectOwnership", "BucketOwnerEnforced")},
		fail: []*offline.Resource{bucket(), res(typeOwnership, "oc", "bucket", "docs", "rule.objectOwnership", "BucketOwnerEnforced"), res(typeBucketACL, "acl", "bucket", "docs", "acl", "public-read")}},
	{rule: "S3.13",
		pass: []*offline.Resource{bucket(), res(typeLifecycle, "lc", "bucket", "docs", "rules", list(obj("id", "glacier", "status", "Enabled")))},
		fail: []*offline.Resource{bucket(), res(typeLifecycle, "lc", "bucket", "docs", "rules", list(obj("id", "glacier", "status", "Disabled")))}},
	{rule: "S3.14",
		pass: []*offline.Resource{bucket(), res(typeVersioning, "v", "bucket", "docs", "versioningConfiguration.status", "Enabled")},
		fail: []*offline.Resource{bucket(), res(typeVersioning, "v", "bucket", "docs", "versioningConfiguration.status", "Suspended")}},
	{rule: "S3.17",
		pass: []*offline.Resource{bucket(), res(typeEncryption, "e", "bucket", "docs", "rules", list(obj("applyServerSideEncryptionByDefault.sseAlgorithm", "aws:kms")))},
		fail: []*offline.Resource{bucket(), res(typeEncryption, "e", "bucket", "docs", "rules", list(obj("applyServerSideEncryptionByDefault.sseAlgorithm", "AES256")))}},

	// CloudFront and WAF.
	{rule: "CloudFront.1",
		pass: []*offline.Resource{dist("origins", list(s3orig), "defaultRootObject", "index.html")},
		fail: []*offline.Resource{dist("origins", list(s3orig))}},
	{rule: "CloudFront.3",
		pass: []*offline.Resource{dist("defaultCacheBehavior.viewerProtocolPolicy", "redirect-to-https",
			"orderedCacheBehaviors", list(obj("pathPattern", "/api/*", "viewerProtocolPolicy", "https-only")))},
		fail: []*offline.Resource{dist("defaultCacheBehavior.viewerProtocolPolicy", "redirect-to-https",
			"orderedCacheBehaviors", list(obj("pathPattern", "/api/*", "viewerProtocolPolicy", "allow-all")))}},
	{rule: "CloudFront.5",
		pass: []*offline.Resource{dist(), res(typeLogDelivery, "src", "resourceArn", "arn:aws:test:::cdn", "logType", "ACCESS_LOGS")},
		fail: []*offline.Resource{dist()}},
	{rule: "CloudFront.6", pass: []*offline.Resource{dist("webAclId", "acl")}, fail: []*offline.Resource{dist()}},
	{rule: "CloudFront.7",
		pass: []*offline.Resource{dist("viewerCertificate.acmCertificateArn", "cert")},
		fail: []*offline.Resource{dist("viewerCertificate.cloudfrontDefaultCertificate", true)}},
	{rule: "CloudFront.8",
		pass: []*offline.Resource{dist("viewerCertificate.acmCertificateArn", "cert", "viewerCertificate.sslSupportMethod", "sni-only")},
		fail: []*offline.Resource{dist("viewerCertificate.acmCertificateArn", "cert", "viewerCertificate.sslSupportMethod", "vip")}},
	{rule: "CloudFront.9",
		pass: []*offline.Resource{dist("origins", list(albOrig()))},
		fail: []*offline.Resource{dist("origins", list(albOrig("customOriginConfig.originProtocolPolicy", "http-only")))}},
	{rule: "CloudFront.10",
		pass: []*offline.Resource{dist("origins", list(albOrig("customOriginConfig.originSslProtocols", list("TLSv1.2"))))},
		fail: []*offline.Resource{dist("origins", list(albOrig("customOriginConfig.originSslProtocols", list("SSLv3", "TLSv1.2"))))}},
	{rule: "CloudFront.12",
		pass: []*offline.Resource{dist("origins", list(s3orig)), bucket()},
		fail: []*offline.Resource{dist("origins", list(s3orig))}},
	{rule: "CloudFront.13",
		pass: []*offline.Resource{dist("origins", list(s3orig))},
		fail: []*offline.Resource{dist("origins", list(obj("originId", "s3", "domainName", "docs.s3.us-east-1.amazonaws.com")))}},
	{rule: "Canalco.6",
		pass: []*offline.Resource{dist("viewerCertificate.acmCertificateArn", "cert", "viewerCertificate.minimumProtocolVersion", "TLSv1.2_2021")},
		fail: []*offline.Resource{dist("viewerCertificate.acmCertificateArn", "cert", "viewerCertificate.minimumProtocolVersion", "TLSv1_2016")}},
	{rule: "WAF.10",
		pass: []*offline.Resource{res(typeWebACL, "acl", "rules", list(obj("name", "common")))},
		fail: []*offline.Resource{res(typeWebACL, "acl")}},
	{rule: "WAF.11",
		pass: []*offline.Resource{res(typeWebACL, "acl"), res(typeWebACLLogging, "log", "resourceArn", "arn:aws:test:::acl")},
		fail: []*offline.Resource{res(typeWebACL, "acl")}},
	{rule: "WAF.12",
		pass: []*offline.Resource{res(typeWebACL, "acl", "visibilityConfig.cloudwatchMetricsEnabled", true,
			"rules", list(obj("name", "common", "visibilityConfig.cloudwatchMetricsEnabled", true)))},
		fail: []*offline.Resource{res(typeWebACL, "acl", "visibilityConfig.cloudwatchMetricsEnabled", true,
			"rules", list(obj("name", "common", "visibilityConfig.cloudwatchMetricsEnabled", false)))}},

	// Serverless.
	{rule: "Lambda.1",
		pass: []*offline.Resource{res(typePermission, "p", "principal", "scheduler.amazonaws.com", "sourceArn", "arn:schedule")},
		fail: []*offline.Resource{res(typePermission, "p", "principal", "s3.amazonaws.com")}},
	{rule: "Lambda.2", pass: []*offline.Resource{function()}, fail: []*offline.Resource{function("runtime", "python3.9")}},
	{rule: "Lambda.3",
		pass: []*offline.Resource{function("vpcConfig.subnetIds", list("subnet-a"))},
		fail: []*offline.Resource{function()}},
	{rule: "Lambda.5",
		pass: []*offline.Resource{function("vpcConfig.subnetIds", list("subnet-a", "subnet-b")), subnetA, subnetB},
		fail: []*offline.Resource{function("vpcConfig.subnetIds", list("subnet-a")), subnetA}},
	{rule: "Lambda.7", pass: []*offline.Resource{function("tracingConfig.mode", "Active")}, fail: []*offline.Resource{function("tracingConfig.mode", "PassThrough")}},
	{rule: "Canalco.7",
		pass: []*offline.Resource{function("loggingConfig.logGroup", "/canalco/fn"), res(typeLogGroup, "lg", "name", "/canalco/fn")},
		fail: []*offline.Resource{function()}},
	{rule: "Canalco.8",
		pass: []*offline.Resource{function(), queue("redrivePolicy", `{"deadLetterTargetArn":"dlq","maxReceiveCount":5}`),
			res(typeEventMapping, "m", "functionName", "fn", "eventSourceArn", "arn:aws:test:::q")},
		fail: []*offline.Resource{function(), queue(), res(typeEventMapping, "m", "functionName", "fn", "eventSourceArn", "arn:aws:test:::q")}},
	{rule: "SQS.1", pass: []*offline.Resource{queue("kmsMasterKeyId", "key")}, fail: []*offline.Resource{queue("sqsManagedSseEnabled", false)}},
	{rule: "SQS.3",
		pass: []*offline.Resource{queue("url", "https://q"), res(typeQueuePolicy, "qp", "queueUrl", "https://q", "policy",
			policyDoc(`{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Condition":{"ArnEquals":{"aws:SourceArn":"t"}}}`))},
		fail: []*offline.Resource{queue("url", "https://q"), res(typeQueuePolicy, "qp", "queueUrl", "https://q", "policy",
			policyDoc(`{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage"}`))}},
	{rule: "Canalco.9",
		pass: []*offline.Resource{queue(), res(typeQueue, "work", "redrivePolicy", `{"deadLetterTargetArn":"arn:aws:test:::q"}`)},
		fail: []*offline.Resource{queue()}},
	{rule: "SNS.1", pass: []*offline.Resource{res(typeTopic, "t", "kmsMasterKeyId", "key")}, fail: []*offline.Resource{res(typeTopic, "t")}},
	{rule: "SNS.4",
		pass: []*offline.Resource{res(typeTopic, "t", "policy", policyDoc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sns:Publish"}`))},
		fail: []*offline.Resource{res(typeTopic, "t"), res(typeTopicPolicy, "tp", "arn", "arn:aws:test:::t", "policy", policyDoc(`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sns:Publish"}`))}},
	{rule: "Canalco.10",
		pass: []*offline.Resource{res(typeSubscription, "s", "protocol", "https")},
		fail: []*offline.Resource{res(typeSubscription, "s", "protocol", "http")}},
	{rule: "Canalco.11",
		pass: []*offline.Resource{res(typeConfigSet, "cs", "deliveryOptions.tlsPolicy", "REQUIRE")},
		fail: []*offline.Resource{res(typeConfigSet, "cs", "deliveryOptions.tlsPolicy", "OPTIONAL")}},

	// Keys, secrets and certificates.
	{rule: "KMS.3",
		pass: []*offline.Resource{func() *offline.Resource { k := res(typeKey, "k"); k.Protect, k.RetainOnDelete = true, true; return k }()},
		fail: []*offline.Resource{res(typeKey, "k", "deletionWindowInDays", 30.0)}},
	{rule: "KMS.4", pass: []*offline.Resource{res(typeKey, "k", "enableKeyRotation", true)}, fail: []*offline.Resource{res(typeKey, "k")}},
	{rule: "KMS.5",
		pass: []*offline.Resource{res(typeKey, "k", "policy", policyDoc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"}`))},
		fail: []*offline.Resource{res(typeKey, "k", "policy", policyDoc(`{"Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*"}`))}},
	{rule: "SecretsManager.1",
		pass: []*offline.Resource{res(typeSecret, "s"), res(typeSecretRotation, "rot", "secretId", "arn:aws:test:::s")},
		fail: []*offline.Resource{res(typeSecret, "s")}},
	{rule: "SecretsManager.4",
		pass: []*offline.Resource{res(typeSecret, "s"), res(typeSecretRotation, "rot", "secretId", "arn:aws:test:::s", "rotationRules.automaticallyAfterDays", 30.0)},
		fail: []*offline.Resource{res(typeSecret, "s"), res(typeSecretRotation, "rot", "secretId", "arn:aws:test:::s", "rotationRules.automaticallyAfterDays", 120.0)}},
	{rule: "SecretsManager.3",
		pass: []*offline.Resource{res(typeSecret, "s"), allow("secretsmanager:GetSecretValue", "arn:aws:test:::s")},
		fail: []*offline.Resource{res(typeSecret, "s"), res(typeSecretRotation, "rot", "secretId", "arn:aws:test:::s")}},
	{rule: "ACM.2",
		pass: []*offline.Resource{res(typeCertificate, "c", "keyAlgorithm", "EC_prime256v1")},
		fail: []*offline.Resource{res(typeCertificate, "c", "keyAlgorithm", "RSA_1024")}},

	// Observability.
	{rule: "CloudWatch.16",
		pass: []*offline.Resource{res(typeLogGroup, "lg", "retentionInDays", 365.0)},
		fail: []*offline.Resource{res(typeLogGroup, "lg", "retentionInDays", 90.0)}},
	{rule: "Canalco.12", pass: []*offline.Resource{res(typeLogGroup, "lg", "retentionInDays", 30.0)}, fail: []*offline.Resource{res(typeLogGroup, "lg")}},
	{rule: "Canalco.13", pass: []*offline.Resource{res(typeLogGroup, "lg", "kmsKeyId", "key")}, fail: []*offline.Resource{res(typeLogGroup, "lg")}},
	{rule: "CloudWatch.15",
		pass: []*offline.Resource{res(typeAlarm, "a", "alarmActions", list("topic"))},
		fail: []*offline.Resource{res(typeAlarm, "a", "alarmActions", list())}},
	{rule: "CloudWatch.17",
		pass: []*offline.Resource{res(typeCompositeAlarm, "a", "actionsEnabled", true)},
		fail: []*offline.Resource{res(typeAlarm, "a", "actionsEnabled", false)}},
	{rule: "Canalco.14",
		pass: []*offline.Resource{res(typeBudget, "b", "notifications", list(obj("subscriberEmailAddresses", list("ops@example.com"))))},
		fail: []*offline.Resource{res(typeBudget, "b", "notifications", list(obj("threshold", 80.0)))}},

	// Identity.
	{rule: "IAM.1", pass: []*offline.Resource{allow("s3:GetObject", "*")}, fail: []*offline.Resource{allow("*", "*")}},
	{rule: "IAM.21", pass: []*offline.Resource{allow("s3:Get*", "arn:aws:s3:::docs/*")}, fail: []*offline.Resource{allow("s3:*", "arn:aws:s3:::docs/*")}},
	{rule: "IAM.2",
		pass: []*offline.Resource{res(typeUser, "u", "name", "u")},
		fail: []*offline.Resource{res(typeUser, "u", "name", "u"), res(typeUserPolicyAttachment, "att", "user", "u", "policyArn", "arn:aws:iam::aws:policy/AdministratorAccess")}},
	{rule: "Canalco.15",
		pass: []*offline.Resource{role(`{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"},` +
			`{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}}`)},
		fail: []*offline.Resource{role(`{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity"}`)}},
}

// outcome evaluates one rule alone, without exceptions, and returns the subject's findings.
func outcome(t *testing.T, id string, env settings.Environment, resources []*offline.Resource) (passed bool, msg string) {
	t.Helper()
	var rules []Rule
	for _, r := range Rules() {
		if r.ID == id {
			rules = append(rules, r)
		}
	}
	if len(rules) != 1 {
		t.Fatalf("%d rules with ID %s", len(rules), id)
	}
	if env == "" {
		env = settings.Prod
	}
	rep := EvaluateRules(&offline.Result{Resources: resources}, settings.Profile(env, "us-east-1"), rules, nil)
	for _, f := range rep.Failures {
		if f.Resource == resources[0] {
			return false, f.Message
		}
	}
	if rep.Passed == 0 {
		t.Fatalf("%s did not evaluate %s %s", id, resources[0].Type, resources[0].Name)
	}
	return true, ""
}

func TestEveryRuleHasAPassingAndAFailingResource(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range ruleCases {
		covered[c.rule] = true
		t.Run(c.rule, func(t *testing.T) {
			if ok, msg := outcome(t, c.rule, c.env, c.pass); !ok {
				t.Errorf("complying %s fails: %s", c.pass[0].Type, msg)
			}
			ok, msg := outcome(t, c.rule, c.env, c.fail)
			if ok {
				t.Errorf("failing %s passes", c.fail[0].Type)
			} else if msg == "" {
				t.Error("failure without a message")
			}
		})
	}
	for _, r := range Rules() {
		if !covered[r.ID] {
			t.Errorf("rule %s has no test case", r.ID)
		}
	}
}

func TestRulesAreWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		if seen[r.ID] {
			t.Errorf("duplicate rule %s", r.ID)
		}
		seen[r.ID] = true
		if r.Title == "" || r.Fix == "" || r.Check == nil || len(r.ResourceTypes) == 0 || r.Severity < Low || r.Severity > Critical {
			t.Errorf("rule %s lacks a title, fix, check, resource type or severity", r.ID)
		}
		if (r.Framework == Canalco) != (len(r.ID) > 8 && r.ID[:8] == "Canalco.") {
			t.Errorf("rule %s: framework %s does not match its ID", r.ID, r.Framework)
		}
	}
	for _, e := range Exceptions() {
		if !seen[e.RuleID] || e.Reason == "" || e.Match == nil {
			t.Errorf("exception for %s names no rule of the pack or has no reason", e.RuleID)
		}
	}
}

// Environment-specific rules apply only where the profile asks for them.
func TestEnvironmentSpecificRules(t *testing.T) {
	for _, c := range []struct {
		id   string
		env  settings.Environment
		want bool
	}{
		{"RDS.5", settings.Dev, false}, {"RDS.5", settings.Staging, true}, {"RDS.8", settings.Dev, false},
		{"ELB.6", settings.Dev, false}, {"ELB.6", settings.Prod, true}, {"CloudFront.6", settings.Staging, false},
		{"CloudFront.6", settings.Prod, true}, {"CloudWatch.16", settings.Staging, false}, {"EC2.2", settings.Dev, true},
	} {
		for _, r := range Rules() {
			if r.ID == c.id && (r.AppliesTo == nil || r.AppliesTo(c.env)) != c.want {
				t.Errorf("%s applies to %s: %v, want %v", c.id, c.env, !c.want, c.want)
			}
		}
	}
}

// masterVersion is a master secret's first version naming the instance, as the data layer writes it.
func masterVersion(instance string) *offline.Resource {
	return res("aws:secretsmanager/secretVersion:SecretVersion", "master-v1", "secretId", "arn:aws:test:::master",
		"secretString", offline.Secret{Value: `{"dbInstanceIdentifier":"` + instance + `","password":"x"}`})
}
