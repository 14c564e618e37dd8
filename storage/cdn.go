package storage

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"

	"github.com/canalco/infra/env"
	"github.com/canalco/infra/security"
	"github.com/canalco/infra/settings"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudfront"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// CDNArgs are the inputs of the CloudFront component.
type CDNArgs struct {
	Env      env.Env
	Settings settings.Storage
	Domain   settings.Domain
	Buckets  *Buckets
	// APIOrigin is the load balancer's hostname and APIOriginProtocol how CloudFront reaches it
	// ("https-only" with a certificate, "http-only" without); APIOriginArn is the internal load
	// balancer the VPC origin points at.
	APIOrigin         pulumi.StringInput
	APIOriginProtocol string
	APIOriginArn      pulumi.StringInput
	// VpcOriginReady is what the VPC origin waits for besides the load balancer: the network,
	// since CloudFront needs an internet gateway in the origin's VPC.
	VpcOriginReady []pulumi.Resource
}

// CDN is the distribution in front of the web app and the API.
type CDN struct {
	pulumi.ResourceState

	DistributionID  pulumi.StringOutput
	DistributionArn pulumi.StringOutput
	DomainName      pulumi.StringOutput
	// AppURL is where users open the app.
	AppURL pulumi.StringOutput
}

// AWS managed CloudFront policies.
const (
	cachingOptimized          = "658327ea-f89d-4fab-a63d-7e88639e58f6"
	cachingDisabled           = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
	allViewerExceptHostHeader = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
)

// Origin IDs inside the distribution.
const (
	frontendOrigin = "frontend"
	apiOrigin      = "api"
	// APIPath is the path the API is served under, on the app's own origin.
	APIPath = "/api/*"
)

// spaRouter is the viewer-request function that serves index.html for the app's deep links.
//
//go:embed spa-router.js
var spaRouter string

// cdnLogFields are the access log fields delivered: those of CloudFront's legacy logs but
// cookies (they carry sessions) and field-level encryption (not used).
var cdnLogFields = []string{
	"date", "time", "x-edge-location", "sc-bytes", "c-ip", "cs-method", "cs(Host)", "cs-uri-stem",
	"sc-status", "cs(Referer)", "cs(User-Agent)", "cs-uri-query", "x-edge-result-type",
	"x-edge-request-id", "x-host-header", "cs-protocol", "cs-bytes", "time-taken", "x-forwarded-for",
	"ssl-protocol", "ssl-cipher", "x-edge-response-result-type", "cs-protocol-version", "c-port",
	"time-to-first-byte", "x-edge-detailed-result-type", "sc-content-type", "sc-content-len",
	"sc-range-start", "sc-range-end",
}

// NewCDN creates the distribution with its origin access, function, headers, certificate,
// web ACL and access logs, plus what names the distribution on the buckets: the frontend
// bucket's policy and the browser buckets' CORS rules.
func NewCDN(ctx *pulumi.Context, name string, args *CDNArgs, opts ...pulumi.ResourceOption) (*CDN, error) {
	c := &CDN{}
	if err := ctx.RegisterComponentResource("canalco:storage:CDN", name, c, opts...); err != nil {
		return nil, err
	}
	if err := c.build(ctx, args); err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"distributionId":  c.DistributionID,
		"distributionArn": c.DistributionArn,
		"domainName":      c.DomainName,
		"appUrl":          c.AppURL,
	})
}

func (c *CDN) build(ctx *pulumi.Context, args *CDNArgs) error {
	e, st, d, b := args.Env, args.Settings, args.Domain, args.Buckets
	if args.APIOriginProtocol != "https-only" && args.APIOriginProtocol != "http-only" {
		return fmt.Errorf("API origin protocol %q: expected https-only or http-only", args.APIOriginProtocol)
	}
	parent := pulumi.Parent(c)

	// CloudFront.13: Origin Access Control, signing every request (no legacy OAI, no public bucket).
	oacName := e.Name("frontend")
	oac, err := cloudfront.NewOriginAccessControl(ctx, oacName, &cloudfront.OriginAccessControlArgs{
		Name:                          pulumi.String(oacName),
		Description:                   pulumi.String("CloudFront reads " + b.Frontend.Name),
		OriginAccessControlOriginType: pulumi.String("s3"),
		SigningBehavior:               pulumi.String("always"),
		SigningProtocol:               pulumi.String("sigv4"),
	}, parent)
	if err != nil {
		return fmt.Errorf("origin access control: %w", err)
	}
	fnName := e.Name("spa-router")
	router, err := cloudfront.NewFunction(ctx, fnName, &cloudfront.FunctionArgs{
		Name:    pulumi.String(fnName),
		Comment: pulumi.String("Serves index.html for the app's deep links"),
		Runtime: pulumi.String("cloudfront-js-2.0"),
		Code:    pulumi.String(spaRouter),
		Publish: pulumi.Bool(true),
	}, parent)
	if err != nil {
		return fmt.Errorf("function: %w", err)
	}
	headers, err := newSecurityHeaders(ctx, e, contentSecurityPolicy(browserOrigins(e, b)), parent)
	if err != nil {
		return fmt.Errorf("response headers policy: %w", err)
	}
	certArn, zone, err := appCertificate(ctx, c, e, d)
	if err != nil {
		return err
	}
	vpcOrigin, err := newVpcOrigin(ctx, args, parent)
	if err != nil {
		return err
	}

	distArgs := &cloudfront.DistributionArgs{
		Enabled:           pulumi.Bool(true),
		Comment:           pulumi.String(e.Prefix + ": web app and API"),
		DefaultRootObject: pulumi.String("index.html"), // CloudFront.1
		HttpVersion:       pulumi.String("http2and3"),
		IsIpv6Enabled:     pulumi.Bool(true),
		PriceClass:        pulumi.String(st.CdnPriceClass),
		Origins: cloudfront.DistributionOriginArray{
			&cloudfront.DistributionOriginArgs{
				OriginId:              pulumi.String(frontendOrigin),
				DomainName:            b.Frontend.RegionalDomainName, // CloudFront.12: the bucket of this stack
				OriginAccessControlId: oac.ID(),
			},
			// The internal load balancer through the VPC origin; the domain name is the Host
			// and, over HTTPS, the name the load balancer's certificate must match.
			&cloudfront.DistributionOriginArgs{
				OriginId:        pulumi.String(apiOrigin),
				DomainName:      args.APIOrigin,
				VpcOriginConfig: &cloudfront.DistributionOriginVpcOriginConfigArgs{VpcOriginId: vpcOrigin.ID()},
			},
		},
		DefaultCacheBehavior: &cloudfront.DistributionDefaultCacheBehaviorArgs{
			TargetOriginId:          pulumi.String(frontendOrigin),
			ViewerProtocolPolicy:    pulumi.String("redirect-to-https"), // CloudFront.3
			AllowedMethods:          pulumi.ToStringArray([]string{"GET", "HEAD", "OPTIONS"}),
			CachedMethods:           pulumi.ToStringArray([]string{"GET", "HEAD"}),
			Compress:                pulumi.Bool(true),
			CachePolicyId:           pulumi.String(cachingOptimized),
			ResponseHeadersPolicyId: headers.ID(),
			FunctionAssociations: cloudfront.DistributionDefaultCacheBehaviorFunctionAssociationArray{
				&cloudfront.DistributionDefaultCacheBehaviorFunctionAssociationArgs{EventType: pulumi.String("viewer-request"), FunctionArn: router.Arn},
			},
		},
		// The API: never cached, every viewer header, cookie and query string but Host (the
		// load balancer's certificate names its own host). HTTPS only: a redirect would turn a
		// POST into a GET.
		OrderedCacheBehaviors: cloudfront.DistributionOrderedCacheBehaviorArray{&cloudfront.DistributionOrderedCacheBehaviorArgs{
			PathPattern:             pulumi.String(APIPath),
			TargetOriginId:          pulumi.String(apiOrigin),
			ViewerProtocolPolicy:    pulumi.String("https-only"),
			AllowedMethods:          pulumi.ToStringArray([]string{"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"}),
			CachedMethods:           pulumi.ToStringArray([]string{"GET", "HEAD"}),
			Compress:                pulumi.Bool(true),
			CachePolicyId:           pulumi.String(cachingDisabled),
			OriginRequestPolicyId:   pulumi.String(allViewerExceptHostHeader),
			ResponseHeadersPolicyId: headers.ID(),
		}},
		Restrictions: &cloudfront.DistributionRestrictionsArgs{GeoRestriction: &cloudfront.DistributionRestrictionsGeoRestrictionArgs{
			RestrictionType: pulumi.String("none"),
		}},
		// Without a domain (dev) the default *.cloudfront.net certificate: CloudFront.7 is then
		// an accepted exception.
		ViewerCertificate: &cloudfront.DistributionViewerCertificateArgs{CloudfrontDefaultCertificate: pulumi.Bool(true)},
	}
	if certArn != nil {
		distArgs.Aliases = pulumi.StringArray{pulumi.String(d.AppDomain)}
		// CloudFront.7 and CloudFront.8: the app's own certificate, served with SNI, TLS 1.2+.
		distArgs.ViewerCertificate = &cloudfront.DistributionViewerCertificateArgs{
			AcmCertificateArn:      certArn,
			SslSupportMethod:       pulumi.String("sni-only"),
			MinimumProtocolVersion: pulumi.String("TLSv1.2_2021"),
		}
	}
	if st.WafEnabled {
		acl, err := newWebACL(ctx, c, e, st)
		if err != nil {
			return fmt.Errorf("web ACL: %w", err)
		}
		distArgs.WebAclId = acl.Arn // CloudFront.6
		if err := logWebACL(ctx, c, e, acl); err != nil {
			return fmt.Errorf("web ACL logging: %w", err)
		}
	}
	dist, err := cloudfront.NewDistribution(ctx, e.Name("cdn"), distArgs, parent)
	if err != nil {
		return fmt.Errorf("distribution: %w", err)
	}
	c.DistributionID, c.DistributionArn, c.DomainName = dist.ID().ToStringOutput(), dist.Arn, dist.DomainName
	c.AppURL = dist.DomainName.ApplyT(func(host string) string { return "https://" + host }).(pulumi.StringOutput)
	if certArn != nil {
		c.AppURL = pulumi.String("https://" + d.AppDomain).ToStringOutput()
	}

	if err := c.grantBuckets(ctx, args, dist); err != nil {
		return err
	}
	if err := c.deliverLogs(ctx, args, dist); err != nil {
		return err
	}
	if zone != nil {
		return c.aliasRecords(ctx, e, d, zone.ZoneId, dist)
	}
	return nil
}

// newVpcOrigin is CloudFront's way into the VPC: it reaches the internal load balancer over
// AWS's network, so the load balancer needs no public address. It depends only on the load
// balancer and the network, so its creation (several minutes) runs while the database and the
// instances are created.
//
// CloudFront refuses to update a VPC origin while a distribution uses it (409), so any change
// of what it carries (the load balancer, the protocol that apiDomain decides) replaces it: the
// new origin is created under a name derived from that content, the distribution switches to
// it, and the old one is deleted. Each step waits for CloudFront to deploy, which can outlast
// the provider's 15 minutes (internal/service/cloudfront/vpc_origin.go, terraform-provider-aws
// v5.100).
func newVpcOrigin(ctx *pulumi.Context, args *CDNArgs, parent pulumi.ResourceOption) (*cloudfront.VpcOrigin, error) {
	prefix := args.Env.Name("api")
	name := args.APIOriginArn.ToStringOutput().ApplyT(func(arn string) string {
		return VpcOriginName(prefix, arn, args.APIOriginProtocol)
	}).(pulumi.StringOutput)
	origin, err := cloudfront.NewVpcOrigin(ctx, prefix, &cloudfront.VpcOriginArgs{
		VpcOriginEndpointConfig: &cloudfront.VpcOriginVpcOriginEndpointConfigArgs{
			Name:      name,
			Arn:       args.APIOriginArn,
			HttpPort:  pulumi.Int(80),
			HttpsPort: pulumi.Int(443),
			// CloudFront.9: HTTPS to the load balancer when it has a certificate. Dev has none
			// and uses HTTP, which never leaves AWS's network (docs/cdn.md).
			OriginProtocolPolicy: pulumi.String(args.APIOriginProtocol),
			// CloudFront.10: no SSL 3 or TLS 1.0/1.1 to the origin.
			OriginSslProtocols: &cloudfront.VpcOriginVpcOriginEndpointConfigOriginSslProtocolsArgs{
				Items: pulumi.StringArray{pulumi.String("TLSv1.2")}, Quantity: pulumi.Int(1),
			},
		},
		Timeouts: &cloudfront.VpcOriginTimeoutsArgs{
			Create: pulumi.String(vpcOriginTimeout), Update: pulumi.String(vpcOriginTimeout), Delete: pulumi.String(vpcOriginTimeout),
		},
	}, parent, pulumi.DependsOn(args.VpcOriginReady), pulumi.ReplaceOnChanges([]string{"vpcOriginEndpointConfig"}))
	if err != nil {
		return nil, fmt.Errorf("VPC origin: %w", err)
	}
	return origin, nil
}

// vpcOriginTimeout covers a VPC origin's deployment, which AWS says takes up to 15 minutes
// ("Restrict access with VPC origins", CloudFront developer guide), with room for a slow day.
const vpcOriginTimeout = "45m"

// VpcOriginName is the origin's name: the stack's prefix and a hash of what it carries, so a
// replacement never collides with the origin it replaces (at most 64 characters).
func VpcOriginName(prefix, albArn, protocol string) string {
	sum := sha256.Sum256([]byte(albArn + "|" + protocol))
	return prefix + "-" + hex.EncodeToString(sum[:])[:8]
}

// grantBuckets writes what depends on the distribution into the buckets: the frontend bucket's
// policy (only this distribution may read it) and CORS on the browser buckets (only the app's
// origins, which include the distribution's domain when the stack has no domain of its own).
func (c *CDN) grantBuckets(ctx *pulumi.Context, args *CDNArgs, dist *cloudfront.Distribution) error {
	frontend := args.Buckets.created["frontend"]
	arn := "arn:aws:s3:::" + frontend.Name
	document := dist.Arn.ApplyT(func(distArn string) string {
		return bucketDocument(arn, security.Statement{
			Sid:       "CloudFrontReads",
			Effect:    "Allow",
			Principal: map[string]any{"Service": "cloudfront.amazonaws.com"},
			Action:    []string{"s3:GetObject"},
			Resource:  []string{arn + "/*"},
			Condition: map[string]map[string]any{"StringEquals": {"AWS:SourceArn": distArn}},
		})
	}).(pulumi.StringOutput)
	if _, err := bucketPolicy(ctx, frontend.Name, frontend, document, pulumi.Parent(c)); err != nil {
		return fmt.Errorf("frontend bucket policy: %w", err)
	}

	origins := append(pulumi.StringArray{c.AppURL}, pulumi.ToStringArray(args.Settings.CorsExtraOrigins)...)
	for _, purpose := range BrowserPurposes {
		target := args.Buckets.created[purpose]
		if _, err := s3.NewBucketCorsConfigurationV2(ctx, target.Name, &s3.BucketCorsConfigurationV2Args{
			Bucket: target.id,
			CorsRules: s3.BucketCorsConfigurationV2CorsRuleArray{&s3.BucketCorsConfigurationV2CorsRuleArgs{
				Id:             pulumi.String("presigned-urls"),
				AllowedOrigins: origins,
				AllowedMethods: pulumi.ToStringArray([]string{"GET", "PUT", "POST", "HEAD"}),
				// What a browser sends with a presigned upload; x-amz-* covers checksums and metadata.
				AllowedHeaders: pulumi.ToStringArray([]string{"Content-Type", "Content-MD5", "Content-Disposition", "x-amz-*"}),
				// Multipart uploads need each part's ETag.
				ExposeHeaders: pulumi.ToStringArray([]string{"ETag", "x-amz-version-id"}),
				MaxAgeSeconds: pulumi.Int(3000),
			}},
		}, pulumi.Parent(c)); err != nil {
			return fmt.Errorf("CORS of %s: %w", target.Name, err)
		}
	}
	return nil
}

// deliverLogs sends the distribution's access logs to the log bucket (CloudFront.5) with
// standard logging v2, CloudWatch's log delivery. Legacy logging writes with ACLs, which
// would need ACLs enabled on the log bucket (S3.12); log delivery works with them disabled.
// CloudFront's delivery sources live in us-east-1.
func (c *CDN) deliverLogs(ctx *pulumi.Context, args *CDNArgs, dist *cloudfront.Distribution) error {
	e := args.Env
	inUSEast1 := []pulumi.ResourceOption{pulumi.Parent(c), pulumi.Provider(e.USEast1)}
	source, err := cloudwatch.NewLogDeliverySource(ctx, cdnLogSource(e), &cloudwatch.LogDeliverySourceArgs{
		Name:        pulumi.String(cdnLogSource(e)),
		LogType:     pulumi.String("ACCESS_LOGS"),
		ResourceArn: dist.Arn,
	}, inUSEast1...)
	if err != nil {
		return fmt.Errorf("log delivery source: %w", err)
	}
	destName := e.Name("cdn-logs")
	destination, err := cloudwatch.NewLogDeliveryDestination(ctx, destName, &cloudwatch.LogDeliveryDestinationArgs{
		Name: pulumi.String(destName),
		// W3C: the layout of CloudFront's legacy log files, which log tools already read.
		OutputFormat: pulumi.String("w3c"),
		DeliveryDestinationConfiguration: &cloudwatch.LogDeliveryDestinationDeliveryDestinationConfigurationArgs{
			DestinationResourceArn: args.Buckets.Logs.Arn,
		},
	}, inUSEast1...)
	if err != nil {
		return fmt.Errorf("log delivery destination: %w", err)
	}
	if _, err = cloudwatch.NewLogDelivery(ctx, e.Name("cdn"), &cloudwatch.LogDeliveryArgs{
		DeliverySourceName:     source.Name,
		DeliveryDestinationArn: destination.Arn,
		RecordFields:           pulumi.ToStringArray(cdnLogFields),
		// The path is explicit, so the log bucket's policy and lifecycle match what is written.
		S3DeliveryConfigurations: cloudwatch.LogDeliveryS3DeliveryConfigurationArray{&cloudwatch.LogDeliveryS3DeliveryConfigurationArgs{
			SuffixPath:               pulumi.String(CdnLogSuffixPath(e.AccountID)),
			EnableHiveCompatiblePath: pulumi.Bool(false),
		}},
	}, append(inUSEast1, pulumi.DependsOn([]pulumi.Resource{args.Buckets.LogsPolicy}))...); err != nil {
		return fmt.Errorf("log delivery: %w", err)
	}
	return nil
}

// aliasRecords point the app's hostname at the distribution, over IPv4 and IPv6.
func (c *CDN) aliasRecords(ctx *pulumi.Context, e env.Env, d settings.Domain, zoneID string, dist *cloudfront.Distribution) error {
	for _, kind := range []string{"A", "AAAA"} {
		if _, err := route53.NewRecord(ctx, e.Name("app-"+kind), &route53.RecordArgs{
			ZoneId: pulumi.String(zoneID),
			Name:   pulumi.String(d.AppDomain),
			Type:   pulumi.String(kind),
			Aliases: route53.RecordAliasArray{&route53.RecordAliasArgs{
				Name: dist.DomainName, ZoneId: dist.HostedZoneId, EvaluateTargetHealth: pulumi.Bool(false),
			}},
		}, pulumi.Parent(c)); err != nil {
			return fmt.Errorf("%s record of %s: %w", kind, d.AppDomain, err)
		}
	}
	return nil
}
