package storage

import (
	"fmt"
	"strings"

	"github.com/canalco/infra/env"
	"github.com/canalco/infra/logs"
	"github.com/canalco/infra/security"
	"github.com/canalco/infra/settings"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/acm"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/wafv2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// appCertificate returns the us-east-1 certificate CloudFront serves the app's hostname with,
// and the hosted zone when the stack has one. Without a certificate (no appDomain) both are
// nil and viewers get CloudFront's default certificate.
func appCertificate(ctx *pulumi.Context, parent pulumi.Resource, e env.Env, d settings.Domain) (pulumi.StringInput, *route53.LookupZoneResult, error) {
	if !d.HasAppCertificate() {
		return nil, nil, nil
	}
	var zone *route53.LookupZoneResult
	if d.Zone != "" {
		var err error
		zone, err = route53.LookupZone(ctx, &route53.LookupZoneArgs{Name: pulumi.StringRef(d.Zone), PrivateZone: pulumi.BoolRef(false)}, pulumi.Parent(parent))
		if err != nil {
			return nil, nil, fmt.Errorf("hosted zone %s: %w", d.Zone, err)
		}
	}
	if d.CdnCertificateArn != "" {
		return pulumi.String(d.CdnCertificateArn), zone, nil
	}
	// CloudFront only takes certificates from us-east-1. DNS validation renews by itself (ACM.1).
	inUSEast1 := []pulumi.ResourceOption{pulumi.Parent(parent), pulumi.Provider(e.USEast1)}
	cert, err := acm.NewCertificate(ctx, e.Name("app"), &acm.CertificateArgs{
		DomainName:       pulumi.String(d.AppDomain),
		ValidationMethod: pulumi.String("DNS"),
		KeyAlgorithm:     pulumi.String("RSA_2048"), // ACM.2: at least 2048-bit RSA
	}, inUSEast1...)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate: %w", err)
	}
	option := cert.DomainValidationOptions.Index(pulumi.Int(0))
	record, err := route53.NewRecord(ctx, e.Name("app-validation"), &route53.RecordArgs{
		ZoneId:         pulumi.String(zone.ZoneId),
		Name:           option.ResourceRecordName().Elem(),
		Type:           option.ResourceRecordType().Elem(),
		Records:        pulumi.StringArray{option.ResourceRecordValue().Elem()},
		Ttl:            pulumi.Int(300),
		AllowOverwrite: pulumi.Bool(true),
	}, pulumi.Parent(parent))
	if err != nil {
		return nil, nil, fmt.Errorf("certificate validation record: %w", err)
	}
	validation, err := acm.NewCertificateValidation(ctx, e.Name("app"), &acm.CertificateValidationArgs{
		CertificateArn:        cert.Arn,
		ValidationRecordFqdns: pulumi.StringArray{record.Fqdn},
	}, inUSEast1...)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate validation: %w", err)
	}
	return validation.CertificateArn, zone, nil
}

// wafRule is one rule of the web ACL: a managed rule group, or the per-IP rate limit.
type wafRule struct {
	name string
	// managed is the AWS managed rule group; empty for the rate limit.
	managed string
	// count lists rules of the managed group that only count instead of blocking.
	count []string
}

// wafRules are the web ACL's rules in priority order. The common rule set's 8 KB body limit
// only counts: files go straight to S3 with presigned URLs, but the API takes larger JSON
// bodies (a quote with many lines), which CloudFront would otherwise refuse.
var wafRules = []wafRule{
	{name: "ip-reputation", managed: "AWSManagedRulesAmazonIpReputationList"},
	{name: "rate-limit"},
	{name: "common", managed: "AWSManagedRulesCommonRuleSet", count: []string{"SizeRestrictions_BODY"}},
	{name: "known-bad-inputs", managed: "AWSManagedRulesKnownBadInputsRuleSet"},
}

// newWebACL is the CloudFront web ACL (CloudFront.6): AWS managed rules and a rate limit per
// IP over 5 minutes on the API. It lives in us-east-1, as CloudFront requires.
func newWebACL(ctx *pulumi.Context, parent pulumi.Resource, e env.Env, st settings.Storage) (*wafv2.WebAcl, error) {
	name := e.Name("cdn")
	scope, err := rateScope(ctx, parent, e, st)
	if err != nil {
		return nil, err
	}
	visibility := func(metric string) *wafv2.WebAclRuleVisibilityConfigArgs {
		// WAF.12: metrics and sampled requests for every rule.
		return &wafv2.WebAclRuleVisibilityConfigArgs{CloudwatchMetricsEnabled: pulumi.Bool(true), MetricName: pulumi.String(metric), SampledRequestsEnabled: pulumi.Bool(true)}
	}
	var rules wafv2.WebAclRuleArray
	for i, r := range wafRules {
		rule := &wafv2.WebAclRuleArgs{Name: pulumi.String(r.name), Priority: pulumi.Int(i), VisibilityConfig: visibility(name + "-" + r.name)}
		if r.managed == "" {
			rule.Action = &wafv2.WebAclRuleActionArgs{Block: &wafv2.WebAclRuleActionBlockArgs{}}
			rule.Statement = &wafv2.WebAclRuleStatementArgs{RateBasedStatement: &wafv2.WebAclRuleStatementRateBasedStatementArgs{
				Limit: pulumi.Int(st.WafRateLimit), AggregateKeyType: pulumi.String("IP"), EvaluationWindowSec: pulumi.Int(300),
				ScopeDownStatement: scope,
			}}
		} else {
			var overrides wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArray
			for _, c := range r.count {
				overrides = append(overrides, &wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArgs{
					Name:        pulumi.String(c),
					ActionToUse: &wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseArgs{Count: &wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseCountArgs{}},
				})
			}
			rule.OverrideAction = &wafv2.WebAclRuleOverrideActionArgs{None: &wafv2.WebAclRuleOverrideActionNoneArgs{}}
			rule.Statement = &wafv2.WebAclRuleStatementArgs{ManagedRuleGroupStatement: &wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs{
				VendorName: pulumi.String("AWS"), Name: pulumi.String(r.managed), RuleActionOverrides: overrides,
			}}
		}
		rules = append(rules, rule)
	}
	return wafv2.NewWebAcl(ctx, name, &wafv2.WebAclArgs{
		Name:          pulumi.String(name),
		Description:   pulumi.String("Protects the CloudFront distribution of " + e.Prefix),
		Scope:         pulumi.String("CLOUDFRONT"),
		DefaultAction: &wafv2.WebAclDefaultActionArgs{Allow: &wafv2.WebAclDefaultActionAllowArgs{}},
		Rules:         rules,
		VisibilityConfig: &wafv2.WebAclVisibilityConfigArgs{
			CloudwatchMetricsEnabled: pulumi.Bool(true), MetricName: pulumi.String(name), SampledRequestsEnabled: pulumi.Bool(true),
		},
	}, pulumi.Parent(parent), pulumi.Provider(e.USEast1))
}

// wafLogPrefix is the prefix WAF requires of a log group it logs to (WAF Developer Guide,
// "CloudWatch Logs log group").
const wafLogPrefix = "aws-waf-logs-"

// logWebACL sends the web ACL's logs to CloudWatch Logs (WAF.11), in a log group of the stack's
// retention. A CloudFront web ACL logs only to us-east-1, so the group lives there, encrypted with
// the stack's logs key, or, for a stack in another region, with a key of its own in us-east-1 (a
// key serves its region only). Only the requests a rule blocked or counted are kept: the allowed
// ones are nearly all traffic (about 30 GB a month in prod) and the rules' metrics count them.
func logWebACL(ctx *pulumi.Context, parent pulumi.Resource, e env.Env, acl *wafv2.WebAcl) error {
	name := wafLogPrefix + e.Name("cdn")
	inUSEast1 := []pulumi.ResourceOption{pulumi.Parent(parent), pulumi.Provider(e.USEast1)}
	settings := e.Logs
	if e.Region != "us-east-1" {
		key, err := security.NewKey(ctx, e.Name("waf-logs"), &security.KeyArgs{
			Alias:       e.Name("waf-logs"),
			Description: "Encrypts the web ACL's log group of " + e.Prefix + " in us-east-1",
			AccountID:   e.AccountID,
			Statements:  []security.Statement{security.LogsUse("us-east-1", e.AccountID)},
			Protect:     e.Protected,
		}, inUSEast1...)
		if err != nil {
			return err
		}
		settings.KmsKeyArn = key.Arn
	}
	group, err := logs.NewGroup(ctx, e.Name("cdn-waf-logs"), name, settings, append(inUSEast1, e.Keep()...)...)
	if err != nil {
		return err
	}
	// CloudWatch Logs accepts WAF's deliveries only with this resource policy ("Logs sent to
	// CloudWatch Logs", log group resource policy): log delivery writes the group's streams,
	// for this account's deliveries only. Written here, WAF need not write one itself.
	account := e.AccountID
	policy, err := cloudwatch.NewLogResourcePolicy(ctx, e.Name("cdn-waf-logs"), &cloudwatch.LogResourcePolicyArgs{
		PolicyName: pulumi.String(name),
		PolicyDocument: group.Arn.ApplyT(func(arn string) string {
			return security.Document(security.Statement{
				Sid: "WafLogDelivery", Effect: "Allow",
				Principal: map[string]any{"Service": "delivery.logs.amazonaws.com"},
				Action:    []string{"logs:CreateLogStream", "logs:PutLogEvents"},
				Resource:  []string{arn + ":log-stream:*"},
				Condition: map[string]map[string]any{
					"StringEquals": {"aws:SourceAccount": account},
					"ArnLike":      {"aws:SourceArn": "arn:aws:logs:us-east-1:" + account + ":*"},
				},
			})
		}).(pulumi.StringOutput),
	}, inUSEast1...)
	if err != nil {
		return err
	}
	keep := func(action string) *wafv2.WebAclLoggingConfigurationLoggingFilterFilterConditionArgs {
		return &wafv2.WebAclLoggingConfigurationLoggingFilterFilterConditionArgs{
			ActionCondition: &wafv2.WebAclLoggingConfigurationLoggingFilterFilterConditionActionConditionArgs{Action: pulumi.String(action)},
		}
	}
	_, err = wafv2.NewWebAclLoggingConfiguration(ctx, e.Name("cdn"), &wafv2.WebAclLoggingConfigurationArgs{
		ResourceArn:           acl.Arn,
		LogDestinationConfigs: pulumi.StringArray{group.Arn},
		LoggingFilter: &wafv2.WebAclLoggingConfigurationLoggingFilterArgs{
			DefaultBehavior: pulumi.String("DROP"),
			Filters: wafv2.WebAclLoggingConfigurationLoggingFilterFilterArray{&wafv2.WebAclLoggingConfigurationLoggingFilterFilterArgs{
				Behavior: pulumi.String("KEEP"), Requirement: pulumi.String("MEETS_ANY"),
				Conditions: wafv2.WebAclLoggingConfigurationLoggingFilterFilterConditionArray{keep("BLOCK"), keep("COUNT"), keep("EXCLUDED_AS_COUNT")},
			}},
		},
	}, append(inUSEast1, pulumi.DependsOn([]pulumi.Resource{policy}))...)
	return err
}

// rateScope limits the rate rule to API requests from outside the offices' ranges. The IP set
// exists even when empty (WAF accepts that, and IP sets cost nothing), so exempting an office
// is a settings change: canalco:wafOfficeCidrs. A rate rule counts only the requests its scope-down statement matches
// (WAF's "Rate-based rule statement" page): the app's files, mostly CloudFront cache hits, no
// longer count, and an office whose people all share one NAT address is never blocked.
func rateScope(ctx *pulumi.Context, parent pulumi.Resource, e env.Env, st settings.Storage) (*wafv2.WebAclRuleStatementRateBasedStatementScopeDownStatementArgs, error) {
	// CloudFront sends /api/* to the load balancer; the pattern is case-sensitive, so the match
	// is too (no text transformation).
	api := &wafv2.WebAclRuleStatementByteMatchStatementArgs{
		FieldToMatch:         &wafv2.WebAclRuleStatementByteMatchStatementFieldToMatchArgs{UriPath: &wafv2.WebAclRuleStatementByteMatchStatementFieldToMatchUriPathArgs{}},
		PositionalConstraint: pulumi.String("STARTS_WITH"),
		SearchString:         pulumi.String(strings.TrimSuffix(APIPath, "*")),
		TextTransformations: wafv2.WebAclRuleStatementByteMatchStatementTextTransformationArray{
			&wafv2.WebAclRuleStatementByteMatchStatementTextTransformationArgs{Priority: pulumi.Int(0), Type: pulumi.String("NONE")},
		},
	}
	name := e.Name("offices")
	offices, err := wafv2.NewIpSet(ctx, name, &wafv2.IpSetArgs{
		Name:             pulumi.String(name),
		Description:      pulumi.String("Office addresses the API rate rule of " + e.Prefix + " does not count"),
		Scope:            pulumi.String("CLOUDFRONT"),
		IpAddressVersion: pulumi.String("IPV4"),
		Addresses:        pulumi.ToStringArray(st.WafOfficeCidrs),
	}, pulumi.Parent(parent), pulumi.Provider(e.USEast1))
	if err != nil {
		return nil, fmt.Errorf("office IP set: %w", err)
	}
	return &wafv2.WebAclRuleStatementRateBasedStatementScopeDownStatementArgs{AndStatement: &wafv2.WebAclRuleStatementRateBasedStatementScopeDownStatementAndStatementArgs{
		Statements: wafv2.WebAclRuleStatementArray{
			&wafv2.WebAclRuleStatementArgs{ByteMatchStatement: api},
			&wafv2.WebAclRuleStatementArgs{NotStatement: &wafv2.WebAclRuleStatementNotStatementArgs{Statements: wafv2.WebAclRuleStatementArray{
				&wafv2.WebAclRuleStatementArgs{IpSetReferenceStatement: &wafv2.WebAclRuleStatementIpSetReferenceStatementArgs{Arn: offices.Arn}},
			}}},
		},
	}}, nil
}
