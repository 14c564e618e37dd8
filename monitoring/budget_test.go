package monitoring_test

import (
	"fmt"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A monthly budget per environment (the cost goals: dev under $90, prod about the seed's $300),
// counting only the environment's resources, with a warning at 80% spent and at 100% forecast.
func TestMonthlyBudgetPerEnvironment(t *testing.T) {
	for name, amount := range map[string]string{"dev": "90", "staging": "300", "prod": "300"} {
		st := load(t, name)
		budgets := st.res.OfType("aws:budgets/budget:Budget")
		require.Len(t, budgets, 1, name)
		b := budgets[0]
		assert.Equal(t, "canalco-"+name+"-monthly", b.Str("name"))
		assert.Equal(t, amount, b.Str("limitAmount"), name)
		assert.Equal(t, "USD", b.Str("limitUnit"))
		assert.Equal(t, "COST", b.Str("budgetType"))
		assert.Equal(t, "MONTHLY", b.Str("timeUnit"))
		assert.Equal(t, []any{map[string]any{"name": "TagKeyValue", "values": []any{"user:Environment$" + name}}}, b.List("costFilters"))
		notifications := b.List("notifications")
		require.Len(t, notifications, 2)
		topic := st.topic(t).Outputs["arn"]
		for i, want := range []struct {
			kind      string
			threshold float64
		}{{"ACTUAL", 80}, {"FORECASTED", 100}} {
			n := notifications[i].(map[string]any)
			assert.Equal(t, want.kind, n["notificationType"])
			assert.Equal(t, want.threshold, n["threshold"])
			assert.Equal(t, "PERCENTAGE", n["thresholdType"])
			assert.Equal(t, "GREATER_THAN", n["comparisonOperator"])
			assert.Equal(t, []any{topic}, n["subscriberSnsTopicArns"])
			emails := b.Strings(fmt.Sprintf("notifications.%d.subscriberEmailAddresses", i))
			assert.ElementsMatch(t, st.s.Monitoring.AlarmEmails, emails, name)
			assert.LessOrEqual(t, len(emails), 10, "AWS Budgets takes 10 addresses per notification")
		}
	}
}

// Cost anomaly detection is an option: off in every stack, a daily email when on.
func TestCostAnomalyDetectionIsOptional(t *testing.T) {
	for _, name := range offline.Stacks {
		st := load(t, name)
		assert.Empty(t, st.res.OfType("aws:costexplorer/anomalyMonitor:AnomalyMonitor"), name)
		assert.Empty(t, st.res.OfType("aws:costexplorer/anomalySubscription:AnomalySubscription"), name)
	}
	st := override(t, "prod", map[string]string{"canalco:costAnomalyDetection": "true"})
	monitors := st.res.OfType("aws:costexplorer/anomalyMonitor:AnomalyMonitor")
	require.Len(t, monitors, 1)
	assert.Equal(t, "DIMENSIONAL", monitors[0].Str("monitorType"))
	assert.Equal(t, "SERVICE", monitors[0].Str("monitorDimension"))
	subs := st.res.OfType("aws:costexplorer/anomalySubscription:AnomalySubscription")
	require.Len(t, subs, 1)
	s := subs[0]
	assert.Equal(t, "DAILY", s.Str("frequency"))
	assert.Equal(t, []any{monitors[0].Outputs["arn"]}, s.List("monitorArnLists"))
	assert.Equal(t, []any{map[string]any{"type": "EMAIL", "address": "plataforma@canalco.co"}}, s.List("subscribers"))
	assert.Equal(t, "ANOMALY_TOTAL_IMPACT_ABSOLUTE", s.Str("thresholdExpression.dimension.key"))
	assert.Equal(t, []string{"GREATER_THAN_OR_EQUAL"}, s.Strings("thresholdExpression.dimension.matchOptions"))
	assert.Equal(t, []string{"30"}, s.Strings("thresholdExpression.dimension.values"), "10% of the $300 budget")
}
