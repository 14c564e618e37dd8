package settings

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smtpValues are the values the SMTP transport needs, the password being secret config.
var smtpValues = map[string]string{
	"canalco:emailTransport": "smtp", "canalco:smtpUsername": "notificaciones@canalco.co",
	"canalco:smtpTenantId": "00000000-0000-0000-0000-000000000001", "canalco:smtpClientId": "00000000-0000-0000-0000-000000000002",
	"canalco:smtpClientSecret": "s3cret",
}

func parseServerless(stack string, set map[string]string) (*Settings, error) {
	in := base(stack, withBase(set))
	in.IsSecret = func(k string) bool { return k == "canalco:smtpClientSecret" }
	return Parse(in)
}

func serverlessWith(set map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range set {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// Each case is one mistake in the serverless section; each names the key, the value and the fix.
func TestBadServerlessSettingsAreReported(t *testing.T) {
	many := make([]string, MaxSummaryRecipients+1)
	for i := range many {
		many[i] = fmt.Sprintf(`"gerencia%d@canalco.co"`, i)
	}
	cases := []struct {
		name string
		set  map[string]string
		want []string
	}{
		{"domain with capitals", map[string]string{"canalco:emailDomain": "Canalco.co"}, []string{`canalco:emailDomain = "Canalco.co"`, "lowercase domain"}},
		{"sender outside the domain", map[string]string{"canalco:emailDomain": "canalco.co", "canalco:emailSender": "a@otro.co"}, []string{`canalco:emailSender = "a@otro.co"`, "address of emailDomain canalco.co"}},
		{"sender with a display name", map[string]string{"canalco:emailSender": "Canalco <a@canalco.co>"}, []string{"canalco:emailSender", "an email address"}},
		{"unknown transport", map[string]string{"canalco:emailTransport": "sendgrid"}, []string{`canalco:emailTransport = "sendgrid"`, "ses or smtp"}},
		{"smtp without user", serverlessWith(smtpValues, "canalco:smtpUsername", ""), []string{"canalco:smtpUsername", "SMTP user"}},
		{"smtp without client secret", serverlessWith(smtpValues, "canalco:smtpClientSecret", ""), []string{"canalco:smtpClientSecret", "pulumi config set --secret"}},
		{"smtp tenant not a GUID", serverlessWith(smtpValues, "canalco:smtpTenantId", "canalco.onmicrosoft.com"), []string{`canalco:smtpTenantId = "canalco.onmicrosoft.com"`, "GUID"}},
		{"smtp without client id", serverlessWith(smtpValues, "canalco:smtpClientId", ""), []string{"canalco:smtpClientId", "GUID"}},
		{"smtp host not a hostname", serverlessWith(smtpValues, "canalco:smtpHost", "smtp office365"), []string{`canalco:smtpHost = "smtp office365"`, "hostname"}},
		{"smtp port 25", serverlessWith(smtpValues, "canalco:smtpPort", "25"), []string{"canalco:smtpPort = 25", "Lambda blocks 25"}},
		{"smtp implicit TLS", serverlessWith(smtpValues, "canalco:smtpPort", "465"), []string{"canalco:smtpPort = 465", "STARTTLS"}},
		{"port out of range", map[string]string{"canalco:smtpPort": "70000"}, []string{"canalco:smtpPort = 70000", "a TCP port"}},
		{"cron with five fields", map[string]string{"canalco:cleanupSchedule": "cron(0 3 * * *)"}, []string{`canalco:cleanupSchedule = "cron(0 3 * * *)"`, "EventBridge Scheduler expression"}},
		{"unix cron", map[string]string{"canalco:summarySchedule": "0 7 * * 1-5"}, []string{"canalco:summarySchedule", "cron(0 3 * * ? *)"}},
		{"recipient not an address", map[string]string{"canalco:summaryRecipients": `["gerencia"]`}, []string{`canalco:summaryRecipients = "gerencia"`, "email addresses"}},
		{"more recipients than one email takes", map[string]string{"canalco:summaryRecipients": "[" + strings.Join(many, ",") + "]"}, []string{"canalco:summaryRecipients", "at most 50 addresses"}},
		{"scheduled report unknown", map[string]string{"canalco:reportScheduleReport": "inventory"}, []string{`canalco:reportScheduleReport = "inventory"`, "requisitions, orders, audit"}},
		{"scheduled report on a Spanish day", map[string]string{"canalco:reportScheduleDay": "LUN"}, []string{`canalco:reportScheduleDay = "LUN"`, "MON, TUE"}},
		{"scheduled report day in lower case", map[string]string{"canalco:reportScheduleDay": "mon"}, []string{`canalco:reportScheduleDay = "mon"`}},
		{"scheduled report at hour 24", map[string]string{"canalco:reportScheduleHour": "24"}, []string{"canalco:reportScheduleHour = 24", "0 to 23"}},
		{"scheduled report at a negative hour", map[string]string{"canalco:reportScheduleHour": "-1"}, []string{"canalco:reportScheduleHour = -1", "0 to 23"}},
		{"scheduled report as docx", map[string]string{"canalco:reportScheduleFormat": "docx"}, []string{`canalco:reportScheduleFormat = "docx"`, "xlsx, pdf, csv"}},
		{"scheduled report to a name", map[string]string{"canalco:reportScheduleRecipients": `["gerencia"]`}, []string{`canalco:reportScheduleRecipients = "gerencia"`, "email addresses"}},
		{"scheduled report to too many", map[string]string{"canalco:reportScheduleRecipients": "[" + strings.Join(many, ",") + "]"}, []string{"canalco:reportScheduleRecipients", "at most 50 addresses"}},
		{"dmarc policy unknown", map[string]string{"canalco:emailDmarcPolicy": "strict"}, []string{`canalco:emailDmarcPolicy = "strict"`, "none, quarantine, reject or external"}},
		{"dmarc reports not a mailbox", map[string]string{"canalco:emailDmarcReports": "dmarc"}, []string{`canalco:emailDmarcReports = "dmarc"`, "the mailbox of the DMARC reports"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := parseServerless("prod", c.set)
			require.Error(t, err)
			assert.Nil(t, s)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestSMTPClientSecretMustBeSecret(t *testing.T) {
	_, err := Parse(base("prod", withBase(smtpValues)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "canalco:smtpClientSecret is stored in plain text")
	assert.NotContains(t, err.Error(), "s3cret", "the message must not repeat the password")
}

func TestGoodServerlessSettingsAreAccepted(t *testing.T) {
	s, err := parseServerless("prod", map[string]string{"canalco:emailDomain": "canalco.co", "canalco:emailSender": ""})
	require.NoError(t, err)
	sv := s.Serverless
	assert.Equal(t, "notificaciones@canalco.co", sv.Sender, "the sender defaults to an address of the domain")
	assert.Equal(t, "ses", sv.Transport)
	assert.Equal(t, "none", sv.DmarcPolicy, "a corporate domain's mail is not ours to quarantine")
	assert.Equal(t, "dmarc@canalco.co", sv.DmarcReports, "the reports go to a mailbox of the domain")
	assert.Equal(t, 587, sv.SMTPPort)
	assert.Equal(t, "cron(0 3 * * ? *)", sv.CleanupSchedule, "the clean-up runs daily")

	s, err = parseServerless("prod", serverlessWith(smtpValues, "canalco:emailDmarcPolicy", "external", "canalco:summarySchedule", "rate(1 day)"))
	require.NoError(t, err)
	assert.Equal(t, "smtp", s.Serverless.Transport)
	assert.Equal(t, "s3cret", s.Serverless.SMTPClientSecret)
	assert.Equal(t, "external", s.Serverless.DmarcPolicy)
	assert.Equal(t, "rate(1 day)", s.Serverless.SummarySchedule)
}
