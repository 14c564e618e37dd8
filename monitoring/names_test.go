package monitoring_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/canalco/infra/monitoring"
	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nameRules are AWS's limits on the names this layer sets, by resource type and input.
var nameRules = map[string]struct {
	key  string
	rule *regexp.Regexp
}{
	"aws:cloudwatch/metricAlarm:MetricAlarm":                   {"name", regexp.MustCompile(`^[\x20-\x7e]{1,255}$`)},
	"aws:cloudwatch/dashboard:Dashboard":                       {"dashboardName", regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)},
	"aws:sns/topic:Topic":                                      {"name", regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)},
	"aws:budgets/budget:Budget":                                {"name", regexp.MustCompile(`^[^:\\]{1,100}$`)},
	"aws:backup/vault:Vault":                                   {"name", regexp.MustCompile(`^[A-Za-z0-9_-]{2,50}$`)},
	"aws:backup/plan:Plan":                                     {"name", regexp.MustCompile(`^[A-Za-z0-9_.-]{1,50}$`)},
	"aws:backup/selection:Selection":                           {"name", regexp.MustCompile(`^[A-Za-z0-9_.-]{1,50}$`)},
	"aws:iam/role:Role":                                        {"name", regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)},
	"aws:rds/eventSubscription:EventSubscription":              {"name", regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,254}$`)},
	"aws:cloudwatch/eventRule:EventRule":                       {"name", regexp.MustCompile(`^[.\-_A-Za-z0-9]{1,64}$`)},
	"aws:kms/alias:Alias":                                      {"name", regexp.MustCompile(`^alias/[A-Za-z0-9/_-]{1,250}$`)},
	"aws:costexplorer/anomalyMonitor:AnomalyMonitor":           {"name", regexp.MustCompile(`^[\S\s]{1,1000}$`)},
	"aws:costexplorer/anomalySubscription:AnomalySubscription": {"name", regexp.MustCompile(`^[\S\s]{1,1000}$`)},
}

// Every name this layer sets fits AWS's limits, in every stack and with every option on.
func TestMonitoringNamesFitAWSLimits(t *testing.T) {
	results := []*offline.Result{}
	for _, name := range offline.Stacks {
		results = append(results, offline.Stack(t, name))
	}
	results = append(results, override(t, "prod", map[string]string{
		"canalco:costAnomalyDetection": "true", "canalco:backupCopyRegion": "ap-southeast-2",
	}).res)
	for _, res := range results {
		checked := 0
		for _, r := range res.Resources {
			if !r.Custom || res.Ancestor(r, "canalco:monitoring:Monitoring") == nil {
				continue
			}
			rule, ok := nameRules[r.Type]
			if !ok {
				continue
			}
			checked++
			assert.Regexp(t, rule.rule, r.Str(rule.key), "%s %s", r.Type, r.Name)
		}
		assert.Greater(t, checked, 30)
	}
}

// The runbook in docs/monitoring.md covers every alarm, and the docs name every business metric.
func TestRunbookCoversEveryAlarm(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(offline.Root(t), "docs", "monitoring.md"))
	require.NoError(t, err)
	text := string(doc)
	st := load(t, "prod")
	var pairs []string
	for _, fn := range st.functions {
		pairs = append(pairs, "-lambda-"+st.short(fn)+"-", "-lambda-<function>-")
	}
	for _, q := range st.deadLetterQueues {
		pairs = append(pairs, "-sqs-"+st.short(q)+"-", "-sqs-<dlq>-")
	}
	for _, q := range st.queues {
		pairs = append(pairs, "-sqs-"+st.short(q)+"-", "-sqs-<queue>-")
	}
	generic := strings.NewReplacer(pairs...)
	for name := range st.alarms() {
		row := strings.TrimPrefix(generic.Replace(name), "canalco-prod-")
		assert.Contains(t, text, "`"+row+"`", "docs/monitoring.md has no runbook row for %s", name)
	}
	for _, replica := range []string{"db-replica-lag", "db-replica-cpu", "db-replica-storage"} {
		assert.Contains(t, text, "`"+replica+"`")
	}
	for _, m := range monitoring.BusinessMetrics {
		assert.Contains(t, text, "`"+m+"`")
	}
}
