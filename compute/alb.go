package compute

import (
	"fmt"

	"github.com/canalco/infra/network"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/acm"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TLSPolicy is the HTTPS listener's security policy: TLS 1.3, and TLS 1.2 with forward-secret
// AES-GCM ciphers only (ELB.17). Not the TLS 1.3-only policy: CloudFront connects to origins
// with at most TLS 1.2 (its origin protocols are SSLv3 to TLSv1.2), so that policy would fail
// every API request with a 502.
const TLSPolicy = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"

// loadBalancer creates the internal ALB, the backend's target group, the listener and, with a
// domain, the certificate and DNS records. It returns the target group's ARN for the Auto
// Scaling group. The ALB has no public address: CloudFront reaches it through a VPC origin
// (the storage layer's CDN), over AWS's network.
func (c *Compute) loadBalancer(ctx *pulumi.Context, a *ComputeArgs, parent pulumi.ResourceOption) (pulumi.StringOutput, error) {
	e, d := a.Env, a.Domain
	// The network layer opened AlbPort; it must be the port this listener needs.
	https := d.HasAPICertificate()
	port, with := 80, "without"
	if https {
		port, with = network.HTTPSPort, "with"
	}
	if a.AlbPort != port {
		return pulumi.StringOutput{}, fmt.Errorf("load balancer port %d: a stack %s an API certificate listens on %d", a.AlbPort, with, port)
	}

	alb, err := lb.NewLoadBalancer(ctx, e.Name("alb"), &lb.LoadBalancerArgs{
		Name:             pulumi.String(e.Name("alb")),
		LoadBalancerType: pulumi.String("application"),
		// Internal, in the private subnets: no public IPv4 addresses (each was billed) and no
		// listener reachable from the internet; only CloudFront's VPC origin reaches it.
		Internal:       pulumi.Bool(true),
		IpAddressType:  pulumi.String("ipv4"),
		Subnets:        a.PrivateSubnetIDs,
		SecurityGroups: pulumi.StringArray{a.AlbSecurityGroupID},
		// ELB.4: malformed headers never reach the backend.
		DropInvalidHeaderFields: pulumi.Bool(true),
		// ELB.12: requests that risk HTTP desync are closed or not reused.
		DesyncMitigationMode: pulumi.String("defensive"),
		// ELB.5: access logs to the stack's log bucket (its policy lets ELB write under alb/).
		AccessLogs: &lb.LoadBalancerAccessLogsArgs{
			Bucket:  pulumi.String(a.AccessLogBucket),
			Prefix:  pulumi.String("alb"),
			Enabled: pulumi.Bool(true),
		},
		// ELB.6: a protected stack's load balancer cannot be deleted by accident.
		EnableDeletionProtection: pulumi.Bool(e.Protected),
		IdleTimeout:              pulumi.Int(60),
		EnableHttp2:              pulumi.Bool(true),
		EnableWafFailOpen:        pulumi.Bool(false),
		XffHeaderProcessingMode:  pulumi.String("append"),
		PreserveHostHeader:       pulumi.Bool(false),
		// A new type or scheme replaces the load balancer under its fixed name, so the old one
		// must go first (its listeners with it); deletion protection still stops that in a
		// protected stack until someone lifts it for the replacement.
	}, parent, pulumi.DependsOn(a.AccessLogsReady), pulumi.DeleteBeforeReplace(true))
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("load balancer: %w", err)
	}
	c.AlbArn, c.AlbArnSuffix, c.AlbDNSName, c.AlbZoneID = alb.Arn, alb.ArnSuffix, alb.DnsName, alb.ZoneId

	// No fixed name: a new port or protocol replaces the group, and the listener and the Auto
	// Scaling group still use the old one while the new one is created, so it cannot go first.
	// Pulumi auto-names it from the logical name plus a hyphen and seven random characters,
	// which with the longest stack name still fits ELB's 32 characters.
	tg, err := lb.NewTargetGroup(ctx, e.Name("tg"), &lb.TargetGroupArgs{
		TargetType:          pulumi.String("instance"),
		Port:                pulumi.Int(network.BackendPort),
		Protocol:            pulumi.String("HTTP"),
		ProtocolVersion:     pulumi.String("HTTP1"),
		VpcId:               a.VpcID,
		DeregistrationDelay: pulumi.Int(30),
		HealthCheck: &lb.TargetGroupHealthCheckArgs{
			Enabled:  pulumi.Bool(true),
			Protocol: pulumi.String("HTTP"),
			Port:     pulumi.String("traffic-port"),
			Path:     pulumi.String(a.Settings.HealthCheckPath),
			// Seed: health checks every 30 seconds. Healthy after 1 minute, out after 1.5.
			Interval:           pulumi.Int(30),
			Timeout:            pulumi.Int(5),
			HealthyThreshold:   pulumi.Int(2),
			UnhealthyThreshold: pulumi.Int(3),
			Matcher:            pulumi.String("200-399"),
		},
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("target group: %w", err)
	}
	c.TargetGroupArnSuffix = tg.ArnSuffix

	// CloudFront's origin is APIDomain with a certificate, else the ALB's own DNS name; with
	// the AllViewerExceptHostHeader policy it sends that origin name as Host (and as SNI over
	// HTTPS, which the certificate must cover).
	listener := &lb.ListenerArgs{
		LoadBalancerArn: alb.Arn,
		Port:            pulumi.Int(a.AlbPort),
		Protocol:        pulumi.String("HTTP"),
		DefaultActions:  lb.ListenerDefaultActionArray{forbidden()},
	}
	host := alb.DnsName
	c.APIOrigin, c.APIOriginProtocol = alb.DnsName, "http-only"
	if https {
		var zoneID pulumi.StringInput
		if d.Zone != "" {
			zone, err := route53.LookupZone(ctx, &route53.LookupZoneArgs{Name: pulumi.StringRef(d.Zone), PrivateZone: pulumi.BoolRef(false)}, pulumi.Parent(c))
			if err != nil {
				return pulumi.StringOutput{}, fmt.Errorf("hosted zone %s: %w", d.Zone, err)
			}
			zoneID = pulumi.String(zone.ZoneId)
			if err := apiAlias(ctx, a, zoneID, alb, parent); err != nil {
				return pulumi.StringOutput{}, err
			}
		}
		cert, err := certificate(ctx, a, zoneID, parent)
		if err != nil {
			return pulumi.StringOutput{}, err
		}
		listener.Protocol, listener.SslPolicy, listener.CertificateArn = pulumi.String("HTTPS"), pulumi.String(TLSPolicy), cert
		host = pulumi.String(d.APIDomain).ToStringOutput()
		c.APIOrigin, c.APIOriginProtocol = host, "https-only"
	}
	l, err := lb.NewListener(ctx, e.Name("alb-"+fmt.Sprint(a.AlbPort)), listener, parent)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("listener: %w", err)
	}
	// Only requests for the origin's own hostname reach the backend; anything else (scanners
	// using the address, other Host values) gets the listener's 403.
	if _, err := lb.NewListenerRule(ctx, e.Name("alb-backend"), &lb.ListenerRuleArgs{
		ListenerArn: l.Arn,
		Priority:    pulumi.Int(10),
		Conditions: lb.ListenerRuleConditionArray{&lb.ListenerRuleConditionArgs{
			HostHeader: &lb.ListenerRuleConditionHostHeaderArgs{Values: pulumi.StringArray{host}},
		}},
		Actions: lb.ListenerRuleActionArray{&lb.ListenerRuleActionArgs{Type: pulumi.String("forward"), TargetGroupArn: tg.Arn}},
	}, parent); err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("listener rule: %w", err)
	}
	return tg.Arn, nil
}

func forbidden() *lb.ListenerDefaultActionArgs {
	return &lb.ListenerDefaultActionArgs{
		Type: pulumi.String("fixed-response"),
		FixedResponse: &lb.ListenerDefaultActionFixedResponseArgs{
			ContentType: pulumi.String("text/plain"),
			MessageBody: pulumi.String("Forbidden"),
			StatusCode:  pulumi.String("403"),
		},
	}
}

// certificate is the listener's certificate: the configured one, or one the program requests
// for APIDomain and validates with a DNS record in the zone.
func certificate(ctx *pulumi.Context, a *ComputeArgs, zoneID pulumi.StringInput, parent pulumi.ResourceOption) (pulumi.StringInput, error) {
	if a.Domain.AlbCertificateArn != "" {
		return pulumi.String(a.Domain.AlbCertificateArn), nil
	}
	e := a.Env
	cert, err := acm.NewCertificate(ctx, e.Name("api"), &acm.CertificateArgs{
		DomainName:       pulumi.String(a.Domain.APIDomain),
		ValidationMethod: pulumi.String("DNS"),
		// ACM.2: RSA keys of at least 2048 bits.
		KeyAlgorithm: pulumi.String("RSA_2048"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	// One name, so one validation record. ACM.1: DNS validation lets ACM renew on its own.
	dvo := cert.DomainValidationOptions.Index(pulumi.Int(0))
	record, err := route53.NewRecord(ctx, e.Name("api-validation"), &route53.RecordArgs{
		ZoneId:         zoneID,
		Name:           dvo.ResourceRecordName().Elem(),
		Type:           dvo.ResourceRecordType().Elem(),
		Records:        pulumi.StringArray{dvo.ResourceRecordValue().Elem()},
		Ttl:            pulumi.Int(300),
		AllowOverwrite: pulumi.Bool(true),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("certificate validation record: %w", err)
	}
	validation, err := acm.NewCertificateValidation(ctx, e.Name("api"), &acm.CertificateValidationArgs{
		CertificateArn:        cert.Arn,
		ValidationRecordFqdns: pulumi.StringArray{record.Fqdn},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("certificate validation: %w", err)
	}
	// The listener waits for the certificate to be issued.
	return validation.CertificateArn, nil
}

// apiAlias points APIDomain at the load balancer: the name the certificate covers resolves to
// the internal load balancer's private addresses, for checks from inside the VPC.
func apiAlias(ctx *pulumi.Context, a *ComputeArgs, zoneID pulumi.StringInput, alb *lb.LoadBalancer, parent pulumi.ResourceOption) error {
	_, err := route53.NewRecord(ctx, a.Env.Name("api-alias"), &route53.RecordArgs{
		ZoneId: zoneID,
		Name:   pulumi.String(a.Domain.APIDomain),
		Type:   pulumi.String("A"),
		Aliases: route53.RecordAliasArray{&route53.RecordAliasArgs{
			Name:                 alb.DnsName,
			ZoneId:               alb.ZoneId,
			EvaluateTargetHealth: pulumi.Bool(true),
		}},
	}, parent)
	if err != nil {
		return fmt.Errorf("api record: %w", err)
	}
	return nil
}
