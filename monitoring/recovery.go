package monitoring

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/canalco/infra/settings"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/backup"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// RecoveryNamespace holds the recovery metrics, each with the dimension Environment=<environment>:
// the recovery-metrics function publishes RpoSeconds every 5 minutes and, where restore testing
// runs, RestoreTestAgeHours; the restore-check function publishes RestoreMinutes and
// RestoreValidated once per restore test. RDS publishes no metric of the latest restorable
// time (AWS/RDS has none): it is read from DescribeDBInstances.
const RecoveryNamespace = "Canalco/Recovery"

// The recovery metrics (serverless/functions/README.md documents who publishes each).
const (
	RpoMetric           = "RpoSeconds"
	RestoreAgeMetric    = "RestoreTestAgeHours"
	RestoreMinutes      = "RestoreMinutes"
	RestoreValidated    = "RestoreValidated"
	recoveryMetricsMins = 5
)

// The seed's recovery objectives and the alarms that hold the platform to them.
const (
	// RPO: RDS uploads transaction logs every 5 minutes, so the latest restorable time lags
	// now by a saw-tooth that peaks near 300 s in normal operation (and a reading taken just
	// before an upload lands sees the peak). The alarm is above that peak, for 3 readings out
	// of 3 (15 minutes): only uploads that stopped raise it (docs/disaster-recovery.md).
	RpoAlarmSeconds = 10 * 60
	rpoAlarmPeriods = 3
	// RTO is 1 hour; the restore alone must leave 15 minutes to repoint the backend.
	RestoreAlarmMinutes = 45
	// The test runs monthly: 32 days without a validated one means a month was skipped.
	RestoreMissingAfterHours = 32 * 24
)

// RestoreSchedule runs the test on the first Tuesday of each month at 14:00 UTC (09:00 in
// Colombia): the Sunday backup is two days old, and people are at work when an alarm fires.
// Restore testing plan schedules are cron expressions in ScheduleExpressionTimezone.
const RestoreSchedule = "cron(0 14 ? * 3#1 *)"

// Restore testing windows, in hours (AWS Backup's ranges: start 1 to 168, validation 1 to 168).
const (
	// restoreStartHours: a test that cannot start within 8 hours waits for next month (and the
	// missing-test alarm).
	restoreStartHours = 8
	// ValidationHours is how long the restored copy lives for the validation function (which
	// needs minutes): AWS Backup deletes it when the window ends. The cost model counts it.
	ValidationHours = 2
	// selectionWindowDays: the weekly backup always leaves a recovery point within 8 days.
	selectionWindowDays = 8
)

// RestoreInstanceClass is the restored copy's class: the test checks the data, not the
// production size, and a t4g.micro restores the same snapshot for a fraction of the price.
const RestoreInstanceClass = "db.t4g.micro"

// RestoreTestingPlanName is the plan's name: letters, digits and underscores, at most 50
// characters (CreateRestoreTestingPlan, RestoreTestingPlanName).
func RestoreTestingPlanName(prefix string) string {
	return strings.ReplaceAll(prefix, "-", "_") + "_restore_test"
}

// recoveryAlarms are the alarms of the recovery objectives, beside the others of specs().
func (b *builder) recoveryAlarms() []alarm {
	a := b.a
	dims := pulumi.StringMap{"Environment": pulumi.String(string(a.Env.Environment))}
	var list []alarm
	// A database that sleeps (dev at night) wakes with a lag of hours until its first log
	// upload: such a stack has the metric on its dashboard but no alarm. Elsewhere the
	// function publishes whenever RDS reports a latest restorable time, whatever the
	// instance's status (storage-full, failed, inaccessible-encryption-credentials: exactly
	// when the RPO is at risk), and nothing only for a stopped instance; so silence (the
	// publisher gone, RDS not answering, someone stopped the database) is a breach.
	if a.Env.Environment != settings.Dev && !a.Office.Sleep {
		list = append(list, alarm{what: "db-rpo", meaning: fmt.Sprintf("The database's latest restorable time has lagged more than %d minutes behind now for %d readings in a row, or nothing was published: transaction logs no longer reach the backups and the recovery point objective is broken. Check the instance's status and events (stopped, storage-full, failed, inaccessible-encryption-credentials) and the recovery function's log.", RpoAlarmSeconds/60, rpoAlarmPeriods),
			namespace: RecoveryNamespace, metric: RpoMetric, dims: dims, stat: "Maximum", period: recoveryMetricsMins * 60, periods: rpoAlarmPeriods,
			comparison: above, threshold: RpoAlarmSeconds, missing: missingIsDown})
	}
	if !a.Settings.RestoreTesting {
		return list
	}
	// The restore metrics are published once a month: an hour with none is the normal case.
	return append(list,
		alarm{what: "restore-duration", meaning: fmt.Sprintf("The monthly restore test took more than %d minutes to restore the database: the 1-hour recovery time objective has no margin left. See docs/disaster-recovery.md.", RestoreAlarmMinutes),
			namespace: RecoveryNamespace, metric: RestoreMinutes, dims: dims, stat: "Maximum", period: 3600, periods: 1,
			comparison: above, threshold: RestoreAlarmMinutes, missing: missingIsZero},
		alarm{what: "restore-failed", meaning: "The monthly restore test's copy of the database did not pass validation: read the restore-check function's log and the restore job's validation message.",
			namespace: RecoveryNamespace, metric: RestoreValidated, dims: dims, stat: "Minimum", period: 3600, periods: 1,
			comparison: below, threshold: 1, missing: missingIsZero},
		// A monthly absence cannot be an alarm's window: CloudWatch caps period × evaluation
		// periods at 7 days for periods of an hour or more (PutMetricAlarm, Period). So the
		// age of the last validated test is itself a metric, published every 5 minutes, and
		// silence (the publisher is gone) counts as a breach.
		alarm{what: "restore-missing", meaning: fmt.Sprintf("No restore test has been validated for more than %d days: the monthly test did not run, failed, or its result was not reported.", RestoreMissingAfterHours/24),
			namespace: RecoveryNamespace, metric: RestoreAgeMetric, dims: dims, stat: "Maximum", period: 3600, periods: 1,
			comparison: above, threshold: RestoreMissingAfterHours, missing: missingIsDown},
	)
}

// restoreTesting creates the monthly restore test of the database and of a backend volume,
// restored from the vault into the isolated restore-test network, and sends each completed
// restore job to the validation function.
func (b *builder) restoreTesting(vault *backup.Vault, roleArn pulumi.StringOutput) error {
	a, e := b.a, b.a.Env
	if !a.Settings.RestoreTesting {
		return nil
	}
	if a.RestoreCheckName == "" || a.RestoreSecurityGroupID == nil || a.DBSubnetGroupName == nil {
		return fmt.Errorf("restore testing needs the restore-check function, the restore-test security group and the database subnet group")
	}
	planName := RestoreTestingPlanName(e.Prefix)
	plan, err := backup.NewRestoreTestingPlan(b.ctx, e.Name("restore-test"), &backup.RestoreTestingPlanArgs{
		Name:                       pulumi.String(planName),
		ScheduleExpression:         pulumi.String(RestoreSchedule),
		ScheduleExpressionTimezone: pulumi.String("Etc/UTC"),
		StartWindowHours:           pulumi.Int(restoreStartHours),
		RecoveryPointSelection: &backup.RestoreTestingPlanRecoveryPointSelectionArgs{
			Algorithm:           pulumi.String("LATEST_WITHIN_WINDOW"),
			IncludeVaults:       pulumi.StringArray{vault.Arn},
			RecoveryPointTypes:  pulumi.StringArray{pulumi.String("SNAPSHOT")},
			SelectionWindowDays: pulumi.Int(selectionWindowDays),
		},
	}, b.child()...)
	if err != nil {
		return err
	}
	b.m.RestoreTestingPlanName = planName

	// The overridable RDS keys of "Restore testing inferred metadata" (AWS Backup developer
	// guide). The copy goes to the database subnets, whose route table has no route out of the
	// VPC, behind a group only the validator may reach; it is single-AZ (inferred) and not
	// public (the subnets have no internet route either way; the validator checks both).
	overrides := pulumi.StringMap{
		"dbInstanceClass":   pulumi.String(RestoreInstanceClass),
		"dbSubnetGroupName": a.DBSubnetGroupName,
		"vpcSecurityGroupIds": a.RestoreSecurityGroupID.ToStringOutput().ApplyT(func(id string) (string, error) {
			ids, err := json.Marshal([]string{id})
			return string(ids), err
		}).(pulumi.StringOutput),
	}
	if _, err := backup.NewRestoreTestingSelection(b.ctx, e.Name("restore-test-database"), &backup.RestoreTestingSelectionArgs{
		Name:                     pulumi.String(strings.ReplaceAll(e.Name("database"), "-", "_")),
		RestoreTestingPlanName:   plan.Name,
		IamRoleArn:               roleArn,
		ProtectedResourceType:    pulumi.String("RDS"),
		ProtectedResourceArns:    pulumi.StringArray{pulumi.String(b.databaseArn())},
		RestoreMetadataOverrides: overrides,
		ValidationWindowHours:    pulumi.Int(ValidationHours),
	}, b.child()...); err != nil {
		return err
	}
	// A detached volume reaches nothing: restoring it proves the snapshot and times it.
	if _, err := backup.NewRestoreTestingSelection(b.ctx, e.Name("restore-test-volume"), &backup.RestoreTestingSelectionArgs{
		Name:                   pulumi.String(strings.ReplaceAll(e.Name("backend_volume"), "-", "_")),
		RestoreTestingPlanName: plan.Name,
		IamRoleArn:             roleArn,
		ProtectedResourceType:  pulumi.String("EBS"),
		ProtectedResourceArns:  pulumi.StringArray{pulumi.String("*")},
		ProtectedResourceConditions: &backup.RestoreTestingSelectionProtectedResourceConditionsArgs{
			StringEquals: backup.RestoreTestingSelectionProtectedResourceConditionsStringEqualArray{
				backup.RestoreTestingSelectionProtectedResourceConditionsStringEqualArgs{Key: pulumi.String("aws:ResourceTag/Name"), Value: pulumi.String(a.AsgName)},
			},
		},
		ValidationWindowHours: pulumi.Int(ValidationHours),
	}, b.child()...); err != nil {
		return err
	}
	return b.restoreValidation()
}

// restoreJobs matches the account's restore jobs in a state. Restore job events carry "status"
// (backup and copy job events carry "state"); the documented event ("Restore Job State
// Change", AWS Backup developer guide) need not name the restore testing plan, so the rule
// cannot filter on it: the validation function keeps only its plan's jobs, by
// DescribeRestoreJob's CreatedBy.RestoreTestingPlanArn.
func restoreJobs(statuses ...string) (string, error) {
	p, err := json.Marshal(map[string]any{
		"source":      []string{"aws.backup"},
		"detail-type": []string{"Restore Job State Change"},
		"detail":      map[string]any{"status": statuses},
	})
	return string(p), err
}

// restoreRule is an EventBridge rule of the account's restore jobs in some states.
func (b *builder) restoreRule(name, description string, statuses ...string) (*cloudwatch.EventRule, error) {
	pattern, err := restoreJobs(statuses...)
	if err != nil {
		return nil, err
	}
	return cloudwatch.NewEventRule(b.ctx, name, &cloudwatch.EventRuleArgs{
		Name:         pulumi.String(name),
		Description:  pulumi.String(description),
		EventPattern: pulumi.String(pattern),
		State:        pulumi.String("ENABLED"),
	}, b.child()...)
}

// restoreValidation sends the completed restore jobs to the validation function ("Restore
// testing validation", AWS Backup developer guide), which validates its plan's and ignores the
// others, and the ones that failed to the alarm topic at once (a failed restore is news
// whether a test or a person started it).
func (b *builder) restoreValidation() error {
	a, e := b.a, b.a.Env
	failed := e.Name("restore-job-failed")
	failures, err := b.restoreRule(failed, "Restore jobs in the account of "+e.Prefix+" that did not complete", "FAILED", "ABORTED")
	if err != nil {
		return err
	}
	if _, err := cloudwatch.NewEventTarget(b.ctx, failed, &cloudwatch.EventTargetArgs{
		Rule: failures.Name, TargetId: pulumi.String("alarm-topic"), Arn: b.main.arn,
	}, b.child()...); err != nil {
		return err
	}
	name := e.Name("restore-completed")
	rule, err := b.restoreRule(name, "Completed restore jobs for the restore test of "+e.Prefix+" to validate", "COMPLETED")
	if err != nil {
		return err
	}
	permission, err := lambda.NewPermission(b.ctx, name, &lambda.PermissionArgs{
		Action:    pulumi.String("lambda:InvokeFunction"),
		Function:  pulumi.String(a.RestoreCheckName),
		Principal: pulumi.String("events.amazonaws.com"),
		SourceArn: rule.Arn, // Lambda.1: only this rule may invoke
	}, b.child()...)
	if err != nil {
		return err
	}
	_, err = cloudwatch.NewEventTarget(b.ctx, name, &cloudwatch.EventTargetArgs{
		Rule:     rule.Name,
		TargetId: pulumi.String("restore-check"),
		Arn:      a.RestoreCheckArn,
	}, b.child(pulumi.DependsOn([]pulumi.Resource{permission}))...)
	return err
}

// databaseArn is the live database's ARN, known before deployment.
func (b *builder) databaseArn() string {
	e := b.a.Env
	return fmt.Sprintf("arn:aws:rds:%s:%s:db:%s", e.Region, e.AccountID, b.a.DatabaseID)
}

// recovery is the dashboard row of the recovery objectives: the RPO lag beside the history of
// the monthly restore tests.
func recovery(a *MonitoringArgs) []widget {
	env := string(a.Env.Environment)
	m := func(name string) []any { return metric(RecoveryNamespace, name, "Environment", env) }
	ws := []widget{
		text(fmt.Sprintf("Recovery objectives of **%s** (RPO < 5 min, RTO < 1 h), namespace `%s`. Runbook: docs/disaster-recovery.md.", env, RecoveryNamespace)),
		marked(graph("RPO: latest restorable time behind now (s)", a.Env.Region, "Maximum", recoveryMetricsMins*60, m(RpoMetric)), line("RDS's typical RPO", 300), line("alarm", RpoAlarmSeconds)),
	}
	if a.Settings.RestoreTesting {
		ws = append(ws,
			marked(graph("Monthly restore test: duration (min)", a.Env.Region, "Maximum", 86400, m(RestoreMinutes)), line("alarm", RestoreAlarmMinutes), line("RTO", 60)),
			graph("Monthly restore test: validated (1) or failed (0)", a.Env.Region, "Minimum", 86400, m(RestoreValidated)),
			marked(graph("Hours since the last validated restore test", a.Env.Region, "Maximum", 3600, m(RestoreAgeMetric)), line("alarm", RestoreMissingAfterHours)),
		)
	}
	return ws
}
