package settings

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
)

// Serverless is the asynchronous jobs and email.
type Serverless struct {
	// EmailDomain is the SES domain identity. Empty: the sender address alone is verified (dev).
	EmailDomain string
	// Sender is the From address of every email.
	Sender string
	// Transport is "ses", or "smtp" for Microsoft 365 (Outlook) through SMTP.
	Transport    string
	SMTPHost     string
	SMTPPort     int
	SMTPUsername string
	// SMTP signs in with OAuth2 (XOAUTH2) as an Entra ID application of the Microsoft 365
	// tenant: Microsoft retires basic authentication for SMTP AUTH. SMTPClientSecret comes
	// from Pulumi secret config; the three are stored in Secrets Manager.
	SMTPTenantID      string
	SMTPClientID      string
	SMTPClientSecret  string
	SummarySchedule   string
	CleanupSchedule   string
	SummaryRecipients []string
	// ReportSchedule is the weekly report emailed to its recipients (the seed's "Reportes
	// programados"); no schedule while it has no recipients.
	ReportSchedule ReportSchedule
	// DmarcPolicy is the p= of the _dmarc record the program writes in the zone, or "external"
	// when the domain's DMARC record is managed elsewhere (a corporate domain already has one).
	// It starts at none: whether the domain's other senders pass DMARC is for its owner to learn
	// from the reports before asking receivers to quarantine what fails.
	DmarcPolicy string
	// DmarcReports is the mailbox of the record's aggregate reports (rua).
	DmarcReports string
}

// ReportSchedule says which report goes out weekly, when (in the stack's timezone) and to whom.
type ReportSchedule struct {
	Report     string
	Day        string
	Hour       int
	Format     string
	Recipients []string
}

// Enabled is true when someone receives the scheduled report.
func (r ReportSchedule) Enabled() bool { return len(r.Recipients) > 0 }

// Expression is the EventBridge Scheduler cron of the schedule: minute 0 of Hour on Day.
func (r ReportSchedule) Expression() string { return fmt.Sprintf("cron(0 %d ? * %s *)", r.Hour, r.Day) }

// The values the reports function accepts (serverless/functions/reports/handler.py), and the
// day names EventBridge Scheduler's cron takes.
var (
	ReportNames   = []string{"requisitions", "orders", "audit"}
	ReportFormats = []string{"xlsx", "pdf", "csv"}
	WeekDays      = []string{"MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"}
)

// DmarcPolicies are the values of emailDmarcPolicy: DMARC's three policies, or external.
var DmarcPolicies = []string{"none", "quarantine", "reject", "external"}

// MaxSummaryRecipients is how many addresses one notification message may carry (the
// notifications function skips larger messages).
const MaxSummaryRecipients = 50

// guidPattern is a Microsoft Entra tenant or application ID.
var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

var cronPattern = regexp.MustCompile(`^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$|^rate\(\d+ (minute|minutes|hour|hours|day|days)\)$`)

var serverlessSection = section{
	keys: []Key{
		str("emailDomain", "SES domain identity (DKIM, MAIL FROM), e.g. canalco.co. Empty: only the sender address is verified. A change replaces its DNS records (DKIM, MAIL FROM, DMARC).", func(s *Settings) *string { return &s.Serverless.EmailDomain }),
		str("emailSender", "From address of platform email. Empty: notificaciones@<emailDomain>.", func(s *Settings) *string { return &s.Serverless.Sender }),
		str("emailTransport", "ses, or smtp to send through Microsoft 365 (Outlook) SMTP.", func(s *Settings) *string { return &s.Serverless.Transport }),
		str("smtpHost", "SMTP server when emailTransport is smtp.", func(s *Settings) *string { return &s.Serverless.SMTPHost }),
		integer("smtpPort", "SMTP port (STARTTLS). 0: 587.", func(s *Settings) *int { return &s.Serverless.SMTPPort }),
		str("smtpUsername", "Mailbox the notifications are sent as when emailTransport is smtp.", func(s *Settings) *string { return &s.Serverless.SMTPUsername }),
		str("smtpTenantId", "Microsoft Entra tenant ID of the SMTP sender's Microsoft 365 (OAuth2 client credentials).", func(s *Settings) *string { return &s.Serverless.SMTPTenantID }),
		str("smtpClientId", "Application (client) ID of the Entra app allowed to send as smtpUsername.", func(s *Settings) *string { return &s.Serverless.SMTPClientID }),
		secret("smtpClientSecret", "Client secret of that Entra app (secret; stored in Secrets Manager).", func(s *Settings) *string { return &s.Serverless.SMTPClientSecret }),
		str("summarySchedule", "EventBridge Scheduler expression of the summary email, in timezone.", func(s *Settings) *string { return &s.Serverless.SummarySchedule }),
		str("cleanupSchedule", "EventBridge Scheduler expression of the daily clean-up, in timezone.", func(s *Settings) *string { return &s.Serverless.CleanupSchedule }),
		list("summaryRecipients", "Who receives the scheduled summary email. Empty: no summary schedule.", func(s *Settings) *[]string { return &s.Serverless.SummaryRecipients }),
		str("reportScheduleReport", "Report emailed weekly: requisitions, orders or audit.", func(s *Settings) *string { return &s.Serverless.ReportSchedule.Report }),
		str("reportScheduleDay", "Day of the weekly report, in timezone: MON, TUE, WED, THU, FRI, SAT or SUN.", func(s *Settings) *string { return &s.Serverless.ReportSchedule.Day }),
		integer("reportScheduleHour", "Hour (0-23, in timezone) of the weekly report; it covers the 7 days before that day.", func(s *Settings) *int { return &s.Serverless.ReportSchedule.Hour }),
		str("reportScheduleFormat", "Format of the weekly report: xlsx, pdf or csv.", func(s *Settings) *string { return &s.Serverless.ReportSchedule.Format }),
		list("reportScheduleRecipients", "Who receives the weekly report (one email each). Empty: no weekly report.", func(s *Settings) *[]string { return &s.Serverless.ReportSchedule.Recipients }),
		str("emailDmarcPolicy", "DMARC policy of the _dmarc record written in dnsZone: none (reports only, the default until the domain's owner has read them), quarantine or reject; external if the domain's DMARC record is managed elsewhere.", func(s *Settings) *string { return &s.Serverless.DmarcPolicy }),
		str("emailDmarcReports", "Mailbox that receives the DMARC aggregate reports (rua) of the _dmarc record; it must exist. Empty: dmarc@<emailDomain>.", func(s *Settings) *string { return &s.Serverless.DmarcReports }),
	},
	defaults: func(s *Settings) {
		sv := &s.Serverless
		sv.Transport = "ses"
		sv.SMTPHost = "smtp.office365.com"
		sv.SMTPPort = 587
		sv.SummarySchedule = "cron(0 7 ? * MON-FRI *)"
		sv.CleanupSchedule = "cron(0 3 * * ? *)"
		sv.DmarcPolicy = "none"
		sv.ReportSchedule = ReportSchedule{Report: "orders", Day: "MON", Hour: 7, Format: "xlsx"}
	},
	derive: func(s *Settings) {
		if s.Serverless.Sender == "" && s.Serverless.EmailDomain != "" {
			s.Serverless.Sender = "notificaciones@" + s.Serverless.EmailDomain
		}
		if s.Serverless.DmarcReports == "" && s.Serverless.EmailDomain != "" {
			s.Serverless.DmarcReports = "dmarc@" + s.Serverless.EmailDomain
		}
	},
	validate: func(s *Settings, p *problems) {
		sv := &s.Serverless
		if sv.EmailDomain != "" && !hostnamePattern.MatchString(sv.EmailDomain) {
			p.add("emailDomain", sv.EmailDomain, "a lowercase domain such as canalco.co")
		}
		if !validEmail(sv.Sender) {
			p.add("emailSender", sv.Sender, "an email address such as notificaciones@canalco.co (or set emailDomain)")
		} else if sv.EmailDomain != "" && !strings.HasSuffix(sv.Sender, "@"+sv.EmailDomain) {
			p.add("emailSender", sv.Sender, "an address of emailDomain "+sv.EmailDomain)
		}
		switch sv.Transport {
		case "ses":
		case "smtp":
			if !hostnamePattern.MatchString(sv.SMTPHost) {
				p.add("smtpHost", sv.SMTPHost, "the SMTP server's hostname, such as smtp.office365.com")
			}
			if sv.SMTPUsername == "" {
				p.add("smtpUsername", sv.SMTPUsername, "the SMTP user when emailTransport is smtp")
			}
			for _, id := range []struct{ key, v string }{{"smtpTenantId", sv.SMTPTenantID}, {"smtpClientId", sv.SMTPClientID}} {
				if !guidPattern.MatchString(id.v) {
					p.add(id.key, id.v, "a GUID from the Entra app registration's overview page")
				}
			}
			if sv.SMTPClientSecret == "" {
				p.add("smtpClientSecret", "", "a secret: `pulumi config set --secret canalco:smtpClientSecret <client secret>`")
			}
		default:
			p.add("emailTransport", sv.Transport, "ses or smtp")
		}
		switch {
		case sv.SMTPPort < 1 || sv.SMTPPort > 65535:
			p.add("smtpPort", sv.SMTPPort, "a TCP port, usually 587")
		case sv.SMTPPort == 25 || sv.SMTPPort == 465:
			// Lambda blocks outbound port 25, and the function speaks STARTTLS, not implicit TLS.
			p.add("smtpPort", sv.SMTPPort, "a STARTTLS submission port such as 587 (Lambda blocks 25; 465 is implicit TLS, which the function does not speak)")
		}
		if !slices.Contains(DmarcPolicies, sv.DmarcPolicy) {
			p.add("emailDmarcPolicy", sv.DmarcPolicy, "one of none, quarantine, reject or external")
		}
		if sv.DmarcReports != "" && !validEmail(sv.DmarcReports) {
			p.add("emailDmarcReports", sv.DmarcReports, "the mailbox of the DMARC reports, such as dmarc@canalco.co")
		}
		for _, e := range []struct{ key, v string }{{"summarySchedule", sv.SummarySchedule}, {"cleanupSchedule", sv.CleanupSchedule}} {
			if !cronPattern.MatchString(e.v) {
				p.add(e.key, e.v, "an EventBridge Scheduler expression such as cron(0 3 * * ? *) or rate(1 day)")
			}
		}
		for _, r := range sv.SummaryRecipients {
			if !validEmail(r) {
				p.add("summaryRecipients", r, "email addresses such as ops@canalco.co")
			}
		}
		validateReportSchedule(sv.ReportSchedule, p)
		if len(sv.SummaryRecipients) > MaxSummaryRecipients {
			p.add("summaryRecipients", sv.SummaryRecipients, fmt.Sprintf("at most %d addresses (one email's recipients); use a distribution list", MaxSummaryRecipients))
		}
	},
}

// validEmail accepts a bare address (no display name), as SES and SNS expect.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == "" && strings.Contains(s[strings.LastIndex(s, "@"):], ".")
}

func validateReportSchedule(r ReportSchedule, p *problems) {
	if !slices.Contains(ReportNames, r.Report) {
		p.add("reportScheduleReport", r.Report, "one of "+strings.Join(ReportNames, ", "))
	}
	if !slices.Contains(WeekDays, r.Day) {
		p.add("reportScheduleDay", r.Day, "a day as EventBridge Scheduler names it: "+strings.Join(WeekDays, ", "))
	}
	if r.Hour < 0 || r.Hour > 23 {
		p.add("reportScheduleHour", r.Hour, "an hour from 0 to 23")
	}
	if !slices.Contains(ReportFormats, r.Format) {
		p.add("reportScheduleFormat", r.Format, "one of "+strings.Join(ReportFormats, ", "))
	}
	for _, a := range r.Recipients {
		if !validEmail(a) {
			p.add("reportScheduleRecipients", a, "email addresses such as gerencia@canalco.co")
		}
	}
	if len(r.Recipients) > MaxSummaryRecipients {
		p.add("reportScheduleRecipients", r.Recipients, fmt.Sprintf("at most %d addresses; use a distribution list", MaxSummaryRecipients))
	}
}
