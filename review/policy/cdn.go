package policy

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/canalco/infra/offline"
)

const (
	typeDistribution   = "aws:cloudfront/distribution:Distribution"
	typeLogDelivery    = "aws:cloudwatch/logDeliverySource:LogDeliverySource"
	typeWebACL         = "aws:wafv2/webAcl:WebAcl"
	typeWebACLLogging  = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
	minViewerTLS       = "TLSv1.2_2021"
	httpsOnlyOrigin    = "https-only"
	viewerHTTPSOnly    = "https-only"
	viewerRedirectHTTP = "redirect-to-https"
)

// origin is one origin of a distribution.
type origin struct {
	id, domain string
	r          *offline.Resource // the origin as a resource, to read its nested inputs
}

func origins(d *offline.Resource) []origin {
	var out []origin
	for _, v := range d.List("origins") {
		m, _ := v.(map[string]any)
		o := &offline.Resource{Inputs: m}
		out = append(out, origin{id: o.Str("originId"), domain: o.Str("domainName"), r: o})
	}
	return out
}

func (o origin) custom() bool { return o.r.Get("customOriginConfig") != nil }

// s3 reports whether the origin is an S3 bucket's REST endpoint.
func (o origin) s3() bool {
	return !o.custom() && (o.r.Str("originAccessControlId") != "" || strings.Contains(o.domain, ".s3."))
}

// behaviors returns the default and ordered cache behaviors.
func behaviors(d *offline.Resource) []*offline.Resource {
	out := []*offline.Resource{{Inputs: asMap(d.Get("defaultCacheBehavior"))}}
	for _, v := range d.List("orderedCacheBehaviors") {
		out = append(out, &offline.Resource{Inputs: asMap(v)})
	}
	return out
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// forOrigins checks every origin the filter selects.
func forOrigins(filter func(origin) bool, c func(o origin, ctx *Context) (bool, string)) func(r *offline.Resource, ctx *Context) (bool, string) {
	return func(r *offline.Resource, ctx *Context) (bool, string) {
		for _, o := range origins(r) {
			if !filter(o) {
				continue
			}
			if ok, msg := c(o, ctx); !ok {
				return fail(fmt.Sprintf("origin %s: %s", o.id, msg))
			}
		}
		return pass()
	}
}

func customOrigin(o origin) bool { return o.custom() }
func s3Origin(o origin) bool     { return o.s3() }

// webACLRules returns the rules of a web ACL from either of its input forms.
func webACLRules(r *offline.Resource) []map[string]any {
	var out []map[string]any
	for _, v := range r.List("rules") {
		out = append(out, asMap(v))
	}
	if s := r.Str("ruleJson"); s != "" {
		var list []map[string]any
		if json.Unmarshal([]byte(s), &list) == nil {
			out = append(out, list...)
		}
	}
	return out
}

var cdnRules = []Rule{
	{
		ID: "CloudFront.1", Framework: FSBP, Severity: High, ResourceTypes: []string{typeDistribution},
		Title: "CloudFront distributions should have a default root object configured",
		Fix:   "set defaultRootObject index.html",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			for _, o := range origins(r) {
				if o.s3() && r.Str("defaultRootObject") == "" {
					return fail("an S3 origin and no default root object")
				}
			}
			return pass()
		},
	},
	{
		ID: "CloudFront.3", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeDistribution},
		Title: "CloudFront distributions should require encryption in transit",
		Fix:   "set viewerProtocolPolicy redirect-to-https (or https-only) on every cache behavior",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			for _, b := range behaviors(r) {
				if p := b.Str("viewerProtocolPolicy"); p != viewerRedirectHTTP && p != viewerHTTPSOnly {
					return fail(fmt.Sprintf("behavior %q allows %s", b.Str("pathPattern")+b.Str("targetOriginId"), p))
				}
			}
			return pass()
		},
	},
	{
		ID: "CloudFront.5", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeDistribution},
		Title: "CloudFront distributions should have logging enabled",
		Fix:   "set loggingConfig.bucket, or deliver access logs through a CloudWatch log delivery source",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			return check(r.Str("loggingConfig.bucket") != "" || len(ctx.Pointing(typeLogDelivery, "resourceArn", r)) > 0, "access logging is off")
		},
	},
	{
		ID: "CloudFront.6", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeDistribution}, AppliesTo: prodOnly,
		Title: "CloudFront distributions should have WAF enabled",
		Fix:   "set webAclId to the stack's CloudFront web ACL (canalco:wafEnabled)",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(r.Str("webAclId") != "", "no web ACL")
		},
	},
	{
		ID: "CloudFront.7", Framework: FSBP, Severity: Low, ResourceTypes: []string{typeDistribution},
		Title: "CloudFront distributions should use custom SSL/TLS certificates",
		Fix:   "set viewerCertificate.acmCertificateArn to an ACM certificate (us-east-1) for the app domain",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(r.Str("viewerCertificate.acmCertificateArn") != "" || r.Str("viewerCertificate.iamCertificateId") != "", "serves CloudFront's default certificate")
		},
	},
	{
		ID: "CloudFront.8", Framework: FSBP, Severity: Low, ResourceTypes: []string{typeDistribution},
		Title: "CloudFront distributions should use SNI to serve HTTPS requests",
		Fix:   "set viewerCertificate.sslSupportMethod sni-only",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			custom := r.Str("viewerCertificate.acmCertificateArn") != "" || r.Str("viewerCertificate.iamCertificateId") != ""
			return check(!custom || r.Str("viewerCertificate.sslSupportMethod") == "sni-only", "a custom certificate served by dedicated IP")
		},
	},
	{
		ID: "CloudFront.9", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeDistribution},
		Title: "CloudFront distributions should encrypt traffic to custom origins",
		Fix:   "set customOriginConfig.originProtocolPolicy https-only",
		Check: forOrigins(customOrigin, func(o origin, _ *Context) (bool, string) {
			p := o.r.Str("customOriginConfig.originProtocolPolicy")
			return check(p == httpsOnlyOrigin, "originProtocolPolicy is "+p)
		}),
	},
	{
		ID: "CloudFront.10", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeDistribution},
		Title: "CloudFront distributions should not use deprecated SSL protocols between edge locations and custom origins",
		Fix:   "set customOriginConfig.originSslProtocols [TLSv1.2]",
		Check: forOrigins(customOrigin, func(o origin, _ *Context) (bool, string) {
			for _, p := range o.r.Strings("customOriginConfig.originSslProtocols") {
				if p == "SSLv3" {
					return fail("originSslProtocols includes SSLv3")
				}
			}
			return pass()
		}),
	},
	{
		ID: "CloudFront.12", Framework: FSBP, Severity: High, ResourceTypes: []string{typeDistribution},
		Title: "CloudFront distributions should not point to non-existent S3 origins",
		Fix:   "point the origin at a bucket this stack creates (its bucketRegionalDomainName)",
		Check: forOrigins(s3Origin, func(o origin, ctx *Context) (bool, string) {
			return check(ctx.Ref(o.domain, typeBucket) != nil, o.domain+" is not a bucket of this stack")
		}),
	},
	{
		ID: "CloudFront.13", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeDistribution},
		Title: "CloudFront distributions should use origin access control",
		Fix:   "give the S3 origin an aws.cloudfront.OriginAccessControl (originAccessControlId)",
		Check: forOrigins(s3Origin, func(o origin, _ *Context) (bool, string) {
			return check(o.r.Str("originAccessControlId") != "", "no origin access control")
		}),
	},
	{
		ID: "Canalco.6", Framework: Canalco, Severity: Medium, ResourceTypes: []string{typeDistribution},
		Title: "CloudFront accepts viewers on TLS 1.2 or later only",
		Fix:   "set viewerCertificate.minimumProtocolVersion " + minViewerTLS,
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			if r.Bool("viewerCertificate.cloudfrontDefaultCertificate") && r.Str("viewerCertificate.acmCertificateArn") == "" {
				return pass() // the default certificate fixes TLSv1 and cannot be changed; CloudFront.7 covers it
			}
			v := r.Str("viewerCertificate.minimumProtocolVersion")
			return check(strings.HasPrefix(v, "TLSv1.2") || strings.HasPrefix(v, "TLSv1.3"), fmt.Sprintf("minimumProtocolVersion %q", v))
		},
	},
	{
		ID: "WAF.10", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeWebACL},
		Title: "AWS WAF web ACLs should have at least one rule or rule group",
		Fix:   "add the AWS managed rule groups (common, known bad inputs, IP reputation) and a rate limit",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(len(webACLRules(r)) > 0, "no rules")
		},
	},
	{
		ID: "WAF.11", Framework: FSBP, Severity: Low, ResourceTypes: []string{typeWebACL},
		Title: "AWS WAF web ACL logging should be enabled",
		Fix:   "add an aws.wafv2.WebAclLoggingConfiguration to an aws-waf-logs-* log group",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			return check(len(ctx.Pointing(typeWebACLLogging, "resourceArn", r)) > 0, "logging is off")
		},
	},
	{
		ID: "WAF.12", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeWebACL},
		Title: "AWS WAF rules should have CloudWatch metrics enabled",
		Fix:   "set visibilityConfig.cloudwatchMetricsEnabled true on the web ACL and every rule",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			if !r.Bool("visibilityConfig.cloudwatchMetricsEnabled") {
				return fail("the web ACL has no CloudWatch metrics")
			}
			for _, rule := range webACLRules(r) {
				v := &offline.Resource{Inputs: rule}
				if !v.Bool("visibilityConfig.cloudwatchMetricsEnabled") && !v.Bool("VisibilityConfig.CloudWatchMetricsEnabled") {
					return fail(fmt.Sprintf("rule %v has no CloudWatch metrics", rule["name"]))
				}
			}
			return pass()
		},
	},
}
