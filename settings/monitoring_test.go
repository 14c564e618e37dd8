package settings

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each case is one mistake in the monitoring section; each names the key, the value and the fix.
func TestBadMonitoringSettingsAreReported(t *testing.T) {
	eleven := make([]string, 11)
	for i := range eleven {
		eleven[i] = fmt.Sprintf(`"ops%d@canalco.co"`, i)
	}
	cases := []struct {
		name, stack string
		set         map[string]string
		want        []string
	}{
		{"bad email", "dev", map[string]string{"canalco:alarmEmails": `["ops"]`}, []string{`canalco:alarmEmails = "ops"`, "email addresses"}},
		{"nobody in prod", "prod", map[string]string{"canalco:alarmEmails": `[]`}, []string{"canalco:alarmEmails", "at least one address outside dev"}},
		{"same address twice", "prod", map[string]string{"canalco:alarmEmails": `["ops@canalco.co","OPS@canalco.co"]`}, []string{`canalco:alarmEmails = "OPS@canalco.co"`, "each address once"}},
		{"more than budgets accept", "prod", map[string]string{"canalco:alarmEmails": "[" + strings.Join(eleven, ",") + "]"}, []string{"canalco:alarmEmails", "at most 10 addresses"}},
		{"anomalies to nobody", "dev", map[string]string{"canalco:alarmEmails": `[]`, "canalco:costAnomalyDetection": "true"}, []string{"canalco:costAnomalyDetection = true", "alarmEmails set"}},
		{"plain http webhook", "dev", map[string]string{"canalco:chatWebhookUrl": "http://hooks.example.com/x"}, []string{"canalco:chatWebhookUrl", "https://"}},
		{"cpu alarm below the scaling target", "prod", map[string]string{"canalco:cpuAlarmPercent": "50"}, []string{"canalco:cpuAlarmPercent = 50", "more than cpuTargetPercent"}},
		{"cpu alarm over 100", "prod", map[string]string{"canalco:cpuAlarmPercent": "120"}, []string{"canalco:cpuAlarmPercent = 120", "1 to 99"}},
		{"disk alarm over 100", "dev", map[string]string{"canalco:diskUsedAlarmPercent": "100"}, []string{"canalco:diskUsedAlarmPercent = 100", "1 to 99"}},
		{"connections alarm negative", "dev", map[string]string{"canalco:dbConnectionsAlarmPercent": "-5"}, []string{"canalco:dbConnectionsAlarmPercent = -5", "1 to 99"}},
		{"5xx alarm never fires", "dev", map[string]string{"canalco:http5xxAlarmCount": "-1"}, []string{"canalco:http5xxAlarmCount = -1", "at least 1"}},
		{"latency below the network", "dev", map[string]string{"canalco:latencyP95AlarmMs": "10"}, []string{"canalco:latencyP95AlarmMs = 10", "50 to 60000"}},
		{"negative budget", "prod", map[string]string{"canalco:monthlyBudgetUsd": "-300"}, []string{"canalco:monthlyBudgetUsd = -300", "positive amount"}},
		{"copy to the same region", "prod", map[string]string{"canalco:backupCopyRegion": "us-east-1"}, []string{`canalco:backupCopyRegion = "us-east-1"`, "other than us-east-1"}},
		{"copy to no region", "prod", map[string]string{"canalco:backupCopyRegion": "mars"}, []string{`canalco:backupCopyRegion = "mars"`}},
		// The restore check quotes each part as an identifier: a plain schema.table.column only.
		{"freshness column without schema", "prod", map[string]string{"canalco:restoreFreshnessColumn": "heartbeat.at"}, []string{"canalco:restoreFreshnessColumn", "schema.table.column"}},
		{"freshness column with SQL", "prod", map[string]string{"canalco:restoreFreshnessColumn": "public.t.at; drop table t"}, []string{"canalco:restoreFreshnessColumn"}},
		{"freshness column in capitals", "prod", map[string]string{"canalco:restoreFreshnessColumn": "public.Orders.createdAt"}, []string{"lower case"}},
		{"snapshots kept less than a week", "prod", map[string]string{"canalco:ebsSnapshotRetentionDays": "3"}, []string{"canalco:ebsSnapshotRetentionDays = 3", "at least one weekly snapshot"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := base(c.stack, withBase(c.set))
			in.IsSecret = func(string) bool { return true } // as `pulumi config set --secret` stores the webhook
			s, err := Parse(in)
			require.Error(t, err)
			assert.Nil(t, s)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestGoodMonitoringSettingsAreAccepted(t *testing.T) {
	for _, set := range []map[string]string{
		{"canalco:alarmEmails": `["ops@canalco.co","dba@canalco.co"]`, "canalco:costAnomalyDetection": "true"},
		{"canalco:backupCopyRegion": "us-west-2", "canalco:ebsSnapshotRetentionDays": "90"},
		{"canalco:cpuAlarmPercent": "90", "canalco:latencyP95AlarmMs": "800", "canalco:monthlyBudgetUsd": "1000"},
		{"canalco:chatWebhookUrl": "https://hooks.example.com/services/T0/B0/x"},
		{"canalco:restoreFreshnessColumn": "public.audit_events.created_at", "canalco:restoreTesting": "false"},
	} {
		in := base("prod", withBase(set))
		in.IsSecret = func(string) bool { return true }
		s, err := Parse(in)
		require.NoError(t, err, "%v", set)
		assert.NotEmpty(t, s.Monitoring.AlarmEmails)
	}
}

// The seed's thresholds and the budgets of the cost goals (dev under $90, prod about $300).
func TestMonitoringProfiles(t *testing.T) {
	for env, budget := range map[Environment]int{Dev: 90, Staging: 300, Prod: 300} {
		m := Profile(env, "us-east-1").Monitoring
		assert.Equal(t, budget, m.MonthlyBudgetUsd, env)
		assert.Equal(t, 80, m.CPUAlarmPercent, env)
		assert.Equal(t, 80, m.DBConnectionsAlarmPercent, env)
		assert.Equal(t, 28, m.EbsSnapshotRetentionDay, env)
		assert.False(t, m.CostAnomalyDetection, env)
		assert.Equal(t, env != Dev, m.RestoreTesting, "%s: monthly restore tests outside dev", env)
		assert.Empty(t, m.RestoreFreshnessColumn, env)
	}
}

// RDS PostgreSQL's default max_connections is LEAST(DBInstanceClassMemory/9531392, 5000).
func TestMaxConnectionsFollowTheClassMemory(t *testing.T) {
	for class, want := range map[string]int{
		"db.t4g.micro":  112, // 1 GiB
		"db.t4g.medium": 450, // 4 GiB
		"db.r7g.xlarge": 3604,
	} {
		assert.Equal(t, want, InstanceClasses[class].MaxConnections(), class)
	}
}
