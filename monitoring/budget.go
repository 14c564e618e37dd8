package monitoring

import (
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/budgets"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/costexplorer"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Budget alerts: at 80% of the month's budget spent, a warning with the month still open;
// when the forecast passes the budget, time to act before the money is spent.
const (
	actualAlertPercent   = 80
	forecastAlertPercent = 100
	// anomalyImpactShare: an anomaly is worth an email once it costs a tenth of the budget.
	anomalyImpactShare = 0.10
)

// budget creates the monthly budget of the environment and, as an option, cost anomaly detection.
func (b *builder) budget() error {
	e, s := b.a.Env, b.a.Settings
	notify := func(kind string, percent float64) budgets.BudgetNotificationArgs {
		n := budgets.BudgetNotificationArgs{
			ComparisonOperator:     pulumi.String("GREATER_THAN"),
			NotificationType:       pulumi.String(kind),
			Threshold:              pulumi.Float64(percent),
			ThresholdType:          pulumi.String("PERCENTAGE"),
			SubscriberSnsTopicArns: pulumi.StringArray{b.main.arn},
		}
		// Straight to the addresses too: Budgets' own email needs no SNS confirmation.
		if len(s.AlarmEmails) > 0 {
			n.SubscriberEmailAddresses = pulumi.ToStringArray(s.AlarmEmails)
		}
		return n
	}
	name := e.Name("monthly")
	if _, err := budgets.NewBudget(b.ctx, name, &budgets.BudgetArgs{
		Name:        pulumi.String(name),
		BudgetType:  pulumi.String("COST"),
		TimeUnit:    pulumi.String("MONTHLY"),
		LimitAmount: pulumi.String(strconv.Itoa(s.MonthlyBudgetUsd)),
		LimitUnit:   pulumi.String("USD"),
		// Only this environment's costs, by the Environment tag every resource carries. The tag
		// counts once it is activated as a cost allocation tag (docs/monitoring.md, one-time steps).
		CostFilters: budgets.BudgetCostFilterArray{budgets.BudgetCostFilterArgs{
			Name:   pulumi.String("TagKeyValue"),
			Values: pulumi.StringArray{pulumi.String("user:Environment$" + string(e.Environment))},
		}},
		Notifications: budgets.BudgetNotificationArray{
			notify("ACTUAL", actualAlertPercent),
			notify("FORECASTED", forecastAlertPercent),
		},
	}, b.main.opts...); err != nil {
		return err
	}
	if !s.CostAnomalyDetection {
		return nil
	}
	// One monitor of every AWS service of the account (AWS allows one such monitor per account).
	monitor, err := costexplorer.NewAnomalyMonitor(b.ctx, e.Name("cost-anomalies"), &costexplorer.AnomalyMonitorArgs{
		Name:             pulumi.String(e.Name("cost-anomalies")),
		MonitorType:      pulumi.String("DIMENSIONAL"),
		MonitorDimension: pulumi.String("SERVICE"),
	}, b.main.opts...)
	if err != nil {
		return err
	}
	var subscribers costexplorer.AnomalySubscriptionSubscriberArray
	for _, email := range s.AlarmEmails {
		subscribers = append(subscribers, costexplorer.AnomalySubscriptionSubscriberArgs{Type: pulumi.String("EMAIL"), Address: pulumi.String(email)})
	}
	// A daily summary by email: Cost Explorer finds anomalies about once a day anyway.
	_, err = costexplorer.NewAnomalySubscription(b.ctx, e.Name("cost-anomalies"), &costexplorer.AnomalySubscriptionArgs{
		Name:            pulumi.String(e.Name("cost-anomalies")),
		Frequency:       pulumi.String("DAILY"),
		MonitorArnLists: pulumi.StringArray{monitor.Arn},
		Subscribers:     subscribers,
		ThresholdExpression: &costexplorer.AnomalySubscriptionThresholdExpressionArgs{
			Dimension: &costexplorer.AnomalySubscriptionThresholdExpressionDimensionArgs{
				Key:          pulumi.String("ANOMALY_TOTAL_IMPACT_ABSOLUTE"),
				MatchOptions: pulumi.StringArray{pulumi.String("GREATER_THAN_OR_EQUAL")},
				Values:       pulumi.StringArray{pulumi.String(strconv.FormatFloat(float64(s.MonthlyBudgetUsd)*anomalyImpactShare, 'f', -1, 64))},
			},
		},
	}, b.main.opts...)
	return err
}
