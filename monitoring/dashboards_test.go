package monitoring_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/canalco/infra/monitoring"
	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type widget struct {
	Type                string
	X, Y, Width, Height int
	Properties          struct {
		Title   string
		Region  string
		Metrics [][]any
		Alarms  []string
	}
}

func dashboards(t *testing.T, st *stack) map[string][]widget {
	t.Helper()
	out := map[string][]widget{}
	for _, d := range st.res.OfType("aws:cloudwatch/dashboard:Dashboard") {
		var body struct{ Widgets []widget }
		raw := d.Str("dashboardBody")
		require.NoError(t, json.Unmarshal([]byte(raw), &body), d.Name)
		assert.Less(t, len(raw), 1<<20, "CloudWatch takes bodies up to 1 MB")
		out[d.Str("dashboardName")] = body.Widgets
	}
	return out
}

var dashboardName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

// The seed's four dashboards, laid out on CloudWatch's 24-unit grid without overlaps.
func TestFourDashboardsOnTheGrid(t *testing.T) {
	for _, name := range offline.Stacks {
		st := load(t, name)
		boards := dashboards(t, st)
		var names []string
		for n, widgets := range boards {
			names = append(names, n)
			assert.Regexp(t, dashboardName, n)
			assert.LessOrEqual(t, len(widgets), 500, n)
			taken := map[[2]int]bool{}
			for _, w := range widgets {
				assert.Contains(t, []string{"metric", "alarm", "text"}, w.Type)
				assert.True(t, w.X >= 0 && w.Width >= 1 && w.X+w.Width <= 24, "%s: %q x=%d width=%d", n, w.Properties.Title, w.X, w.Width)
				for x := w.X; x < w.X+w.Width; x++ {
					for y := w.Y; y < w.Y+w.Height; y++ {
						assert.False(t, taken[[2]int{x, y}], "%s: %q overlaps", n, w.Properties.Title)
						taken[[2]int{x, y}] = true
					}
				}
			}
		}
		assert.ElementsMatch(t, []string{"canalco-" + name + "-overview", "canalco-" + name + "-business", "canalco-" + name + "-services", "canalco-" + name + "-costs"}, names)
	}
}

// Every dimension a dashboard graphs names a resource of the stack, and every metric widget
// says where its metrics live (us-east-1 for CloudFront and billing).
func TestDashboardsGraphWhatExists(t *testing.T) {
	for _, name := range offline.Stacks {
		checkDashboardsGraphWhatExists(t, load(t, name))
	}
}

func checkDashboardsGraphWhatExists(t *testing.T, st *stack) {
	t.Helper()
	name := st.name
	exists := map[string][]string{
		"FunctionName":         st.functions,
		"QueueName":            append(append([]string{}, st.queues...), st.deadLetterQueues...),
		"AutoScalingGroupName": {st.asg},
		"DBInstanceIdentifier": append([]string{st.database}, replicaOf(st)...),
		"LoadBalancer":         {st.lbSuffix},
		"TargetGroup":          {st.tgSuffix},
		"DistributionId":       {st.distribution},
		"Region":               {"Global"},
		"Environment":          {name},
		"Currency":             {"USD"},
		"path":                 {"/"},
		"fstype":               {"xfs"},
	}
	graphed := map[string]map[string]bool{}
	for board, widgets := range dashboards(t, st) {
		for _, w := range widgets {
			if w.Type != "metric" {
				continue
			}
			assert.NotEmpty(t, w.Properties.Metrics, "%s: %q", board, w.Properties.Title)
			for _, line := range w.Properties.Metrics {
				if _, isExpression := line[0].(map[string]any); isExpression {
					continue
				}
				ns := line[0].(string)
				want := map[string]string{"AWS/CloudFront": "us-east-1", "AWS/Billing": "us-east-1"}[ns]
				if want == "" {
					want = st.s.Region
				}
				assert.Equal(t, want, w.Properties.Region, "%s: %q graphs %s", board, w.Properties.Title, ns)
				for i := 2; i+1 < len(line); i += 2 {
					dim, ok := line[i].(string)
					if !ok {
						break // the options object
					}
					v := line[i+1].(string)
					assert.Contains(t, exists[dim], v, "%s: %q graphs %s=%s", board, w.Properties.Title, dim, v)
					if graphed[dim] == nil {
						graphed[dim] = map[string]bool{}
					}
					graphed[dim][v] = true
				}
			}
		}
	}
	// And everything watched is graphed somewhere.
	for dim, values := range exists {
		for _, v := range values {
			assert.True(t, graphed[dim][v], "%s: nothing graphs %s=%s", name, dim, v)
		}
	}
}

// The services dashboard has a widget per function and per queue, and lists every alarm.
func TestServicesDashboardFollowsTheStack(t *testing.T) {
	for _, name := range offline.Stacks {
		st := load(t, name)
		widgets := dashboards(t, st)["canalco-"+name+"-services"]
		var titles, listed []string
		for _, w := range widgets {
			titles = append(titles, w.Properties.Title)
			listed = append(listed, w.Properties.Alarms...)
		}
		for _, fn := range st.functions {
			assert.Contains(t, titles, "Function "+fn)
		}
		for _, q := range st.queues {
			assert.Contains(t, titles, "Queue "+q)
		}
		for _, q := range st.deadLetterQueues {
			assert.Contains(t, titles, "Dead-letter queue "+q)
		}
		var arns []string
		for _, a := range st.alarms() {
			arns = append(arns, a.Outputs["arn"].(string))
		}
		assert.ElementsMatch(t, arns, listed, "%s: the alarm widgets list every alarm once", name)
	}
}

// The business dashboard graphs every business metric of the environment, once per widget.
func TestBusinessDashboardGraphsEveryMetric(t *testing.T) {
	for _, name := range offline.Stacks {
		widgets := dashboards(t, load(t, name))["canalco-"+name+"-business"]
		seen := map[string]int{}
		for _, w := range widgets {
			for _, line := range w.Properties.Metrics {
				assert.Equal(t, monitoring.BusinessNamespace, line[0])
				assert.Equal(t, []any{"Environment", name}, line[2:4])
				seen[line[1].(string)]++
			}
		}
		for _, m := range monitoring.BusinessMetrics {
			assert.Equal(t, 2, seen[m], "%s: %s in the totals and in its own graph", name, m)
		}
		assert.Len(t, seen, len(monitoring.BusinessMetrics))
	}
	assert.Equal(t, "Canalco/Business", monitoring.BusinessNamespace, "the functions' METRIC_NAMESPACE default")
}

// The costs dashboard reads billing in us-east-1, in USD, against the budget.
func TestCostsDashboardReadsBilling(t *testing.T) {
	for _, name := range offline.Stacks {
		st := load(t, name)
		widgets := dashboards(t, st)["canalco-"+name+"-costs"]
		var billing, lambdas bool
		for _, w := range widgets {
			for _, line := range w.Properties.Metrics {
				billing = billing || slices.Equal(line, []any{"AWS/Billing", "EstimatedCharges", "Currency", "USD"})
				lambdas = lambdas || (len(line) > 1 && line[1] == "Invocations")
			}
			if strings.Contains(w.Properties.Title, "charges") {
				assert.Equal(t, "us-east-1", w.Properties.Region)
			}
		}
		assert.True(t, billing && lambdas, name)
	}
}
