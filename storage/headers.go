package storage

import (
	"strings"

	"github.com/canalco/infra/env"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudfront"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// hstsSeconds is one year, the minimum the HSTS preload list accepts.
const hstsSeconds = 31536000

// contentSecurityPolicy fits a React single-page app served from its own origin that calls
// its API on the same origin (/api) and exchanges files with this stack's browser buckets
// through presigned URLs (s3Origins). Styles allow inline because React component libraries
// inject <style> elements at run time; scripts do not (the build must not inline scripts).
func contentSecurityPolicy(s3Origins []string) string {
	s3 := strings.Join(s3Origins, " ")
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self' 'unsafe-inline'",
		"img-src 'self' data: blob: " + s3,
		"font-src 'self' data:",
		"connect-src 'self' " + s3,
		"frame-src 'self' blob: " + s3,
		"worker-src 'self' blob:",
		"manifest-src 'self'",
		"object-src 'none'",
		"base-uri 'self'",
		"form-action 'self'",
		"frame-ancestors 'none'",
		"upgrade-insecure-requests",
	}, "; ")
}

// browserOrigins are the S3 origins the app's pages talk to: the virtual-hosted regional
// endpoint of each browser bucket, the form presigned URLs take.
func browserOrigins(e env.Env, b *Buckets) []string {
	var out []string
	for _, purpose := range BrowserPurposes {
		out = append(out, "https://"+b.Documents[purpose].Name+".s3."+e.Region+".amazonaws.com")
	}
	return out
}

// newSecurityHeaders is the response headers policy of every behavior.
func newSecurityHeaders(ctx *pulumi.Context, e env.Env, csp string, opts ...pulumi.ResourceOption) (*cloudfront.ResponseHeadersPolicy, error) {
	name := e.Name("security-headers")
	return cloudfront.NewResponseHeadersPolicy(ctx, name, &cloudfront.ResponseHeadersPolicyArgs{
		Name:    pulumi.String(name),
		Comment: pulumi.String("Security headers of " + e.Prefix),
		SecurityHeadersConfig: &cloudfront.ResponseHeadersPolicySecurityHeadersConfigArgs{
			StrictTransportSecurity: &cloudfront.ResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurityArgs{
				AccessControlMaxAgeSec: pulumi.Int(hstsSeconds), IncludeSubdomains: pulumi.Bool(true), Preload: pulumi.Bool(true), Override: pulumi.Bool(true),
			},
			ContentTypeOptions: &cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentTypeOptionsArgs{Override: pulumi.Bool(true)},
			FrameOptions: &cloudfront.ResponseHeadersPolicySecurityHeadersConfigFrameOptionsArgs{
				FrameOption: pulumi.String("DENY"), Override: pulumi.Bool(true),
			},
			ReferrerPolicy: &cloudfront.ResponseHeadersPolicySecurityHeadersConfigReferrerPolicyArgs{
				ReferrerPolicy: pulumi.String("strict-origin-when-cross-origin"), Override: pulumi.Bool(true),
			},
			XssProtection: &cloudfront.ResponseHeadersPolicySecurityHeadersConfigXssProtectionArgs{
				Protection: pulumi.Bool(true), ModeBlock: pulumi.Bool(true), Override: pulumi.Bool(true),
			},
			ContentSecurityPolicy: &cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicyArgs{
				ContentSecurityPolicy: pulumi.String(csp), Override: pulumi.Bool(true),
			},
		},
	}, opts...)
}
