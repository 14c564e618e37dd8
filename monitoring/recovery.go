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
	// RPO: the database's latest restorable time may lag 5 minutes behind now (RDS uploads
	// transaction logs every 5 minutes). Two consecutive readings: one late upload pages nobody.
	RpoAlarmSeconds = 5 * 60
	rpoAlarmPeriods = 2
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
	// Dev's database sleeps at night and wakes with a lag until its first log upload: dev has
	// the metric on its dashboard but no alarm. The function publishes nothing for a stopped
	// instance, so a stopped database reads as no data, not as a breach.
	if a.Env.Environment != settings.Dev {
		list = append(list, alarm{what: "db-rpo", meaning: fmt.Sprintf("The database's latest restorable time has lagged more than %d minutes behind now for %d readings: the recovery point objective is broken. Check the instance's events and its transaction-log uploads.", RpoAlarmSeconds/60, rpoAlarmPeriods),
			namespace: RecoveryNamespace, metric: RpoMetric, dims: dims, stat: "Maximum", period: recoveryMetricsMins * 60, periods: rpoAlarmPeriods,
			comparison: above, threshold: RpoAlarmSeconds, missing: missingIsZero})
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
	return b.restoreValidation(plan)
}

// restoreJobs matches the plan's restore jobs in a state. Restore job events carry "status"
// (backup and copy job events carry "state").
func restoreJobs(plan *backup.RestoreTestingPlan, statuses ...string) pulumi.StringOutput {
	return plan.Arn.ApplyT(func(arn string) (string, error) {
		p, err := json.Marshal(map[string]any{
			"source":      []string{"aws.backup"},
			"detail-type": []string{"Restore Job State Change"},
			"detail":      map[string]any{"status": statuses, "restoreTestingPlanArn": []string{arn}},
		})
		return string(p), err
	}).(pulumi.StringOutput)
}

// restoreRule is an EventBridge rule of the plan's restore jobs in some states.
func (b *builder) restoreRule(name, description string, plan *backup.RestoreTestingPlan, statuses ...string) (*cloudwatch.EventRule, error) {
	return cloudwatch.NewEventRule(b.ctx, name, &cloudwatch.EventRuleArgs{
		Name:         pulumi.String(name),
		Description:  pulumi.String(description),
		EventPattern: restoreJobs(plan, statuses...),
		State:        pulumi.String("ENABLED"),
	}, b.child()...)
}

// restoreValidation sends the plan's completed restore jobs to the validation function
// ("Restore testing validation", AWS Backup developer guide), and the ones that failed to the
// alarm topic at once.
func (b *builder) restoreValidation(plan *backup.RestoreTestingPlan) error {
	a, e := b.a, b.a.Env
	failed := e.Name("restore-job-failed")
	failures, err := b.restoreRule(failed, "Restore test jobs of "+e.Prefix+" that did not complete", plan, "FAILED", "ABORTED")
	if err != nil {
		return err
	}
	if _, err := cloudwatch.NewEventTarget(b.ctx, failed, &cloudwatch.EventTargetArgs{
		Rule: failures.Name, TargetId: pulumi.String("alarm-topic"), Arn: b.main.arn,
	}, b.child()...); err != nil {
		return err
	}
	name := e.Name("restore-completed")
	rule, err := b.restoreRule(name, "Restore test jobs of "+e.Prefix+" to validate", plan, "COMPLETED")
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

// vaultLock makes prod's recovery points undeletable before their retention ends, by anyone:
// compliance mode (ChangeableForDays set). During the cooling-off period the lock can still be
// removed; after it, not even the account's root user can delete the lock, shorten a
// retention or delete a recovery point early ("AWS Backup Vault Lock", developer guide).
func (b *builder) vaultLock(vault *backup.Vault, suffix string, opts []pulumi.ResourceOption) error {
	e, s := b.a.Env, b.a.Settings
	if e.Environment != settings.Prod {
		return nil
	}
	_, err := backup.NewVaultLockConfiguration(b.ctx, e.Prefix+suffix+"-lock", &backup.VaultLockConfigurationArgs{
		BackupVaultName:   vault.Name,
		ChangeableForDays: pulumi.Int(VaultLockCoolingOffDays),
		// The plan's rules keep recovery points ebsSnapshotRetentionDays, inside the range.
		MinRetentionDays: pulumi.Int(s.EbsSnapshotRetentionDay),
		MaxRetentionDays: pulumi.Int(VaultLockMaxRetentionDays),
	}, append(opts, e.Keep()...)...)
	return err
}

// Vault lock settings: AWS Backup requires at least 3 days of cooling-off for compliance mode;
// the maximum bounds what a mistaken rule could make undeletable (and billed) for good.
const (
	VaultLockCoolingOffDays   = 3
	VaultLockMaxRetentionDays = 365
)

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
		marked(graph("RPO: latest restorable time behind now (s)", a.Env.Region, "Maximum", recoveryMetricsMins*60, m(RpoMetric)), line("objective", RpoAlarmSeconds)),
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
