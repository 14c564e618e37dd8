package settings

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// maxAlarmEmails is what a budget notification and an anomaly subscription accept: 10
// subscribers each.
const maxAlarmEmails = 10

// freshnessColumn is a plain schema.table.column: the restore test quotes each part as an
// identifier, and PostgreSQL folds unquoted names to lower case.
var freshnessColumn = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}\.[a-z_][a-z0-9_]{0,62}\.[a-z_][a-z0-9_]{0,62}$`)

// Monitoring is alarms, budgets and backups.
type Monitoring struct {
	AlarmEmails []string
	// ChatWebhookURL receives alarms as HTTPS notifications (Slack, Teams); secret config.
	ChatWebhookURL            string
	CPUAlarmPercent           int
	HTTP5xxAlarmCount         int
	DiskUsedAlarmPercent      int
	DBConnectionsAlarmPercent int
	LatencyP95AlarmMs         int
	MonthlyBudgetUsd          int
	CostAnomalyDetection      bool
	// BackupCopyRegion copies AWS Backup recovery points to another region; empty turns it off.
	BackupCopyRegion        string
	EbsSnapshotRetentionDay int
	// RestoreTesting restores the latest database and volume recovery points every month
	// and validates the database copy (monitoring/restore.go).
	RestoreTesting bool
	// RestoreFreshnessColumn is "schema.table.column", a timestamp the application writes
	// continuously: the restore test checks that its newest value is close to the recovery
	// point. Empty: the test checks that every table answers, not how recent the data is.
	RestoreFreshnessColumn string
}

// The limits of prod's vault lock (monitoring): fixed, because changing one replaces the lock,
// which is protected and, after its cooling-off, immutable. Every stack's retention stays
// inside them, so a retention change never touches the lock.
const (
	// VaultLockMinRetentionDays: one weekly snapshot must be kept.
	VaultLockMinRetentionDays = 7
	// VaultLockMaxRetentionDays bounds what a mistaken rule could make undeletable (and billed).
	VaultLockMaxRetentionDays = 365
)

var monitoringSection = section{
	keys: []Key{
		list("alarmEmails", "Who receives alarms and budget alerts (each must confirm the subscription email).", func(s *Settings) *[]string { return &s.Monitoring.AlarmEmails }),
		secret("chatWebhookUrl", "HTTPS webhook that also receives alarms (secret). Empty: none.", func(s *Settings) *string { return &s.Monitoring.ChatWebhookURL }),
		integer("cpuAlarmPercent", "Backend CPU alarm threshold. 0: 80.", func(s *Settings) *int { return &s.Monitoring.CPUAlarmPercent }),
		integer("http5xxAlarmCount", "5xx responses in 5 minutes (load balancer or targets) that raise an alarm. 0: 10.", func(s *Settings) *int { return &s.Monitoring.HTTP5xxAlarmCount }),
		integer("diskUsedAlarmPercent", "Instance disk usage alarm threshold. 0: 85.", func(s *Settings) *int { return &s.Monitoring.DiskUsedAlarmPercent }),
		integer("dbConnectionsAlarmPercent", "Database connections alarm, in percent of max_connections. 0: 80.", func(s *Settings) *int { return &s.Monitoring.DBConnectionsAlarmPercent }),
		integer("latencyP95AlarmMs", "p95 target response time alarm, in milliseconds. 0: 1500.", func(s *Settings) *int { return &s.Monitoring.LatencyP95AlarmMs }),
		integer("monthlyBudgetUsd", "Monthly AWS budget in USD. 0: 90 dev, 300 staging and prod.", func(s *Settings) *int { return &s.Monitoring.MonthlyBudgetUsd }),
		boolean("costAnomalyDetection", "Add a Cost Anomaly Detection monitor that emails the alarm addresses.", func(s *Settings) *bool { return &s.Monitoring.CostAnomalyDetection }),
		str("backupCopyRegion", "Region AWS Backup copies recovery points to. Empty: off.", func(s *Settings) *string { return &s.Monitoring.BackupCopyRegion }),
		integer("ebsSnapshotRetentionDays", "Days weekly EBS snapshots are kept, 7 to 365 (prod's vault lock). 0: 28.", func(s *Settings) *int { return &s.Monitoring.EbsSnapshotRetentionDay }),
		tristate("restoreTesting", "true: AWS Backup restores and validates the database and a backend volume every month. Empty: false in dev, true elsewhere. false deletes the test, its function and that function's log group (replaced if turned on again).", func(s *Settings) *bool { return &s.Monitoring.RestoreTesting }),
		str("restoreFreshnessColumn", "schema.table.column of a timestamp the application writes continuously; the monthly restore test checks its newest value against the recovery point. Empty: tables are only checked to answer.", func(s *Settings) *string { return &s.Monitoring.RestoreFreshnessColumn }),
	},
	defaults: func(s *Settings) {
		m := &s.Monitoring
		m.CPUAlarmPercent, m.HTTP5xxAlarmCount, m.DiskUsedAlarmPercent = 80, 10, 85
		m.DBConnectionsAlarmPercent, m.LatencyP95AlarmMs = 80, 1500
		// Staging mirrors prod's redundancy, so it costs about what prod does (make plan STACK=staging).
		m.MonthlyBudgetUsd = map[Environment]int{Dev: 90, Staging: 300, Prod: 300}[s.Environment]
		m.EbsSnapshotRetentionDay = 28
		m.RestoreTesting = s.Environment != Dev
	},
	validate: func(s *Settings, p *problems) {
		m := &s.Monitoring
		seen := map[string]bool{}
		for _, e := range m.AlarmEmails {
			if !validEmail(e) {
				p.add("alarmEmails", e, "email addresses such as ops@canalco.co")
			}
			if seen[strings.ToLower(e)] {
				p.add("alarmEmails", e, "each address once (SNS would subscribe it twice)")
			}
			seen[strings.ToLower(e)] = true
		}
		if s.Environment != Dev && len(m.AlarmEmails) == 0 {
			p.add("alarmEmails", m.AlarmEmails, "at least one address outside dev: an alarm nobody receives protects nothing")
		}
		if len(m.AlarmEmails) > maxAlarmEmails {
			p.add("alarmEmails", m.AlarmEmails, fmt.Sprintf("at most %d addresses (AWS Budgets and Cost Anomaly Detection limit); use a mailing list", maxAlarmEmails))
		}
		if m.CostAnomalyDetection && len(m.AlarmEmails) == 0 {
			p.add("costAnomalyDetection", m.CostAnomalyDetection, "false, or alarmEmails set: anomaly summaries are emailed to those addresses")
		}
		if m.ChatWebhookURL != "" {
			if u, err := url.Parse(m.ChatWebhookURL); err != nil || u.Scheme != "https" || u.Host == "" {
				p.add("chatWebhookUrl", "(secret)", "an https:// URL")
			}
		}
		for _, pc := range []struct {
			key string
			v   int
		}{{"cpuAlarmPercent", m.CPUAlarmPercent}, {"diskUsedAlarmPercent", m.DiskUsedAlarmPercent}, {"dbConnectionsAlarmPercent", m.DBConnectionsAlarmPercent}} {
			if pc.v < 1 || pc.v > 99 {
				p.add(pc.key, pc.v, "a percentage from 1 to 99")
			}
		}
		if m.CPUAlarmPercent <= s.Compute.CPUTargetPercent {
			p.add("cpuAlarmPercent", m.CPUAlarmPercent, "more than cpuTargetPercent, or the alarm fires whenever scaling works as intended")
		}
		if m.HTTP5xxAlarmCount < 1 {
			p.add("http5xxAlarmCount", m.HTTP5xxAlarmCount, "at least 1")
		}
		if m.LatencyP95AlarmMs < 50 || m.LatencyP95AlarmMs > 60000 {
			p.add("latencyP95AlarmMs", m.LatencyP95AlarmMs, "50 to 60000 milliseconds")
		}
		if m.MonthlyBudgetUsd < 1 {
			p.add("monthlyBudgetUsd", m.MonthlyBudgetUsd, "a positive amount in USD")
		}
		if m.BackupCopyRegion != "" && (m.BackupCopyRegion == s.Region || !regionPattern.MatchString(m.BackupCopyRegion)) {
			p.add("backupCopyRegion", m.BackupCopyRegion, "an AWS region other than "+s.Region+", or empty")
		}
		if m.EbsSnapshotRetentionDay < VaultLockMinRetentionDays || m.EbsSnapshotRetentionDay > VaultLockMaxRetentionDays {
			p.add("ebsSnapshotRetentionDays", m.EbsSnapshotRetentionDay, fmt.Sprintf("%d to %d days: at least one weekly snapshot, and within prod's vault lock", VaultLockMinRetentionDays, VaultLockMaxRetentionDays))
		}
		if m.RestoreFreshnessColumn != "" && !freshnessColumn.MatchString(m.RestoreFreshnessColumn) {
			p.add("restoreFreshnessColumn", m.RestoreFreshnessColumn, "schema.table.column in lower case, such as public.audit_events.created_at, or empty")
		}
	},
}
