package storage_test

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/security"
	"github.com/canalco/infra/storage"
)

// appDomains are the stack files' app hostnames ("": no domain).
var appDomains = map[string]string{"dev": "", "staging": "app.staging.canalco.co", "prod": "app.canalco.co"}

// apiDomains are the stack files' API hostnames ("": none, the load balancer's own name).
var apiDomains = map[string]string{"dev": "", "staging": "api.staging.canalco.co", "prod": "api.canalco.co"}

// TestDistributionBehaviors: the app is cached and routed by the function; the API is never
// cached, takes every method and viewer header but Host, and has no function.
func TestDistributionBehaviors(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			d := single(t, res, distType)
			fn := single(t, res, functionType)
			headers := single(t, res, headersType)

			def := "defaultCacheBehavior."
			for path, want := range map[string]string{
				def + "targetOriginId":          "frontend",
				def + "viewerProtocolPolicy":    "redirect-to-https",
				def + "cachePolicyId":           "658327ea-f89d-4fab-a63d-7e88639e58f6",
				def + "responseHeadersPolicyId": headers.Outputs["id"].(string),
			} {
				if got := d.Str(path); got != want {
					t.Errorf("%s = %q, want %q", path, got, want)
				}
			}
			if !d.Bool(def+"compress") || len(d.List(def+"functionAssociations")) != 1 ||
				d.Str(def+"functionAssociations.0.eventType") != "viewer-request" || d.Str(def+"functionAssociations.0.functionArn") != fn.Outputs["arn"] {
				t.Errorf("default behavior: compress %v, functions %v; want compressed with the viewer-request router", d.Bool(def+"compress"), d.Get(def+"functionAssociations"))
			}
			if fn.Str("runtime") != "cloudfront-js-2.0" || !fn.Bool("publish") {
				t.Errorf("function runtime %q publish %v", fn.Str("runtime"), fn.Bool("publish"))
			}

			ordered := d.List("orderedCacheBehaviors")
			if len(ordered) != 1 {
				t.Fatalf("%d ordered behaviors, want only the API", len(ordered))
			}
			api := "orderedCacheBehaviors.0."
			for path, want := range map[string]string{
				api + "pathPattern":             storage.APIPath,
				api + "targetOriginId":          "api",
				api + "viewerProtocolPolicy":    "https-only",
				api + "cachePolicyId":           "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
				api + "originRequestPolicyId":   "b689b0a8-53d0-40ab-baf2-68738e2966ac",
				api + "responseHeadersPolicyId": headers.Outputs["id"].(string),
			} {
				if got := d.Str(path); got != want {
					t.Errorf("%s = %q, want %q", path, got, want)
				}
			}
			methods := d.Strings(api + "allowedMethods")
			slices.Sort(methods)
			if !slices.Equal(methods, []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}) {
				t.Errorf("API methods %v, want all seven", methods)
			}
			if len(d.List(api+"functionAssociations")) != 0 || len(d.List(api+"lambdaFunctionAssociations")) != 0 {
				t.Errorf("the API behavior runs a function: its errors would be rewritten")
			}
		})
	}
}

// TestDistributionOrigins: the bucket through Origin Access Control only, the API through its
// load balancer hostname with TLS 1.2.
func TestDistributionOrigins(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			d := single(t, res, distType)
			b, _ := lookupBuckets(t, res, stack)
			oac := single(t, res, oacType)
			if oac.Str("originAccessControlOriginType") != "s3" || oac.Str("signingBehavior") != "always" || oac.Str("signingProtocol") != "sigv4" {
				t.Errorf("origin access control: %v", oac.Inputs)
			}
			origins := map[string]map[string]any{}
			for _, o := range d.List("origins") {
				m := o.(map[string]any)
				origins[m["originId"].(string)] = m
			}
			if len(origins) != 2 {
				t.Fatalf("origins %v, want frontend and api", origins)
			}
			s3 := origins["frontend"]
			if s3["domainName"] != b["frontend"]+".s3.us-east-1.amazonaws.com" || s3["originAccessControlId"] != oac.Outputs["id"] || s3["s3OriginConfig"] != nil {
				t.Errorf("frontend origin %v: want the frontend bucket's regional endpoint through OAC %v, no origin access identity", s3, oac.Outputs["id"])
			}
			// With an API hostname (and so its certificate) CloudFront speaks HTTPS to it;
			// without (dev) HTTP to the internal load balancer's own name, over the VPC origin.
			wantHost, wantPolicy := apiDomains[stack], "https-only"
			alb := single(t, res, "aws:lb/loadBalancer:LoadBalancer")
			if wantHost == "" {
				wantHost, wantPolicy = alb.Outputs["dnsName"].(string), "http-only"
			}
			vpcOrigin := single(t, res, "aws:cloudfront/vpcOrigin:VpcOrigin")
			cfg, _ := vpcOrigin.Get("vpcOriginEndpointConfig").(map[string]any)
			ref, _ := origins["api"]["vpcOriginConfig"].(map[string]any)
			if origins["api"]["domainName"] != wantHost || ref["vpcOriginId"] != vpcOrigin.Outputs["id"] || origins["api"]["customOriginConfig"] != nil ||
				cfg["arn"] != alb.Outputs["arn"] || cfg["originProtocolPolicy"] != wantPolicy || !slices.Equal(security.Strings(vpcOrigin.Get("vpcOriginEndpointConfig.originSslProtocols.items")), []string{"TLSv1.2"}) {
				t.Errorf("API origin %v through %v, want %s %s with TLSv1.2 only to the load balancer", origins["api"], cfg, wantHost, wantPolicy)
			}
		})
	}
}

// TestDistributionSettings: root object, HTTP/2 and 3, IPv6, price class, no geo restriction,
// no legacy logging (it needs ACLs on the log bucket).
func TestDistributionSettings(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			d := single(t, offline.Stack(t, stack), distType)
			for path, want := range map[string]string{
				"defaultRootObject": "index.html",
				"httpVersion":       "http2and3",
				"priceClass":        "PriceClass_100",
				"restrictions.geoRestriction.restrictionType": "none",
			} {
				if got := d.Str(path); got != want {
					t.Errorf("%s = %q, want %q", path, got, want)
				}
			}
			if !d.Bool("isIpv6Enabled") || !d.Bool("enabled") || d.Get("loggingConfig") != nil {
				t.Errorf("ipv6 %v enabled %v legacy logging %v", d.Bool("isIpv6Enabled"), d.Bool("enabled"), d.Get("loggingConfig"))
			}
		})
	}
}

// TestSecurityHeaders: HSTS for a year with preload, no sniffing, no framing, and a CSP that
// admits only the app's own origin and this stack's browser buckets.
func TestSecurityHeaders(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			h := single(t, res, headersType)
			b, _ := lookupBuckets(t, res, stack)
			sh := "securityHeadersConfig."
			if h.Str("name") != "canalco-"+stack+"-security-headers" {
				t.Errorf("name %q", h.Str("name"))
			}
			if h.Num(sh+"strictTransportSecurity.accessControlMaxAgeSec") < 31536000 || !h.Bool(sh+"strictTransportSecurity.includeSubdomains") || !h.Bool(sh+"strictTransportSecurity.preload") {
				t.Errorf("HSTS %v", h.Get(sh+"strictTransportSecurity"))
			}
			if h.Str(sh+"frameOptions.frameOption") != "DENY" || h.Str(sh+"referrerPolicy.referrerPolicy") != "strict-origin-when-cross-origin" ||
				!h.Bool(sh+"contentTypeOptions.override") || !h.Bool(sh+"xssProtection.protection") {
				t.Errorf("headers %v", h.Get("securityHeadersConfig"))
			}
			csp := h.Str(sh + "contentSecurityPolicy.contentSecurityPolicy")
			if len(csp) > 1783 {
				t.Errorf("CSP is %d characters, CloudFront allows 1783", len(csp))
			}
			directives := map[string][]string{}
			for _, d := range strings.Split(csp, ";") {
				f := strings.Fields(d)
				directives[f[0]] = f[1:]
			}
			for _, want := range []string{"default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'self'", "frame-ancestors 'none'"} {
				f := strings.Fields(want)
				if !slices.Equal(directives[f[0]], f[1:]) {
					t.Errorf("CSP %s = %v, want %q", f[0], directives[f[0]], want)
				}
			}
			for _, purpose := range storage.BrowserPurposes {
				host := "https://" + b[purpose] + ".s3.us-east-1.amazonaws.com"
				if !slices.Contains(directives["connect-src"], host) || !slices.Contains(directives["img-src"], host) {
					t.Errorf("CSP does not let the app reach %s", host)
				}
			}
			for name, sources := range directives {
				for _, s := range sources {
					if strings.Contains(s, "*") || s == "'unsafe-eval'" {
						t.Errorf("CSP %s admits %s", name, s)
					}
				}
			}
		})
	}
}

// TestCertificatePerStack: dev serves CloudFront's default certificate; staging and prod
// their own hostname with a DNS-validated us-east-1 certificate, TLS 1.2_2021 and SNI, and
// alias records for IPv4 and IPv6.
func TestCertificatePerStack(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			d := single(t, res, distType)
			domain := appDomains[stack]
			var appCerts []string
			for _, c := range res.OfType(certType) {
				if res.Ancestor(c, cdnToken) != nil {
					appCerts = append(appCerts, c.Str("domainName"))
				}
			}
			if domain == "" {
				if !d.Bool("viewerCertificate.cloudfrontDefaultCertificate") || len(d.List("aliases")) != 0 || len(appCerts) != 0 {
					t.Errorf("dev: viewer certificate %v aliases %v certificates %v, want CloudFront's default", d.Get("viewerCertificate"), d.Get("aliases"), appCerts)
				}
				return
			}
			cert := res.Named(certType, "canalco-"+stack+"-app")
			if cert == nil || cert.Str("domainName") != domain || cert.Str("validationMethod") != "DNS" {
				t.Fatalf("certificate %v, want %s validated by DNS", cert, domain)
			}
			usEast1 := res.Named(providerType, "aws-us-east-1")
			validation := res.Named(validationType, "canalco-"+stack+"-app")
			if provider(res, cert) != usEast1 || validation == nil || provider(res, validation) != usEast1 {
				t.Errorf("certificate or its validation outside us-east-1")
			}
			vc := "viewerCertificate."
			if d.Str(vc+"acmCertificateArn") != cert.Outputs["arn"] || d.Str(vc+"sslSupportMethod") != "sni-only" ||
				d.Str(vc+"minimumProtocolVersion") != "TLSv1.2_2021" || d.Bool(vc+"cloudfrontDefaultCertificate") {
				t.Errorf("viewer certificate %v", d.Get("viewerCertificate"))
			}
			if !slices.Equal(d.Strings("aliases"), []string{domain}) {
				t.Errorf("aliases %v, want %s", d.Get("aliases"), domain)
			}
			kinds := map[string]bool{}
			for _, r := range res.OfType(recordType) {
				if r.Str("name") == domain && res.Ancestor(r, cdnToken) != nil {
					kinds[r.Str("type")] = r.Str("aliases.0.name") == d.Outputs["domainName"] && r.Str("aliases.0.zoneId") == d.Outputs["hostedZoneId"]
				}
			}
			if !kinds["A"] || !kinds["AAAA"] || len(kinds) != 2 {
				t.Errorf("alias records %v, want A and AAAA to the distribution", kinds)
			}
		})
	}
}

// TestAccessLogs: standard logging v2 from us-east-1 into the log bucket, without cookies,
// started only after the log bucket admits the delivery.
func TestAccessLogs(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			d := single(t, res, distType)
			b, _ := lookupBuckets(t, res, stack)
			usEast1 := res.Named(providerType, "aws-us-east-1")
			source, dest, delivery := single(t, res, deliverySource), single(t, res, deliveryDest), single(t, res, deliveryType)
			for _, r := range []*offline.Resource{source, dest, delivery} {
				if provider(res, r) != usEast1 {
					t.Errorf("%s outside us-east-1", r.Type)
				}
			}
			if source.Str("logType") != "ACCESS_LOGS" || source.Str("resourceArn") != d.Outputs["arn"] {
				t.Errorf("delivery source %v, want the distribution's access logs", source.Inputs)
			}
			if dest.Str("deliveryDestinationConfiguration.destinationResourceArn") != "arn:aws:s3:::"+b["logs"] {
				t.Errorf("logs go to %q, want the log bucket", dest.Str("deliveryDestinationConfiguration.destinationResourceArn"))
			}
			if delivery.Str("deliverySourceName") != source.Str("name") || delivery.Str("deliveryDestinationArn") != dest.Outputs["arn"] {
				t.Errorf("delivery %v does not connect the source and destination", delivery.Inputs)
			}
			if fields := delivery.Strings("recordFields"); len(fields) == 0 || slices.Contains(fields, "cs(Cookie)") {
				t.Errorf("record fields %v: want explicit fields without cookies", fields)
			}
			logsPolicy := one(t, res, policyType, b["logs"])
			if !delivery.DependsOn(logsPolicy.URN) {
				t.Errorf("delivery starts before the log bucket's policy admits it")
			}
		})
	}
}

// TestWebACL: prod only (the default), in us-east-1, with the managed rule groups and a rate
// limit per IP, attached to the distribution.
func TestWebACL(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			d := single(t, res, distType)
			acls := res.OfType(webACLType)
			// Staging is public like prod, so it has the same web ACL.
			if stack == "dev" {
				if len(acls) != 0 || d.Str("webAclId") != "" {
					t.Errorf("%d web ACLs, attached %q: want none in dev", len(acls), d.Str("webAclId"))
				}
				return
			}
			if len(acls) != 1 {
				t.Fatalf("%d web ACLs, want 1", len(acls))
			}
			acl := acls[0]
			if acl.Str("scope") != "CLOUDFRONT" || provider(res, acl) != res.Named(providerType, "aws-us-east-1") || d.Str("webAclId") != acl.Outputs["arn"] {
				t.Errorf("web ACL scope %q, attached %q: want CLOUDFRONT in us-east-1 on the distribution", acl.Str("scope"), d.Str("webAclId"))
			}
			var groups []string
			rate := 0.0
			for i, r := range acl.List("rules") {
				rule := r.(map[string]any)
				if v := rule["visibilityConfig"].(map[string]any); v["cloudwatchMetricsEnabled"] != true || v["sampledRequestsEnabled"] != true {
					t.Errorf("rule %v without metrics", rule["name"])
				}
				prefix := fmt.Sprintf("rules.%d.statement.", i)
				if g := acl.Str(prefix + "managedRuleGroupStatement.name"); g != "" {
					groups = append(groups, g)
				}
				if acl.Str(prefix+"rateBasedStatement.aggregateKeyType") == "IP" && acl.Get(fmt.Sprintf("rules.%d.action.block", i)) != nil {
					rate = acl.Num(prefix + "rateBasedStatement.limit")
				}
			}
			slices.Sort(groups)
			if !slices.Equal(groups, []string{"AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"}) {
				t.Errorf("managed rule groups %v", groups)
			}
			// The office's users × 30 API requests a minute × 5 minutes × 2.
			if want := map[string]float64{"staging": 10 * 30 * 5 * 2, "prod": 60 * 30 * 5 * 2}[stack]; rate != want {
				t.Errorf("rate limit %v per 5 minutes per IP, want %v", rate, want)
			}
			// WAF counts only what the scope-down statement matches: API paths from outside the
			// offices' IP set ("Rate-based rule statement" in the AWS WAF developer guide).
			i := slices.IndexFunc(acl.List("rules"), func(r any) bool { return r.(map[string]any)["name"] == "rate-limit" })
			scope := fmt.Sprintf("rules.%d.statement.rateBasedStatement.scopeDownStatement.andStatement.statements.", i)
			offices := single(t, res, "aws:wafv2/ipSet:IpSet")
			if acl.Str(scope+"0.byteMatchStatement.searchString") != "/api/" || acl.Str(scope+"0.byteMatchStatement.positionalConstraint") != "STARTS_WITH" ||
				acl.Get(scope+"0.byteMatchStatement.fieldToMatch.uriPath") == nil || acl.Str(scope+"1.notStatement.statements.0.ipSetReferenceStatement.arn") != offices.Outputs["arn"] || offices.Str("scope") != "CLOUDFRONT" {
				t.Errorf("rate rule scope %v: want /api/* outside the offices' IP set", acl.Get(fmt.Sprintf("rules.%d.statement.rateBasedStatement.scopeDownStatement", i)))
			}
		})
	}
}

// TestCORS: only the browser buckets, only the app's origins (never *), only the methods
// presigned URLs use.
func TestCORS(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			d := single(t, res, distType)
			b, _ := lookupBuckets(t, res, stack)
			want := map[string][]string{
				"dev":     {"https://" + d.Outputs["domainName"].(string), "http://localhost:5173"},
				"staging": {"https://app.staging.canalco.co"},
				"prod":    {"https://app.canalco.co"},
			}[stack]
			configs := res.OfType(corsType)
			if len(configs) != len(storage.BrowserPurposes) {
				t.Errorf("%d CORS configurations, want %d", len(configs), len(storage.BrowserPurposes))
			}
			for _, purpose := range storage.BrowserPurposes {
				c := one(t, res, corsType, b[purpose])
				if got := c.Strings("corsRules.0.allowedOrigins"); !slices.Equal(got, want) {
					t.Errorf("%s: origins %v, want %v", purpose, got, want)
				}
				methods := c.Strings("corsRules.0.allowedMethods")
				slices.Sort(methods)
				if !slices.Equal(methods, []string{"GET", "HEAD", "POST", "PUT"}) {
					t.Errorf("%s: methods %v", purpose, methods)
				}
				for _, o := range c.Strings("corsRules.0.allowedOrigins") {
					if strings.Contains(o, "*") {
						t.Errorf("%s: origin %s", purpose, o)
					}
				}
			}
		})
	}
}

// TestFrontendBucketReadOnlyByThisDistribution: the frontend bucket's policy lets only this
// distribution read objects, and nothing else in.
func TestFrontendBucketReadOnlyByThisDistribution(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			d := single(t, res, distType)
			b, _ := lookupBuckets(t, res, stack)
			doc := parsePolicy(t, one(t, res, policyType, b["frontend"]).Str("policy"))
			var allows []security.Statement
			for _, s := range doc.Statement {
				if s.Effect == "Allow" {
					allows = append(allows, s)
				}
			}
			if len(allows) != 1 {
				t.Fatalf("%d grants, want CloudFront's only", len(allows))
			}
			s := allows[0]
			if s.Principal["Service"] != "cloudfront.amazonaws.com" || !slices.Equal(s.Action, []string{"s3:GetObject"}) ||
				s.Condition["StringEquals"]["AWS:SourceArn"] != d.Outputs["arn"] || s.Resource[0] != "arn:aws:s3:::"+b["frontend"]+"/*" {
				t.Errorf("grant %+v, want s3:GetObject for distribution %v", s, d.Outputs["arn"])
			}
		})
	}
}

// TestSPARouter runs the distribution's function on sample requests with Node.js: deep links
// get index.html, dots and all; static assets pass through.
func TestSPARouter(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	code := single(t, offline.Stack(t, "prod"), functionType).Str("code")
	cases := map[string]string{
		"/":                         "/index.html",
		"/cotizaciones/123":         "/index.html",
		"/facturas/2024/":           "/index.html",
		"/assets/index-4f2a9c.js":   "/assets/index-4f2a9c.js",
		"/favicon.ico":              "/favicon.ico",
		"/.well-known/security.txt": "/.well-known/security.txt",
		"/robots.txt":               "/robots.txt",
		"/manifest.webmanifest":     "/manifest.webmanifest",
		"/assets/fonts/Inter.WOFF2": "/assets/fonts/Inter.WOFF2",
		"/assets/chunk-without-ext": "/assets/chunk-without-ext",
		"/logo.SVG":                 "/logo.SVG",
		// A dot in a route's last segment is data, not a file extension.
		"/proveedores/acme.co":              "/index.html",
		"/proveedores/acme.com.co":          "/index.html",
		"/usuarios/ana.perez@canalco.co":    "/index.html",
		"/reportes/v1.2":                    "/index.html",
		"/requisiciones/REQ-7/adjunto.xlsx": "/index.html",
		"/.hidden":                          "/index.html",
	}
	var uris []string
	for u := range cases {
		uris = append(uris, u)
	}
	in, _ := json.Marshal(uris)
	script := code + "\nconsole.log(JSON.stringify(" + string(in) + ".map(function (u) { return handler({request: {uri: u}}).uri; })));"
	out, err := exec.Command(node, "-e", script).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got []string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	for i, u := range uris {
		if got[i] != cases[u] {
			t.Errorf("%s -> %s, want %s", u, got[i], cases[u])
		}
	}
}

// TestBadStorageSettingRegistersNothing: a wildcard CORS origin stops the whole program before
// any resource exists, naming the key.
func TestBadStorageSettingRegistersNothing(t *testing.T) {
	res, err := offline.WithValues(t, "prod", map[string]string{"canalco:corsExtraOrigins": `["*"]`})
	if err == nil || !strings.Contains(err.Error(), "canalco:corsExtraOrigins") || len(res.Resources) != 0 {
		t.Errorf("error %v with %d resources, want an error naming corsExtraOrigins and nothing registered", err, len(res.Resources))
	}
}

// TestWebACLLogsToCloudWatch: the web ACL logs (WAF.11) to a log group WAF accepts (named
// aws-waf-logs-*, in us-east-1 like the CloudFront web ACL: WAF Developer Guide, "CloudWatch
// Logs log group") with the stack's retention and logs key, whose resource policy lets log
// delivery write it for this account only ("Logs sent to CloudWatch Logs"), and keeps only the
// requests a rule blocked or counted.
func TestWebACLLogsToCloudWatch(t *testing.T) {
	retention := map[string]float64{"staging": 90, "prod": 365}
	for _, stack := range []string{"staging", "prod"} {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			east := res.Named(providerType, "aws-us-east-1")
			acl := single(t, res, webACLType)
			logging := single(t, res, "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
			group := res.Named("aws:cloudwatch/logGroup:LogGroup", "canalco-"+stack+"-cdn-waf-logs")
			if group == nil || group.Str("name") != "aws-waf-logs-canalco-"+stack+"-cdn" {
				t.Fatal("no log group aws-waf-logs-canalco-<stack>-cdn")
			}
			if logging.Str("resourceArn") != acl.Outputs["arn"] || !slices.Equal(logging.Strings("logDestinationConfigs"), []string{group.Outputs["arn"].(string)}) {
				t.Errorf("logging %q to %v, want the web ACL to %v", logging.Str("resourceArn"), logging.Strings("logDestinationConfigs"), group.Outputs["arn"])
			}
			if provider(res, group) != east || provider(res, logging) != east || group.Num("retentionInDays") != retention[stack] || group.Str("kmsKeyId") == "" {
				t.Errorf("log group in us-east-1 %v, retention %v, key %q: want us-east-1, %v days, the logs key",
					provider(res, group) == east, group.Num("retentionInDays"), group.Str("kmsKeyId"), retention[stack])
			}
			if logging.Str("loggingFilter.defaultBehavior") != "DROP" || logging.Str("loggingFilter.filters.0.behavior") != "KEEP" {
				t.Errorf("logging filter %v: want only blocked and counted requests kept", logging.Get("loggingFilter"))
			}
			policy := single(t, res, "aws:cloudwatch/logResourcePolicy:LogResourcePolicy")
			var doc struct{ Statement []security.Statement }
			if err := json.Unmarshal([]byte(policy.Str("policyDocument")), &doc); err != nil {
				t.Fatal(err)
			}
			s := doc.Statement[0]
			if provider(res, policy) != east || s.Principal["Service"] != "delivery.logs.amazonaws.com" ||
				!slices.Equal(s.Action, []string{"logs:CreateLogStream", "logs:PutLogEvents"}) ||
				!slices.Equal(s.Resource, []string{group.Outputs["arn"].(string) + ":log-stream:*"}) ||
				s.Condition["StringEquals"]["aws:SourceAccount"] != offline.AccountOf(stack) {
				t.Errorf("log group resource policy %+v", s)
			}
			if !logging.DependsOn(policy.URN) {
				t.Error("logging starts before the log group's resource policy admits WAF's deliveries")
			}
		})
	}
}

// TestWebACLLogsOutsideUSEast1: a KMS key serves its own region only, so a stack elsewhere
// encrypts the web ACL's us-east-1 log group with a key of its own there, one CloudWatch Logs
// may use in us-east-1.
func TestWebACLLogsOutsideUSEast1(t *testing.T) {
	res, err := offline.WithValues(t, "prod", map[string]string{"aws:region": "us-east-2", "canalco:availabilityZones": `["us-east-2a","us-east-2b"]`})
	if err != nil {
		t.Fatal(err)
	}
	east := res.Named(providerType, "aws-us-east-1")
	group := res.Named("aws:cloudwatch/logGroup:LogGroup", "canalco-prod-cdn-waf-logs")
	key := res.Named(keyType, "canalco-prod-waf-logs")
	if group == nil || key == nil {
		t.Fatal("no log group or no us-east-1 key for the web ACL's logs")
	}
	if provider(res, key) != east || group.Str("kmsKeyId") != key.Outputs["arn"] {
		t.Errorf("log group key %q, want the us-east-1 key %v", group.Str("kmsKeyId"), key.Outputs["arn"])
	}
	if !strings.Contains(key.Str("policy"), `"logs.us-east-1.amazonaws.com"`) {
		t.Errorf("the key does not let CloudWatch Logs use it in us-east-1: %s", key.Str("policy"))
	}
}

// CloudFront answers 409 to an update of a VPC origin a distribution uses ("UpdateVpcOrigin",
// CloudFront API Reference: the origin must not be in use), so a change of what the origin
// carries must be a replacement: created first under a new name, the distribution switched,
// the old one deleted; each step within timeouts longer than the provider's 15 minutes.
func TestTheVpcOriginIsReplacedNotUpdated(t *testing.T) {
	for _, stack := range offline.Stacks {
		res := offline.Stack(t, stack)
		origin := single(t, res, "aws:cloudfront/vpcOrigin:VpcOrigin")
		if !slices.Contains(origin.ReplaceOnChanges, "vpcOriginEndpointConfig") || origin.DeleteBeforeReplace {
			t.Errorf("%s: a change of the origin must create a new one before the old is deleted: replaceOnChanges %v, deleteBeforeReplace %v",
				stack, origin.ReplaceOnChanges, origin.DeleteBeforeReplace)
		}
		for _, op := range []string{"create", "update", "delete"} {
			d, err := time.ParseDuration(origin.Str("timeouts." + op))
			if err != nil || d < 30*time.Minute {
				t.Errorf("%s: %s timeout %q, want at least 30m", stack, op, origin.Str("timeouts."+op))
			}
		}
		name := origin.Str("vpcOriginEndpointConfig.name")
		alb := origin.Str("vpcOriginEndpointConfig.arn")
		if want := storage.VpcOriginName("canalco-"+stack+"-api", alb, origin.Str("vpcOriginEndpointConfig.originProtocolPolicy")); name != want {
			t.Errorf("%s: origin name %q, want %q", stack, name, want)
		}
	}
	// Moving dev to HTTPS, or to another load balancer, names a new origin: the two coexist
	// while the distribution switches.
	a := storage.VpcOriginName("canalco-dev-api", "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/canalco-dev/1", "http-only")
	for _, b := range []string{
		storage.VpcOriginName("canalco-dev-api", "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/canalco-dev/1", "https-only"),
		storage.VpcOriginName("canalco-dev-api", "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/canalco-dev/2", "http-only"),
	} {
		if a == b || len(b) > 64 {
			t.Errorf("names %q and %q: want distinct names of at most 64 characters", a, b)
		}
	}
}
