package policy

import (
	"strings"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/review/graph"
)

// Exceptions are the failures the platform accepts, each matched narrowly and with its reason.
func Exceptions() []Exception {
	return []Exception{
		{
			RuleID: "RDS.23",
			Match:  func(r *offline.Resource, _ *Context) bool { return r.Str("engine") == "postgres" && dbPort(r) == 5432 },
			Reason: "the seed's security-group table fixes PostgreSQL on 5432; the instance has no route to the internet and admits only the backend's security group, so another port would hide nothing",
		},
		{
			RuleID: "ELB.16",
			Match:  cloudFrontOnly,
			Reason: "the load balancer admits only CloudFront's origin-facing addresses, so every request has already passed CloudFront, where the web ACL belongs (CloudFront.6)",
		},
		{
			RuleID: "ELB.1",
			Match: func(r *offline.Resource, ctx *Context) bool {
				return !ctx.Settings.Domain.HasAPICertificate() && cloudFrontOnly(r, ctx)
			},
			Reason: "dev only (no apiDomain, so no certificate): the load balancer is internal and listens on HTTP for CloudFront's VPC origin alone; that hop never crosses the internet, which is what ELB.1 guards against, and viewers are redirected to HTTPS at CloudFront (CloudFront.3)",
		},
		{
			RuleID: "CloudFront.9",
			Match: func(r *offline.Resource, ctx *Context) bool {
				return !ctx.Settings.Domain.HasAPICertificate() && allALBsCloudFrontOnly(ctx)
			},
			Reason: "dev only (no apiDomain, so no certificate): CloudFront reaches the internal load balancer over HTTP through a VPC origin, inside AWS's network, never over the internet, which is CloudFront.9's concern; the load balancer admits only CloudFront's VPC origin",
		},
		{
			RuleID: "CloudFront.7",
			Match: func(r *offline.Resource, ctx *Context) bool {
				return len(r.List("aliases")) == 0 && !ctx.Settings.Domain.HasAppCertificate()
			},
			Reason: "a stack without an app certificate (dev: no appDomain) serves the app on its cloudfront.net name, which only CloudFront's own certificate can cover",
		},
		{
			RuleID: "IAM.21",
			Match:  isPermissionsBoundary,
			Reason: "a permissions boundary grants nothing, it caps: its service wildcards are the stack's services, which no identity policy of the stack grants whole (AWS Config's IAM policy rules take excludePermissionBoundaryPolicy to leave boundaries out for this reason)",
		},
		{
			RuleID: "S3.17",
			Match:  isLoadBalancerLogTarget,
			Reason: "load balancer access logs can be delivered only to a bucket encrypted with SSE-S3; AWS rejects SSE-KMS there",
		},
		{
			RuleID: "S3.9",
			Match:  isAccessLogTarget,
			Reason: "this is the bucket that receives the access logs; logging it into itself would log its own log deliveries without end",
		},
		{
			RuleID: "S3.12",
			Match:  isCloudFrontLogTarget,
			Reason: "CloudFront standard logs are written through the awslogsdelivery ACL, so AWS requires ACLs enabled on their bucket",
		},
		{
			RuleID: "Lambda.3",
			Match:  func(r *offline.Resource, _ *Context) bool { return !readsDatabase(r) },
			Reason: "the function calls only AWS APIs (SQS, S3, SES, SNS) and never the database; inside the VPC it would need the NAT gateways or paid interface endpoints for no protection gained",
		},
		{
			RuleID: "Canalco.15",
			Match:  func(r *offline.Resource, _ *Context) bool { return onlyTrusts(r, "backup.amazonaws.com") },
			Reason: "AWS Backup assumes only a role that was passed to it (iam:PassRole) in a backup selection of this account, and AWS documents source-context conditions for Backup's resource policies, not for its role trust",
		},
		{
			RuleID: "SecretsManager.4",
			Match:  func(r *offline.Resource, _ *Context) bool { return strings.Contains(r.Str("name"), "smtp") },
			Reason: "the SMTP OAuth2 client secret is issued by Microsoft Entra ID; AWS cannot rotate it (SecretsManager.1's exception)",
		},
		{
			RuleID: "Canalco.8",
			Match:  func(r *offline.Resource, _ *Context) bool { return strings.HasSuffix(r.Str("name"), "-rotation") },
			Reason: "only Secrets Manager invokes the rotation function, one step at a time; a failed step fails the rotation, which Secrets Manager records and retries with the same token, and AWSCURRENT never moves until the last step succeeds, so there is no lost event for a queue to keep; the function's error alarm reports it",
		},
		{
			RuleID: "SecretsManager.1",
			Match:  func(r *offline.Resource, _ *Context) bool { return strings.Contains(r.Str("name"), "smtp") },
			Reason: "the SMTP OAuth2 client secret is issued by Microsoft Entra ID; AWS cannot rotate it (renew it in the Entra admin center, then `pulumi config set --secret canalco:smtpClientSecret`)",
		},
	}
}

// cloudFrontOnly reports whether every ingress rule of the load balancer's security groups
// admits only a managed prefix list (CloudFront's origin-facing addresses).
func cloudFrontOnly(r *offline.Resource, ctx *Context) bool {
	groups := ctx.Refs(r.Get("securityGroups"), typeSG)
	if len(groups) == 0 {
		return false
	}
	for _, sg := range groups {
		rules := ctx.Pointing(typeIngressRule, "securityGroupId", sg)
		if len(rules) == 0 || len(perms(sg, "ingress")) > 0 {
			return false
		}
		for _, rule := range rules {
			if rule.Str("prefixListId") == "" {
				return false
			}
		}
	}
	return true
}

func allALBsCloudFrontOnly(ctx *Context) bool {
	for _, lb := range ctx.OfType(typeLB) {
		if !cloudFrontOnly(lb, ctx) {
			return false
		}
	}
	return true
}

// isLoadBalancerLogTarget reports whether a load balancer writes its access logs to the bucket.
func isLoadBalancerLogTarget(r *offline.Resource, ctx *Context) bool {
	return len(ctx.Pointing(typeLB, "accessLogs.bucket", r)) > 0
}

// isAccessLogTarget reports whether other buckets or the load balancer log into the bucket.
// isPermissionsBoundary reports whether a policy is some role's permissions boundary.
func isPermissionsBoundary(r *offline.Resource, ctx *Context) bool {
	return len(ctx.Pointing("aws:iam/role:Role", "permissionsBoundary", r)) > 0
}

func isAccessLogTarget(r *offline.Resource, ctx *Context) bool {
	return len(ctx.Pointing(typeBucketLogging, "targetBucket", r)) > 0 || isLoadBalancerLogTarget(r, ctx)
}

// isCloudFrontLogTarget reports whether a distribution writes standard logs to the bucket
// (loggingConfig.bucket is the bucket's domain name, e.g. name.s3.amazonaws.com).
func isCloudFrontLogTarget(r *offline.Resource, ctx *Context) bool {
	for _, d := range ctx.OfType(typeDistribution) {
		if b := d.Str("loggingConfig.bucket"); b != "" && strings.HasPrefix(b, r.Str("bucket")+".s3") {
			return true
		}
	}
	return false
}

// readsDatabase reports whether a function's environment points at the database.
func readsDatabase(r *offline.Resource) bool {
	vars, _ := r.Get("environment.variables").(map[string]any)
	for k, v := range vars {
		k = strings.ToUpper(k)
		if strings.Contains(k, "DATABASE") || strings.HasPrefix(k, "DB_") || strings.Contains(k, "PGHOST") {
			return true
		}
		for _, s := range graph.Strings(v) {
			if strings.Contains(s, ".rds.amazonaws.com") {
				return true
			}
		}
	}
	return false
}

// onlyTrusts reports whether every statement of the role's trust policy names only the service.
func onlyTrusts(r *offline.Resource, service string) bool {
	statements := graph.Policy(r.Get("assumeRolePolicy"))
	for _, st := range statements {
		if len(st.Principals) != 1 || len(st.Principals["Service"]) != 1 || st.Principals["Service"][0] != service {
			return false
		}
	}
	return len(statements) > 0
}
