package settings

// Usage holds the monthly usage the cost estimate assumes; nothing is deployed from it.
type Usage struct {
	S3StorageGb    int
	CdnTransferGb  int
	Emails         int
	LambdaRequests int
	NatTransferGb  int
	LogsIngestedGb int
	// AuditEventsPerDay is the audit log's daily volume: the reports function is sized and
	// benchmarked for it (serverless/functions/tests/bench_reports.py), the estimate prices its
	// objects and requests.
	AuditEventsPerDay int
	// UsersPerOffice and APIRequestsPerUserMinute size the WAF rate rule: everyone in an office
	// reaches CloudFront from the office's one NAT address.
	UsersPerOffice           int
	APIRequestsPerUserMinute int
}

var usageSection = section{
	keys: []Key{
		integer("usageS3Gb", "Cost estimate: GB stored in S3. 0: 5 dev, 20 staging, 100 prod.", func(s *Settings) *int { return &s.Usage.S3StorageGb }),
		integer("usageCdnGb", "Cost estimate: GB CloudFront serves per month. 0: 10 dev, 50 staging, 1000 prod.", func(s *Settings) *int { return &s.Usage.CdnTransferGb }),
		integer("usageEmails", "Cost estimate: emails sent per month. 0: 500 dev, 2000 staging, 10000 prod.", func(s *Settings) *int { return &s.Usage.Emails }),
		integer("usageLambdaRequests", "Cost estimate: Lambda invocations per month. 0: 50000 dev, 200000 staging, 1000000 prod.", func(s *Settings) *int { return &s.Usage.LambdaRequests }),
		integer("usageNatGb", "Cost estimate: GB through the NAT gateways per month. 0: 5 dev, 20 staging, 50 prod.", func(s *Settings) *int { return &s.Usage.NatTransferGb }),
		integer("usageUsersPerOffice", "WAF rate rule: people working behind one office address. 0: 5 dev, 10 staging, 60 prod.", func(s *Settings) *int { return &s.Usage.UsersPerOffice }),
		integer("usageApiRequestsPerUserMinute", "WAF rate rule: API requests one active user's browser makes per minute. 0: 30.", func(s *Settings) *int { return &s.Usage.APIRequestsPerUserMinute }),
		integer("usageAuditEventsPerDay", "Audit events the backend records per day: the volume the audit log and the reports are sized for, and the cost estimate prices. 0: 500 dev, 2000 staging, 10000 prod.", func(s *Settings) *int { return &s.Usage.AuditEventsPerDay }),
		integer("usageLogsGb", "Cost estimate: GB of logs ingested per month. 0: 1 dev, 3 staging, 10 prod.", func(s *Settings) *int { return &s.Usage.LogsIngestedGb }),
	},
	defaults: func(s *Settings) {
		u := &s.Usage
		switch s.Environment {
		case Dev:
			*u = Usage{S3StorageGb: 5, CdnTransferGb: 10, Emails: 500, LambdaRequests: 50000, NatTransferGb: 5, LogsIngestedGb: 1, UsersPerOffice: 5, AuditEventsPerDay: 500}
		case Staging:
			*u = Usage{S3StorageGb: 20, CdnTransferGb: 50, Emails: 2000, LambdaRequests: 200000, NatTransferGb: 20, LogsIngestedGb: 3, UsersPerOffice: 10, AuditEventsPerDay: 2000}
		default:
			*u = Usage{S3StorageGb: 100, CdnTransferGb: 1000, Emails: 10000, LambdaRequests: 1000000, NatTransferGb: 50, LogsIngestedGb: 10, UsersPerOffice: 60, AuditEventsPerDay: 10000}
		}
		u.APIRequestsPerUserMinute = 30
	},
	validate: func(s *Settings, p *problems) {
		u := s.Usage
		for _, v := range []struct {
			key string
			n   int
		}{{"usageS3Gb", u.S3StorageGb}, {"usageCdnGb", u.CdnTransferGb}, {"usageEmails", u.Emails}, {"usageLambdaRequests", u.LambdaRequests}, {"usageNatGb", u.NatTransferGb}, {"usageLogsGb", u.LogsIngestedGb}, {"usageAuditEventsPerDay", u.AuditEventsPerDay}, {"usageUsersPerOffice", u.UsersPerOffice}, {"usageApiRequestsPerUserMinute", u.APIRequestsPerUserMinute}} {
			if v.n < 0 {
				p.add(v.key, v.n, "zero or more")
			}
		}
	},
}
