package policy

import (
	"fmt"

	"github.com/canalco/infra/offline"
)

const (
	typeAlarm          = "aws:cloudwatch/metricAlarm:MetricAlarm"
	typeCompositeAlarm = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
	typeBudget         = "aws:budgets/budget:Budget"
	// retentionFloor is CloudWatch.16's default minimum, in days.
	retentionFloor = 365
)

var observabilityRules = []Rule{
	{
		ID: "CloudWatch.16", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeLogGroup}, AppliesTo: prodOnly,
		Title: "CloudWatch log groups should be retained for a specified time period",
		Fix:   fmt.Sprintf("keep production logs at least %d days (canalco:logRetentionDays)", retentionFloor),
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			d := r.Num("retentionInDays")
			return check(d == 0 || d >= retentionFloor, fmt.Sprintf("kept %v days, under %d", d, retentionFloor))
		},
	},
	{
		ID: "Canalco.12", Framework: Canalco, Severity: Low, ResourceTypes: []string{typeLogGroup},
		Title: "Log groups expire (never-expiring logs cost more every month)",
		Fix:   "create log groups with logs.NewGroup, which applies canalco:logRetentionDays",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(r.Num("retentionInDays") > 0, "logs are kept forever")
		},
	},
	{
		ID: "Canalco.13", Framework: Canalco, Severity: Medium, ResourceTypes: []string{typeLogGroup},
		Title: "Log groups are encrypted with the stack's logs key",
		Fix:   "create log groups with logs.NewGroup, which sets kmsKeyId",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(r.Str("kmsKeyId") != "", "not encrypted with a customer-managed key")
		},
	},
	{
		ID: "CloudWatch.15", Framework: FSBP, Severity: High, ResourceTypes: []string{typeAlarm, typeCompositeAlarm},
		Title: "CloudWatch alarms should have specified actions configured",
		Fix:   "set alarmActions to the stack's alarm topic",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(len(r.List("alarmActions")) > 0, "the alarm notifies no one")
		},
	},
	{
		ID: "CloudWatch.17", Framework: FSBP, Severity: High, ResourceTypes: []string{typeAlarm, typeCompositeAlarm},
		Title: "CloudWatch alarm actions should be activated",
		Fix:   "leave actionsEnabled unset or true",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(r.Get("actionsEnabled") == nil || r.Bool("actionsEnabled"), "actions are disabled")
		},
	},
	{
		ID: "Canalco.14", Framework: Canalco, Severity: Medium, ResourceTypes: []string{typeBudget},
		Title: "Budgets notify someone",
		Fix:   "add notifications with subscriberEmailAddresses or subscriberSnsTopicArns",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			for i := range r.List("notifications") {
				n := &offline.Resource{Inputs: asMap(r.List("notifications")[i])}
				if len(n.List("subscriberEmailAddresses"))+len(n.List("subscriberSnsTopicArns")) > 0 {
					return pass()
				}
			}
			return fail("no notification has a subscriber")
		},
	},
}
