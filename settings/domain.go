package settings

import (
	"regexp"
	"strings"
)

// Domain holds the DNS names and certificates of a stack. A stack without a domain (dev)
// still deploys: CloudFront's default certificate serves viewers, and the load balancer
// admits only CloudFront (see docs/cdn.md).
type Domain struct {
	// Zone is the Route 53 public hosted zone (by name) where the program validates
	// certificates and writes records. It must exist and be delegated before `pulumi up`.
	Zone string
	// AppDomain is the users' hostname, served by CloudFront (e.g. app.canalco.co).
	AppDomain string
	// APIDomain is the load balancer's hostname, CloudFront's API origin (e.g. api.canalco.co).
	APIDomain string
	// AlbCertificateArn is an existing regional ACM certificate for APIDomain.
	AlbCertificateArn string
	// CdnCertificateArn is an existing us-east-1 ACM certificate for AppDomain.
	CdnCertificateArn string
	// DelegatedZone is a subzone of Zone hosted elsewhere (staging's staging.canalco.co, in
	// staging's account): this stack writes its NS delegation in Zone. Empty: none.
	DelegatedZone string
	// DelegatedNameServers are the name servers Route 53 assigned to DelegatedZone.
	DelegatedNameServers []string
}

// HasAPICertificate reports whether the load balancer can serve HTTPS.
func (d Domain) HasAPICertificate() bool {
	return d.AlbCertificateArn != "" || (d.APIDomain != "" && d.Zone != "")
}

// HasAppCertificate reports whether CloudFront serves the app's own hostname.
func (d Domain) HasAppCertificate() bool {
	return d.CdnCertificateArn != "" || (d.AppDomain != "" && d.Zone != "")
}

var (
	hostnamePattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	acmArnPattern   = regexp.MustCompile(`^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}$`)
)

var domainSection = section{
	keys: []Key{
		str("dnsZone", "Route 53 public hosted zone name, e.g. canalco.co, for certificates and records. Empty: no DNS automation. A change replaces every record the stack writes (in the new zone).", func(s *Settings) *string { return &s.Domain.Zone }),
		str("appDomain", "Hostname of the web app on CloudFront, e.g. app.canalco.co. Empty: the CloudFront domain. A change replaces its DNS records and certificate.", func(s *Settings) *string { return &s.Domain.AppDomain }),
		str("apiDomain", "Hostname of the load balancer, e.g. api.canalco.co. Empty: no HTTPS on the load balancer. A change replaces its DNS records and certificate.", func(s *Settings) *string { return &s.Domain.APIDomain }),
		str("albCertificateArn", "Existing ACM certificate (stack region) for apiDomain, instead of one the program requests (setting it replaces the requested one and deletes its validation record).", func(s *Settings) *string { return &s.Domain.AlbCertificateArn }),
		str("cdnCertificateArn", "Existing ACM certificate (us-east-1) for appDomain, instead of one the program requests (setting it replaces the requested one and deletes its validation record).", func(s *Settings) *string { return &s.Domain.CdnCertificateArn }),
		str("dnsDelegatedZone", "Subzone of dnsZone hosted in another stack's account, e.g. staging.canalco.co; this stack writes its NS records. Empty: none.", func(s *Settings) *string { return &s.Domain.DelegatedZone }),
		list("dnsDelegatedNameServers", "The four name servers Route 53 assigned to dnsDelegatedZone's hosted zone.", func(s *Settings) *[]string { return &s.Domain.DelegatedNameServers }),
	},
	validate: func(s *Settings, p *problems) {
		d := s.Domain
		if d.Zone != "" && (!hostnamePattern.MatchString(d.Zone) || len(d.Zone) > 253) {
			p.add("dnsZone", d.Zone, "a lowercase DNS zone name such as canalco.co")
		}
		for _, h := range []struct{ key, v string }{{"appDomain", d.AppDomain}, {"apiDomain", d.APIDomain}} {
			switch {
			case h.v == "":
			case !hostnamePattern.MatchString(h.v) || len(h.v) > 253:
				p.add(h.key, h.v, "a lowercase DNS hostname such as app.canalco.co")
			case d.Zone != "" && !strings.HasSuffix(h.v, "."+d.Zone):
				p.add(h.key, h.v, "a hostname inside dnsZone "+d.Zone)
			}
		}
		if m := acmArnPattern.FindStringSubmatch(d.AlbCertificateArn); d.AlbCertificateArn != "" && (m == nil || m[1] != s.Region) {
			p.add("albCertificateArn", d.AlbCertificateArn, "an ACM certificate ARN in the stack's region "+s.Region)
		}
		if m := acmArnPattern.FindStringSubmatch(d.CdnCertificateArn); d.CdnCertificateArn != "" && (m == nil || m[1] != "us-east-1") {
			p.add("cdnCertificateArn", d.CdnCertificateArn, "an ACM certificate ARN in us-east-1 (CloudFront only uses certificates from there)")
		}
		if d.AlbCertificateArn != "" && d.APIDomain == "" {
			p.add("apiDomain", d.APIDomain, "the hostname the albCertificateArn certificate covers")
		}
		if d.CdnCertificateArn != "" && d.AppDomain == "" {
			p.add("appDomain", d.AppDomain, "the hostname the cdnCertificateArn certificate covers")
		}
		if d.APIDomain != "" && d.AlbCertificateArn == "" && d.Zone == "" {
			p.add("apiDomain", d.APIDomain, "dnsZone (to request and validate a certificate) or albCertificateArn as well")
		}
		if d.AppDomain != "" && d.CdnCertificateArn == "" && d.Zone == "" {
			p.add("appDomain", d.AppDomain, "dnsZone (to request and validate a certificate) or cdnCertificateArn as well")
		}
		validateDelegation(d, p)
	},
}

// validateDelegation checks the NS delegation of a subzone: a child of dnsZone, with the name
// servers of its hosted zone (Route 53 assigns four to every public hosted zone).
func validateDelegation(d Domain, p *problems) {
	switch {
	case d.DelegatedZone == "" && len(d.DelegatedNameServers) == 0:
		return
	case d.Zone == "":
		p.add("dnsDelegatedZone", d.DelegatedZone, "empty while dnsZone is empty (the NS records go in dnsZone)")
	case d.DelegatedZone == "" || !hostnamePattern.MatchString(d.DelegatedZone) || !strings.HasSuffix(d.DelegatedZone, "."+d.Zone):
		p.add("dnsDelegatedZone", d.DelegatedZone, "a subzone of dnsZone "+d.Zone+", such as staging."+d.Zone)
	}
	if len(d.DelegatedNameServers) != 4 {
		p.add("dnsDelegatedNameServers", d.DelegatedNameServers, "the four name servers of "+d.DelegatedZone+"'s hosted zone (`aws route53 get-hosted-zone`)")
		return
	}
	for _, ns := range d.DelegatedNameServers {
		if !hostnamePattern.MatchString(strings.TrimSuffix(ns, ".")) {
			p.add("dnsDelegatedNameServers", ns, "a name server host name such as ns-123.awsdns-45.com")
		}
	}
}
