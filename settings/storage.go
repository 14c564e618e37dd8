package settings

import (
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
)

// Storage is the document buckets, the frontend bucket, logs and the CDN.
type Storage struct {
	// GlacierAfterDays moves current objects of the data buckets to Glacier (seed: one year).
	GlacierAfterDays int
	// NoncurrentExpireDays deletes old object versions after this many days.
	NoncurrentExpireDays int
	// LogExpireDays deletes access logs after this many days.
	LogExpireDays int
	// CorsExtraOrigins are origins besides the app's own that may call S3 from a browser (dev servers).
	CorsExtraOrigins []string
	// BackupReplicationRegion replicates the backups bucket to another region; empty turns it off.
	BackupReplicationRegion string
	CdnPriceClass           string
	WafEnabled              bool
	// WafRateLimit is API requests per 5 minutes per IP before WAF blocks it.
	WafRateLimit int
	// WafOfficeCidrs are the offices' public ranges, which the rate rule never counts.
	WafOfficeCidrs []string
}

// wafRateHeadroom multiplies the busiest office's expected API requests: a burst (a report
// opened by everyone at 9:00) must not be taken for an attack.
const wafRateHeadroom = 2

var priceClasses = []string{"PriceClass_100", "PriceClass_200", "PriceClass_All"}

var storageSection = section{
	keys: []Key{
		integer("glacierAfterDays", "Days before current documents move to Glacier Flexible Retrieval. 0: 365.", func(s *Settings) *int { return &s.Storage.GlacierAfterDays }),
		integer("noncurrentVersionExpireDays", "Days an overwritten or deleted document version is kept. 0: 30 dev, 90 staging, 365 prod.", func(s *Settings) *int { return &s.Storage.NoncurrentExpireDays }),
		integer("logExpireDays", "Days access logs are kept. 0: 30 dev, 90 staging, 365 prod.", func(s *Settings) *int { return &s.Storage.LogExpireDays }),
		list("corsExtraOrigins", "Extra browser origins allowed to use presigned S3 URLs, e.g. [http://localhost:5173] in dev.", func(s *Settings) *[]string { return &s.Storage.CorsExtraOrigins }),
		str("backupReplicationRegion", "Region to replicate the backups bucket to. Empty: off.", func(s *Settings) *string { return &s.Storage.BackupReplicationRegion }),
		str("cdnPriceClass", "CloudFront price class: PriceClass_100, PriceClass_200 or PriceClass_All.", func(s *Settings) *string { return &s.Storage.CdnPriceClass }),
		tristate("wafEnabled", "true: a WAF web ACL in front of CloudFront, logging what it blocks or counts. false removes the web ACL and deletes its log group with the logs in it. Empty: true in staging and prod (both public).", func(s *Settings) *bool { return &s.Storage.WafEnabled }),
		integer("wafRateLimit", "API requests (/api/*) per 5 minutes from one IP before WAF blocks it. 0: usageUsersPerOffice × usageApiRequestsPerUserMinute × 5 minutes × 2.", func(s *Settings) *int { return &s.Storage.WafRateLimit }),
		list("wafOfficeCidrs", "Public IPv4 ranges of the offices (their NAT), e.g. [190.85.10.0/28]: exempt from the WAF rate rule, since a whole office shares one address.", func(s *Settings) *[]string { return &s.Storage.WafOfficeCidrs }),
	},
	defaults: func(s *Settings) {
		st := &s.Storage
		st.GlacierAfterDays = 365
		keep := map[Environment]int{Dev: 30, Staging: 90, Prod: 365}[s.Environment]
		st.NoncurrentExpireDays, st.LogExpireDays = keep, keep
		st.CdnPriceClass = "PriceClass_100"
		st.WafEnabled = s.Environment != Dev
	},
	// derive sizes the rate rule from the usage profile when the stack does not set it.
	derive: func(s *Settings) {
		if s.Storage.WafRateLimit == 0 {
			s.Storage.WafRateLimit = s.Usage.UsersPerOffice * s.Usage.APIRequestsPerUserMinute * 5 * wafRateHeadroom
		}
	},
	validate: func(s *Settings, p *problems) {
		st := &s.Storage
		if st.GlacierAfterDays < 30 || st.GlacierAfterDays > 3650 {
			p.add("glacierAfterDays", st.GlacierAfterDays, "30 to 3650 days (Glacier bills at least 90 days per object: archive only what is no longer read)")
		}
		if st.NoncurrentExpireDays < 1 || st.NoncurrentExpireDays > 3650 {
			p.add("noncurrentVersionExpireDays", st.NoncurrentExpireDays, "1 to 3650 days")
		} else if s.IsProd() && st.NoncurrentExpireDays < 30 {
			p.add("noncurrentVersionExpireDays", st.NoncurrentExpireDays, "at least 30 in prod: an overwritten or deleted document stays restorable as long as the database backups (30 days)")
		}
		if st.LogExpireDays < 1 || st.LogExpireDays > 3650 {
			p.add("logExpireDays", st.LogExpireDays, "1 to 3650 days")
		}
		for _, o := range st.CorsExtraOrigins {
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.Contains(o, "*") {
				p.add("corsExtraOrigins", o, "an origin such as https://app.example.com or http://localhost:5173 (scheme and host, no path, never *)")
			}
		}
		if s.IsProd() {
			for _, o := range st.CorsExtraOrigins {
				if u, err := url.Parse(o); err == nil && u.Scheme == "http" {
					p.add("corsExtraOrigins", o, "https origins only in prod")
				}
			}
		}
		if st.BackupReplicationRegion != "" && (st.BackupReplicationRegion == s.Region || !regionPattern.MatchString(st.BackupReplicationRegion)) {
			p.add("backupReplicationRegion", st.BackupReplicationRegion, "an AWS region other than "+s.Region+", or empty")
		}
		if !slices.Contains(priceClasses, st.CdnPriceClass) {
			p.add("cdnPriceClass", st.CdnPriceClass, fmt.Sprintf("one of %v", priceClasses))
		}
		if st.WafRateLimit < 10 || st.WafRateLimit > 2000000000 {
			p.add("wafRateLimit", st.WafRateLimit, "10 to 2,000,000,000 requests (WAF's limits)")
		}
		for _, c := range st.WafOfficeCidrs {
			if pfx, err := netip.ParsePrefix(c); err != nil || !pfx.Addr().Is4() || pfx.Masked() != pfx || pfx.Bits() == 0 || isPrivate(pfx) {
				p.add("wafOfficeCidrs", c, "a public IPv4 network CIDR such as 190.85.10.0/28 (what CloudFront sees: the office's NAT address, /32 for one address)")
			}
		}
	},
}
