package offline_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/settings"
)

// alternatives are other values a setting may take, tried in order until one is valid in the
// stack (booleans flip, integers move; strings and lists need examples of what they hold);
// <account> is the stack's account.
var alternatives = map[string][]string{
	"albCertificateArn":         {"arn:aws:acm:us-east-1:<account>:certificate/0f6c3b1e-4b7a-4f0e-9d2a-1c2b3d4e5f60"},
	"apiDomain":                 {"api2.canalco.co", "api2.staging.canalco.co"},
	"appDomain":                 {"app2.canalco.co", "app2.staging.canalco.co"},
	"backendArchitecture":       {"x86_64"},
	"backupCopyRegion":          {"us-west-2"},
	"backupReplicationRegion":   {"us-west-2"},
	"cdnCertificateArn":         {"arn:aws:acm:us-east-1:<account>:certificate/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"},
	"cdnPriceClass":             {"PriceClass_200"},
	"chatWebhookUrl":            {"secure:v1:AAAABBBB"},
	"cleanupSchedule":           {"cron(0 4 * * ? *)"},
	"costCenter":                {"canalco-finance"},
	"dbBackupReplicationRegion": {"us-west-2"},
	"dbBackupWindow":            {"17:30-18:00", "06:00-06:30"},
	"dbEngineVersion":           {"16"},
	"dbInstanceClass":           {"db.t4g.large"},
	"dbMaintenanceWindow":       {"sat:08:30-sat:09:30"},
	"dbName":                    {"canalco_app"},
	"dbUsername":                {"canalco_owner"},
	"dnsDelegatedZone":          {"dev.canalco.co"},
	"dnsZone":                   {"canalco.co"},
	"emailDmarcPolicy":          {"reject"},
	"emailDomain":               {"canalco.co"},
	"emailSender":               {"avisos@canalco.co", "avisos@staging.canalco.co"},
	"emailTransport":            {"smtp"},
	"environment":               {"staging", "dev"},
	"githubOidcProviderArn":     {"arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com"},
	"githubRepository":          {"canalco/platform"},
	"healthCheckPath":           {"/healthz"},
	"instanceType":              {"t4g.large"},
	"migrationCommand":          {"alembic upgrade head"},
	"officeDays":                {"MON-SAT"},
	"reportScheduleDay":         {"TUE"},
	"reportScheduleFormat":      {"pdf"},
	"reportScheduleReport":      {"audit"},
	"restoreFreshnessColumn":    {"public.audit_events.created_at"},
	"smtpClientId":              {"5f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"},
	"smtpClientSecret":          {"secure:v1:AAAABBBB"},
	"smtpHost":                  {"smtp-mail.outlook.com"},
	"smtpTenantId":              {"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"},
	"smtpUsername":              {"avisos@canalco.co"},
	"summarySchedule":           {"cron(0 8 ? * MON-FRI *)"},
	"timezone":                  {"America/Lima"},
	"vpcCidr":                   {"10.3.0.0/16"},
	"logRetentionDays":          {"400", "60"},
	"alarmEmails":               {`["ops2@canalco.co"]`},
	"availabilityZones":         {`["us-east-1a","us-east-1c"]`},
	"corsExtraOrigins":          {`["http://localhost:5173"]`, `["https://admin.canalco.co"]`},
	"databaseSubnetCidrs":       {`["10.2.22.0/24","10.2.23.0/24"]`, `["10.1.22.0/24","10.1.23.0/24"]`, `["10.0.22.0/24","10.0.23.0/24"]`},
	"privateSubnetCidrs":        {`["10.2.12.0/24","10.2.13.0/24"]`, `["10.1.12.0/24","10.1.13.0/24"]`, `["10.0.12.0/24","10.0.13.0/24"]`},
	"publicSubnetCidrs":         {`["10.2.3.0/24","10.2.4.0/24"]`, `["10.1.3.0/24","10.1.4.0/24"]`, `["10.0.3.0/24","10.0.4.0/24"]`},
	"dnsDelegatedNameServers":   {`["ns-1.awsdns-01.org","ns-2.awsdns-02.co.uk","ns-3.awsdns-03.com","ns-4.awsdns-04.net"]`},
	"reportScheduleRecipients":  {`["ana@canalco.co"]`},
	"emailDmarcReports":         {"dmarc-reports@canalco.co"},
	"dbReplicaInstanceClass":    {"db.t4g.small", "db.t4g.large"},
	"summaryRecipients":         {`["ana@canalco.co"]`},
	"wafOfficeCidrs":            {`["190.85.10.0/28"]`},
}

// alone are settings that take no other value on their own in some stack, each with the reason
// (the test still tries them in every stack, and checks them wherever a value plans).
var alone = map[string]string{
	"chatWebhookUrl":          "a secret: the offline config takes it only encrypted",
	"smtpClientSecret":        "a secret, and only with emailTransport smtp",
	"emailTransport":          "smtp needs the smtp* settings",
	"dnsDelegatedZone":        "only with dnsDelegatedNameServers",
	"dnsDelegatedNameServers": "only with dnsDelegatedZone",
	"sleepOutsideOfficeHours": "false in prod; in staging it also needs a backup window in office hours",
	"dbMultiAz":               "true outside dev",
	"natPerAz":                "true outside dev",
	"apiDomain":               "needs dnsZone or a certificate (dev has neither)",
	"appDomain":               "needs dnsZone or a certificate (dev has neither)",
	"albCertificateArn":       "needs apiDomain (dev has none)",
	"cdnCertificateArn":       "needs appDomain (dev has none)",
	"costAnomalyDetection":    "only with alarmEmails, which dev's stack file does not set",
}

// candidates are the values tried for key in stack, whose value there is now.
func candidates(stack string, k settings.Key, now any) []string {
	switch k.Kind {
	case settings.Boolean, settings.Tristate:
		return []string{strconv.FormatBool(!now.(bool))}
	case settings.Integer:
		if v, ok := alternatives[k.Name]; ok {
			return v
		}
		n := now.(int)
		return []string{strconv.Itoa(n + 1), strconv.Itoa(n * 2), strconv.Itoa(n - 1)}
	}
	var out []string
	for _, v := range alternatives[k.Name] {
		out = append(out, strings.ReplaceAll(v, "<account>", offline.AccountOf(stack)))
	}
	return out
}

// Each setting of each stack, changed alone to another valid value: no protected or stateful
// resource (the table offline.Replacements, Stateful) may be replaced or deleted unless the
// setting's documentation says its change replaces something. The table names the provider's
// source of each forcing input.
func TestNoSettingReplacesProtectedResources(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			base := offline.Stack(t, stack)
			s, err := settings.Parse(settings.Input{Project: base.Config.Project, Stack: stack, Values: base.Config.Values})
			if err != nil {
				t.Fatal(err)
			}
			tried := 0
			for _, k := range settings.Keys() {
				var after *offline.Result
				var value string
				for _, v := range candidates(stack, k, k.Value(s)) {
					if after, err = offline.WithValues(t, stack, map[string]string{k.FullName(): v}); err == nil {
						value = v
						break
					}
				}
				if after == nil || err != nil {
					if reason, ok := alone[k.Name]; ok {
						t.Logf("%s: %s not changed alone: %s", stack, k.Name, reason)
					} else {
						t.Errorf("%s: no other value of %s plans (%v): add one to alternatives, or the reason to alone", stack, k.Name, err)
					}
					continue
				}
				tried++
				doc := strings.ToLower(k.Doc)
				for _, d := range offline.Diff(base, after) {
					r := d.Resource
					protected := r.Protect || offline.Replacements[r.Type].Stateful
					// A replacement is documented as one; a deletion as a deletion or a replacement.
					documented := strings.Contains(doc, "replace") || (d.Change == offline.Delete && strings.Contains(doc, "delete"))
					if !protected || documented || (d.Change != offline.Replace && d.Change != offline.Delete) {
						continue
					}
					t.Errorf("%s: %s = %s would %s %s %s (%v; %s): say so in the setting's description, or keep the resource",
						stack, k.Name, value, d.Change, r.Type, r.Name, d.Inputs, offline.Replacements[r.Type].Source)
				}
			}
			t.Logf("%s: %d of %d settings changed alone", stack, tried, len(settings.Keys()))
		})
	}
}

// The comparison sees what the test looks for: a database name change replaces the database,
// and the vault lock stays as it is when the retention changes.
func TestTheDiffFindsReplacements(t *testing.T) {
	base := offline.Stack(t, "prod")
	after, err := offline.WithValues(t, "prod", map[string]string{"canalco:dbName": "canalco_app", "canalco:ebsSnapshotRetentionDays": "90"})
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]offline.Difference{}
	for _, d := range offline.Diff(base, after) {
		found[d.Resource.Type] = d
	}
	if d := found["aws:rds/instance:Instance"]; d.Change != offline.Replace || !slices.Equal(d.Inputs, []string{"dbName"}) {
		t.Errorf("database: %+v, want a replacement by dbName", d)
	}
	if d, ok := found["aws:backup/vaultLockConfiguration:VaultLockConfiguration"]; ok {
		t.Errorf("vault lock: %s %v, want no change", d.Change, d.Inputs)
	}
	if d := found["aws:backup/plan:Plan"]; d.Change != offline.Update {
		t.Errorf("backup plan: %+v, want an update in place", d)
	}
}
