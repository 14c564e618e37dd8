package policy

import (
	"fmt"
	"strings"

	"github.com/canalco/infra/offline"
)

const (
	typeLB             = "aws:lb/loadBalancer:LoadBalancer"
	typeListener       = "aws:lb/listener:Listener"
	typeWafAssociation = "aws:wafv2/webAclAssociation:WebAclAssociation"
)

// recommendedTLSPolicies are the prefixes of the ELB security policies ELB.17 accepts: TLS 1.3
// with 1.2 as the floor (including the restricted, FIPS and post-quantum variants).
var recommendedTLSPolicies = []string{"ELBSecurityPolicy-TLS13-1-2-", "ELBSecurityPolicy-TLS13-1-3-"}

func isALB(r *offline.Resource) bool {
	t := r.Str("loadBalancerType")
	return t == "" || t == "application"
}

// albOnly evaluates an ALB check and passes other load balancer types.
func albOnly(c func(r *offline.Resource, ctx *Context) (bool, string)) func(r *offline.Resource, ctx *Context) (bool, string) {
	return func(r *offline.Resource, ctx *Context) (bool, string) {
		if !isALB(r) {
			return pass()
		}
		return c(r, ctx)
	}
}

var loadBalancerRules = []Rule{
	{
		ID: "ELB.1", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeLB},
		Title: "Application Load Balancer should be configured to redirect all HTTP requests to HTTPS",
		Fix:   "make every HTTP listener's default action a redirect to HTTPS (port 443, HTTP_301)",
		Check: albOnly(func(r *offline.Resource, ctx *Context) (bool, string) {
			for _, l := range ctx.Pointing(typeListener, "loadBalancerArn", r) {
				if l.Str("protocol") != "HTTP" {
					continue
				}
				redirects := false
				for i := range l.List("defaultActions") {
					a := fmt.Sprintf("defaultActions.%d.", i)
					redirects = redirects || (l.Str(a+"type") == "redirect" && l.Str(a+"redirect.protocol") == "HTTPS")
				}
				if !redirects {
					return fail(fmt.Sprintf("listener %s serves HTTP on %v without redirecting to HTTPS", l.Name, l.Num("port")))
				}
			}
			return pass()
		}),
	},
	{
		ID: "ELB.4", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeLB},
		Title: "Application Load Balancer should be configured to drop invalid http headers",
		Fix:   "set dropInvalidHeaderFields true",
		Check: albOnly(func(r *offline.Resource, _ *Context) (bool, string) {
			return check(r.Bool("dropInvalidHeaderFields"), "invalid header fields are forwarded")
		}),
	},
	{
		ID: "ELB.5", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeLB},
		Title: "Application and Classic Load Balancers logging should be enabled",
		Fix:   "set accessLogs {bucket: <logs bucket>, enabled: true}",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(r.Bool("accessLogs.enabled") && r.Str("accessLogs.bucket") != "", "access logs are off")
		},
	},
	{
		ID: "ELB.6", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeLB}, AppliesTo: notDev,
		Title: "Application, Gateway, and Network Load Balancers should have deletion protection enabled",
		Fix:   "set enableDeletionProtection true in protected stacks",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(r.Bool("enableDeletionProtection"), "deletion protection is off")
		},
	},
	{
		ID: "ELB.12", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeLB},
		Title: "Application Load Balancer should be configured with defensive or strictest desync mitigation mode",
		Fix:   "leave desyncMitigationMode unset (defensive) or set it to defensive or strictest",
		Check: albOnly(func(r *offline.Resource, _ *Context) (bool, string) {
			m := r.Str("desyncMitigationMode")
			return check(m == "" || m == "defensive" || m == "strictest", "desyncMitigationMode is "+m)
		}),
	},
	{
		ID: "ELB.13", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeLB},
		Title: "Application, Network and Gateway Load Balancers should span multiple Availability Zones",
		Fix:   "give the load balancer subnets in at least two Availability Zones",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			subnets := r.Get("subnets")
			if subnets == nil {
				var ids []any
				for i := range r.List("subnetMappings") {
					ids = append(ids, r.Get(fmt.Sprintf("subnetMappings.%d.subnetId", i)))
				}
				subnets = ids
			}
			azs := ctx.AZs(subnets)
			return check(len(azs) >= 2, fmt.Sprintf("spans %d Availability Zone(s)", len(azs)))
		},
	},
	{
		ID: "ELB.16", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeLB},
		Title: "Application Load Balancers should be associated with an AWS WAF web ACL",
		Fix:   "associate a regional web ACL (aws.wafv2.WebAclAssociation), or admit only CloudFront with its web ACL",
		Check: albOnly(func(r *offline.Resource, ctx *Context) (bool, string) {
			return check(len(ctx.Pointing(typeWafAssociation, "resourceArn", r)) > 0, "no web ACL is associated")
		}),
	},
	{
		ID: "ELB.17", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeListener},
		Title: "Application and Network Load Balancers with listeners should use recommended security policies",
		Fix:   "set sslPolicy ELBSecurityPolicy-TLS13-1-2-2021-06 (or a stricter TLS13 policy)",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			if p := r.Str("protocol"); p != "HTTPS" && p != "TLS" {
				return pass()
			}
			for _, prefix := range recommendedTLSPolicies {
				if strings.HasPrefix(r.Str("sslPolicy"), prefix) {
					return pass()
				}
			}
			return fail(fmt.Sprintf("sslPolicy %q is not a recommended TLS 1.3 policy", r.Str("sslPolicy")))
		},
	},
}
