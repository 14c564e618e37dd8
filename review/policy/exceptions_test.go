package policy

import (
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/settings"
)

// cloudFrontALB is a load balancer whose only ingress is CloudFront's prefix list.
func cloudFrontALB(peer string) []*offline.Resource {
	in := res(typeIngressRule, "in", "securityGroupId", "sg-alb", "fromPort", 80.0, "toPort", 80.0, "prefixListId", "pl-cloudfront")
	if peer != "" {
		in = res(typeIngressRule, "in", "securityGroupId", "sg-alb", "fromPort", 80.0, "toPort", 80.0, "cidrIpv4", peer)
	}
	return []*offline.Resource{alb("securityGroups", list("sg-alb")), res(typeSG, "sg-alb", "description", "ALB"), in}
}

// withDomain is a profile whose load balancer and distribution have certificates.
func withDomain(env settings.Environment) *settings.Settings {
	s := settings.Profile(env, "us-east-1")
	s.Domain.Zone, s.Domain.APIDomain, s.Domain.AppDomain = "canalco.co", "api.canalco.co", "app.canalco.co"
	return s
}

func TestExceptionsMatchOnlyWhatTheirReasonCovers(t *testing.T) {
	dev := settings.Profile(settings.Dev, "us-east-1")
	httpListener := res(typeListener, "http", "loadBalancerArn", "arn:aws:test:::alb", "protocol", "HTTP", "port", 80.0, "defaultActions", list(obj("type", "forward")))
	logsBucket := func(extra ...*offline.Resource) []*offline.Resource {
		return append([]*offline.Resource{res(typeBucket, "logs")}, extra...)
	}
	for _, c := range []struct {
		name     string
		rule     string
		s        *settings.Settings
		excepted bool
		res      []*offline.Resource
	}{
		{"postgres on 5432", "RDS.23", dev, true, []*offline.Resource{db()}},
		{"mysql on 3306", "RDS.23", dev, false, []*offline.Resource{res(typeDB, "db", "engine", "mysql")}},
		{"ALB behind CloudFront", "ELB.16", dev, true, cloudFrontALB("")},
		{"ALB open to the internet", "ELB.16", dev, false, cloudFrontALB(worldTCP)},
		{"HTTP listener without a certificate", "ELB.1", dev, true, append(cloudFrontALB(""), httpListener)},
		{"HTTP listener with a certificate", "ELB.1", withDomain(settings.Dev), false, append(cloudFrontALB(""), httpListener)},
		{"HTTP origin without a certificate", "CloudFront.9", dev, true,
			append(cloudFrontALB(""), dist("origins", list(albOrig("customOriginConfig.originProtocolPolicy", "http-only"))))},
		{"HTTP origin to an open ALB", "CloudFront.9", dev, false,
			append(cloudFrontALB(worldTCP), dist("origins", list(albOrig("customOriginConfig.originProtocolPolicy", "http-only"))))},
		{"default certificate without a domain", "CloudFront.7", dev, true, []*offline.Resource{dist()}},
		{"default certificate with a domain", "CloudFront.7", withDomain(settings.Prod), false, []*offline.Resource{dist()}},
		{"ALB log bucket on SSE-S3", "S3.17", dev, true, logsBucket(alb("accessLogs.bucket", "logs", "accessLogs.enabled", true))},
		{"data bucket on SSE-S3", "S3.17", dev, false, logsBucket()},
		{"log bucket not logging itself", "S3.9", dev, true, logsBucket(res(typeBucketLogging, "bl", "bucket", "docs", "targetBucket", "logs"))},
		{"data bucket not logging", "S3.9", dev, false, logsBucket()},
		{"CloudFront log bucket with ACLs", "S3.12", dev, true, logsBucket(dist("loggingConfig.bucket", "logs.s3.amazonaws.com"))},
		{"bucket with ACLs", "S3.12", dev, false, logsBucket(dist("loggingConfig.bucket", "other.s3.amazonaws.com"))},
		{"function without database access", "Lambda.3", dev, true, []*offline.Resource{function("environment.variables.QUEUE_URL", "https://q")}},
		{"function with database access", "Lambda.3", dev, false, []*offline.Resource{function("environment.variables.DB_SECRET_ARN", "arn:secret")}},
		{"backup role", "Canalco.15", dev, true, []*offline.Resource{role(`{"Effect":"Allow","Principal":{"Service":"backup.amazonaws.com"},"Action":"sts:AssumeRole"}`)}},
		{"scheduler role", "Canalco.15", dev, false, []*offline.Resource{role(`{"Effect":"Allow","Principal":{"Service":"scheduler.amazonaws.com"},"Action":"sts:AssumeRole"}`)}},
		{"SMTP secret", "SecretsManager.1", dev, true, []*offline.Resource{res(typeSecret, "s", "name", "canalco-dev-smtp")}},
		{"other secret", "SecretsManager.1", dev, false, []*offline.Resource{res(typeSecret, "s", "name", "canalco-dev-api-key")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var rules []Rule
			for _, r := range Rules() {
				if r.ID == c.rule {
					rules = append(rules, r)
				}
			}
			rep := EvaluateRules(&offline.Result{Resources: c.res}, c.s, rules, Exceptions())
			if got := len(rep.Excepted) > 0; got != c.excepted || len(rep.Excepted)+len(rep.Failures) == 0 {
				t.Errorf("excepted %d, failed %d; want the failure excepted: %v", len(rep.Excepted), len(rep.Failures), c.excepted)
			}
		})
	}
}
