package monitoring_test

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/canalco/infra/monitoring"
	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/serverless"
	"github.com/canalco/infra/settings"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recoveryAlarms are the alarms of the seed's recovery objectives, by stack.
func recoveryAlarms(st *stack) map[string]want {
	env := func(st *stack) map[string]any { return map[string]any{"Environment": st.name} }
	out := map[string]want{}
	if st.name != "dev" { // dev's database sleeps at night
		// Above the 300 s peak of RDS's 5-minute log upload saw-tooth, 3 readings in a row;
		// silence (no publisher, no answer from RDS) is a breach where the database never sleeps.
		out["db-rpo"] = want{"Canalco/Recovery", "RpoSeconds", "Maximum", env, 300, 3, "GreaterThanThreshold", value(600), "breaching"}
	}
	if st.s.Monitoring.RestoreTesting {
		out["restore-duration"] = want{"Canalco/Recovery", "RestoreMinutes", "Maximum", env, 3600, 1, "GreaterThanThreshold", value(45), "notBreaching"}
		out["restore-failed"] = want{"Canalco/Recovery", "RestoreValidated", "Minimum", env, 3600, 1, "LessThanThreshold", value(1), "notBreaching"}
		out["restore-missing"] = want{"Canalco/Recovery", "RestoreTestAgeHours", "Maximum", env, 3600, 1, "GreaterThanThreshold", value(32 * 24), "breaching"}
	}
	return out
}

func TestRecoveryAlarms(t *testing.T) {
	counts := map[string]int{"dev": 0, "staging": 4, "prod": 4}
	for _, name := range offline.Stacks {
		st := load(t, name)
		alarms := st.alarms()
		wants := recoveryAlarms(st)
		assert.Len(t, wants, counts[name], name)
		for what, w := range wants {
			if a := alarms["canalco-"+name+"-"+what]; assert.NotNil(t, a, "%s: alarm %s", name, what) {
				checkAlarm(t, st, a, w)
				assert.Equal(t, a.Num("evaluationPeriods"), a.Num("datapointsToAlarm"), "%s: consecutive readings", what)
			}
		}
		for _, what := range []string{"db-rpo", "restore-duration", "restore-failed", "restore-missing"} {
			if _, ok := wants[what]; !ok {
				assert.Nil(t, alarms["canalco-"+name+"-"+what], "%s has no %s alarm", name, what)
			}
		}
	}
	// Dev turns restore testing on, and gets its alarms but still no RPO alarm.
	st := fromResult(t, planWith(t, "dev", map[string]string{"canalco:restoreTesting": "true"}))
	alarms := st.alarms()
	assert.NotNil(t, alarms["canalco-dev-restore-missing"])
	assert.Nil(t, alarms["canalco-dev-db-rpo"])
	// A staging that sleeps at night has no RPO alarm either: its silence at night and its lag
	// after waking are the schedule's doing.
	st = fromResult(t, planWith(t, "staging", map[string]string{"canalco:sleepOutsideOfficeHours": "true", "canalco:dbBackupWindow": "17:00-17:30"}))
	assert.Nil(t, st.alarms()["canalco-staging-db-rpo"])
}

// PutMetricAlarm (CloudWatch API Reference, Period): period × evaluation periods may not exceed
// one day for periods under an hour, nor seven days otherwise. A "missing for 32 days" alarm
// cannot be a 32-day window, hence the age metric.
func TestEveryAlarmWindowIsOneCloudWatchAccepts(t *testing.T) {
	for _, name := range offline.Stacks {
		for _, a := range load(t, name).res.OfType("aws:cloudwatch/metricAlarm:MetricAlarm") {
			limit := 7 * 86400.0
			if a.Num("period") < 3600 {
				limit = 86400
			}
			assert.LessOrEqual(t, a.Num("period")*a.Num("evaluationPeriods"), limit, a.Str("name"))
		}
	}
}

// The alarms watch what the functions publish: the namespace the functions are given and the
// metric names their handlers print.
func TestRecoveryMetricsAreWhatTheFunctionsPublish(t *testing.T) {
	assert.Equal(t, monitoring.RecoveryNamespace, serverless.RecoveryNamespace)
	st := load(t, "prod")
	for _, fn := range st.res.OfType("aws:lambda/function:Function") {
		if n := fn.Str("name"); n == "canalco-prod-recovery" || n == "canalco-prod-restore-check" {
			assert.Equal(t, monitoring.RecoveryNamespace, fn.Str("environment.variables.RECOVERY_NAMESPACE"), n)
		}
	}
	source := func(folder string) string {
		b, err := os.ReadFile(filepath.Join(offline.Root(t), serverless.FunctionsDir, folder, "handler.py"))
		require.NoError(t, err)
		return string(b)
	}
	for metric, folder := range map[string]string{
		monitoring.RpoMetric: "recovery", monitoring.RestoreAgeMetric: "recovery",
		monitoring.RestoreMinutes: "restore-check", monitoring.RestoreValidated: "restore-check",
	} {
		assert.Contains(t, source(folder), `"`+metric+`"`, "%s publishes %s", folder, metric)
	}
}

// cronFields splits cron(...) into its six fields.
func cronFields(t *testing.T, expr string) []string {
	t.Helper()
	require.True(t, strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")"), expr)
	f := strings.Fields(strings.TrimSuffix(strings.TrimPrefix(expr, "cron("), ")"))
	require.Len(t, f, 6, expr)
	return f
}

func TestMonthlyRestoreTestingPlan(t *testing.T) {
	// CreateRestoreTestingPlan (AWS Backup API Reference): letters, digits and underscores, at
	// most 50 characters.
	planName := regexp.MustCompile(`^[A-Za-z0-9_]{1,50}$`)
	for _, name := range offline.Stacks {
		st := load(t, name)
		plans := st.res.OfType("aws:backup/restoreTestingPlan:RestoreTestingPlan")
		if name == "dev" {
			assert.Empty(t, plans, "dev: off by default")
			continue
		}
		require.Len(t, plans, 1, name)
		p := plans[0]
		assert.Equal(t, "canalco_"+name+"_restore_test", p.Str("name"))
		assert.Regexp(t, planName, p.Str("name"))
		// Monthly: any day of the month, first Tuesday (3#1), every month, after Sunday's backup.
		f := cronFields(t, p.Str("scheduleExpression"))
		assert.Equal(t, []string{"0", "14", "?", "*", "3#1", "*"}, f)
		weekly := cronFields(t, st.res.Named("aws:backup/plan:Plan", "canalco-"+name+"-weekly").Str("rules.0.schedule"))
		assert.Equal(t, "SUN", weekly[4], "the backup is weekly, on Sunday")
		assert.Equal(t, "Etc/UTC", p.Str("scheduleExpressionTimezone"))
		assert.Equal(t, "LATEST_WITHIN_WINDOW", p.Str("recoveryPointSelection.algorithm"))
		assert.GreaterOrEqual(t, p.Num("recoveryPointSelection.selectionWindowDays"), 7.0, "a weekly recovery point is always in the window")
		vault := st.res.Named("aws:backup/vault:Vault", "canalco-"+name)
		assert.Equal(t, []string{vault.Outputs["arn"].(string)}, p.Strings("recoveryPointSelection.includeVaults"))
		assert.Equal(t, []string{"SNAPSHOT"}, p.Strings("recoveryPointSelection.recoveryPointTypes"))

		sels := st.res.OfType("aws:backup/restoreTestingSelection:RestoreTestingSelection")
		require.Len(t, sels, 2)
		role := st.res.Named("aws:iam/role:Role", "canalco-"+name+"-backup")
		for _, s := range sels {
			assert.Regexp(t, planName, s.Str("name"))
			assert.Equal(t, p.Str("name"), s.Str("restoreTestingPlanName"))
			assert.Equal(t, role.Outputs["arn"], s.Str("iamRoleArn"))
			assert.Equal(t, 2.0, s.Num("validationWindowHours"))
		}
		vol := st.res.Named("aws:backup/restoreTestingSelection:RestoreTestingSelection", "canalco-"+name+"-restore-test-volume")
		require.NotNil(t, vol)
		assert.Equal(t, "EBS", vol.Str("protectedResourceType"))
		assert.Equal(t, []any{map[string]any{"key": "aws:ResourceTag/Name", "value": volumeName(t, st)}}, vol.List("protectedResourceConditions.stringEquals"))
		db := st.res.Named("aws:backup/restoreTestingSelection:RestoreTestingSelection", "canalco-"+name+"-restore-test-database")
		require.NotNil(t, db)
		assert.Equal(t, "RDS", db.Str("protectedResourceType"))
		assert.Equal(t, []string{"arn:aws:rds:us-east-1:" + offline.AccountOf(name) + ":db:" + st.database}, db.Strings("protectedResourceArns"))
	}
	res := planWith(t, "dev", map[string]string{"canalco:restoreTesting": "true"})
	assert.Len(t, res.OfType("aws:backup/restoreTestingPlan:RestoreTestingPlan"), 1, "a setting turns it on in dev")
}

// byID finds a resource of a type by its id output.
func byID(res *offline.Result, typ, id string) *offline.Resource {
	for _, r := range res.OfType(typ) {
		if r.Outputs["id"] == id {
			return r
		}
	}
	return nil
}

// The copy is restored where nothing reaches it but the validator, and it reaches nothing.
func TestRestoredDatabaseIsIsolated(t *testing.T) {
	for _, name := range []string{"staging", "prod"} {
		st := load(t, name)
		res, prefix := st.res, "canalco-"+name
		sel := res.Named("aws:backup/restoreTestingSelection:RestoreTestingSelection", prefix+"-restore-test-database")
		require.NotNil(t, sel)
		o := sel.Get("restoreMetadataOverrides").(map[string]any)
		assert.ElementsMatch(t, []string{"dbInstanceClass", "dbSubnetGroupName", "vpcSecurityGroupIds"}, keys(o),
			"only keys of \"Restore testing inferred metadata\" for RDS")

		// The subnet group's subnets route nowhere outside the VPC: no NAT, no internet gateway.
		group := res.Named("aws:rds/subnetGroup:SubnetGroup", prefix+"-db")
		if group == nil {
			groups := res.OfType("aws:rds/subnetGroup:SubnetGroup")
			require.Len(t, groups, 1)
			group = groups[0]
		}
		assert.Equal(t, group.Str("name"), o["dbSubnetGroupName"])
		subnets := group.Strings("subnetIds")
		require.NotEmpty(t, subnets)
		for _, subnet := range subnets {
			var tables []string
			for _, assoc := range res.OfType("aws:ec2/routeTableAssociation:RouteTableAssociation") {
				if assoc.Str("subnetId") == subnet {
					tables = append(tables, assoc.Str("routeTableId"))
				}
			}
			require.Len(t, tables, 1, "subnet %s has its own route table", subnet)
			for _, r := range res.OfType("aws:ec2/route:Route") {
				if r.Str("routeTableId") == tables[0] {
					assert.Empty(t, r.Str("natGatewayId")+r.Str("gatewayId"), "%s: the restore subnets have no route out (%s)", name, r.Name)
				}
			}
		}

		// Its only group admits the validator's group on 5432, nothing else, and has no egress.
		var ids []string
		require.NoError(t, json.Unmarshal([]byte(o["vpcSecurityGroupIds"].(string)), &ids))
		require.Len(t, ids, 1)
		sg := byID(res, "aws:ec2/securityGroup:SecurityGroup", ids[0])
		require.NotNil(t, sg)
		assert.Equal(t, prefix+"-restore-test", sg.Str("tags.Name"))
		validator := res.Named("aws:ec2/securityGroup:SecurityGroup", prefix+"-restore-validator")
		backend := res.Named("aws:ec2/securityGroup:SecurityGroup", prefix+"-backend")
		var ingress int
		for _, r := range res.OfType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
			if r.Str("securityGroupId") != ids[0] {
				continue
			}
			ingress++
			assert.Equal(t, validator.Outputs["id"], r.Str("referencedSecurityGroupId"), r.Name)
			assert.NotEqual(t, backend.Outputs["id"], r.Str("referencedSecurityGroupId"), "the backend never reaches the copy")
			assert.Empty(t, r.Str("cidrIpv4")+r.Str("cidrIpv6")+r.Str("prefixListId"), r.Name)
			assert.Equal(t, 5432.0, r.Num("fromPort"))
		}
		assert.Equal(t, 1, ingress)
		for _, r := range res.OfType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule") {
			assert.NotEqual(t, ids[0], r.Str("securityGroupId"), "the copy starts no connection: %s", r.Name)
		}

		// The validator is the restore-check function, in the private subnets.
		fn := functionNamed(t, res, prefix+"-restore-check")
		assert.Equal(t, []string{validator.Outputs["id"].(string)}, fn.Strings("vpcConfig.securityGroupIds"))
		private := res.Named("aws:ec2/subnet:Subnet", prefix+"-private-a")
		assert.Contains(t, fn.Strings("vpcConfig.subnetIds"), private.Outputs["id"])

		// A small class, known to the settings.
		class := o["dbInstanceClass"].(string)
		info, ok := settings.InstanceClasses[class]
		require.True(t, ok, class)
		assert.LessOrEqual(t, info.MemoryGiB, settings.InstanceClasses[st.s.Database.InstanceClass].MemoryGiB)
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func functionNamed(t *testing.T, res *offline.Result, name string) *offline.Resource {
	t.Helper()
	for _, fn := range res.OfType("aws:lambda/function:Function") {
		if fn.Str("name") == name {
			return fn
		}
	}
	t.Fatalf("no function %s", name)
	return nil
}

// "Restore testing validation" (AWS Backup developer guide): an EventBridge rule on the restore
// job reaching COMPLETED invokes the validation.
func TestCompletedRestoreTestsAreValidated(t *testing.T) {
	for _, name := range []string{"staging", "prod"} {
		st := load(t, name)
		res, prefix := st.res, "canalco-"+name
		fn := functionNamed(t, res, prefix+"-restore-check")
		for rule, want := range map[string]struct {
			status []string
			target any
		}{
			prefix + "-restore-completed":  {[]string{"COMPLETED"}, fn.Outputs["arn"]},
			prefix + "-restore-job-failed": {[]string{"FAILED", "ABORTED"}, st.topic(t).Outputs["arn"]},
		} {
			r := res.Named("aws:cloudwatch/eventRule:EventRule", rule)
			require.NotNil(t, r, rule)
			var pattern struct {
				Source     []string `json:"source"`
				DetailType []string `json:"detail-type"`
				Detail     struct {
					Status []string `json:"status"`
				} `json:"detail"`
			}
			require.NoError(t, json.Unmarshal([]byte(r.Str("eventPattern")), &pattern))
			assert.Equal(t, []string{"aws.backup"}, pattern.Source)
			assert.Equal(t, []string{"Restore Job State Change"}, pattern.DetailType)
			assert.Equal(t, want.status, pattern.Detail.Status)
			// The documented event's detail has no restoreTestingPlanArn to match on: the
			// rule matches on fields every restore job event carries, and the function
			// filters on DescribeRestoreJob's CreatedBy (tests/test_restore_check.py).
			var raw struct{ Detail map[string]any }
			require.NoError(t, json.Unmarshal([]byte(r.Str("eventPattern")), &raw))
			assert.Equal(t, []string{"status"}, slices.Sorted(maps.Keys(raw.Detail)))
			target := res.Named("aws:cloudwatch/eventTarget:EventTarget", rule)
			require.NotNil(t, target)
			assert.Equal(t, want.target, target.Str("arn"))
		}
		perm := res.Named("aws:lambda/permission:Permission", prefix+"-restore-completed")
		require.NotNil(t, perm)
		assert.Equal(t, "events.amazonaws.com", perm.Str("principal"))
		assert.Equal(t, prefix+"-restore-check", perm.Str("function"))
		assert.Equal(t, res.Named("aws:cloudwatch/eventRule:EventRule", prefix+"-restore-completed").Outputs["arn"], perm.Str("sourceArn"))
	}
}

// "AWS Backup Vault Lock" (developer guide): compliance mode is a lock with ChangeableForDays,
// at least 3 days; the plan's retention must lie between the lock's minimum and maximum.
func TestVaultLockInProdOnly(t *testing.T) {
	const lockT = "aws:backup/vaultLockConfiguration:VaultLockConfiguration"
	for _, name := range offline.Stacks {
		st := load(t, name)
		locks := st.res.OfType(lockT)
		if name != "prod" {
			assert.Empty(t, locks, name)
			continue
		}
		require.Len(t, locks, 1)
		checkLock(t, st, locks[0], "canalco-prod")
	}
	res := planWith(t, "prod", map[string]string{"canalco:backupCopyRegion": "us-west-2"})
	st := fromResult(t, res)
	locks := res.OfType(lockT)
	require.Len(t, locks, 2, "the copy region's vault is locked too")
	for _, l := range locks {
		checkLock(t, st, l, "canalco-prod")
	}
	assert.NotEqual(t, locks[0].Provider, locks[1].Provider, "one lock per region")
}

func checkLock(t *testing.T, st *stack, lock *offline.Resource, vault string) {
	t.Helper()
	assert.Equal(t, vault, lock.Str("backupVaultName"))
	assert.GreaterOrEqual(t, lock.Num("changeableForDays"), 3.0, "compliance mode, with the 3-day minimum cooling-off")
	keep := st.res.Named("aws:backup/plan:Plan", "canalco-prod-weekly").Num("rules.0.lifecycle.deleteAfter")
	assert.LessOrEqual(t, lock.Num("minRetentionDays"), keep)
	assert.GreaterOrEqual(t, lock.Num("maxRetentionDays"), keep)
	assert.True(t, lock.Protect, "the lock is kept like the vault")
	// Each of them forces a replacement of a protected, immutable lock: never planned.
	assert.ElementsMatch(t, []string{"changeableForDays", "maxRetentionDays", "minRetentionDays"}, lock.IgnoreChanges)
}

// Changing the retention in prod, to any value the setting accepts, leaves the lock's inputs
// as they are: no update, no replacement of a lock that cannot be replaced.
func TestARetentionChangeLeavesTheVaultLockAlone(t *testing.T) {
	const lockT = "aws:backup/vaultLockConfiguration:VaultLockConfiguration"
	before := load(t, "prod").res.OfType(lockT)[0].Inputs
	for _, days := range []string{"7", "90", "365"} {
		res := planWith(t, "prod", map[string]string{"canalco:ebsSnapshotRetentionDays": days})
		assert.Equal(t, before, res.OfType(lockT)[0].Inputs, days)
		checkLock(t, fromResult(t, res), res.OfType(lockT)[0], "canalco-prod")
	}
	for _, days := range []string{"6", "366"} {
		_, err := offline.WithValues(t, "prod", map[string]string{"canalco:ebsSnapshotRetentionDays": days})
		require.Error(t, err, days)
		assert.Contains(t, err.Error(), "within prod's vault lock")
	}
}

// planWith plans a real stack with some settings changed, failing the test on an error.
func planWith(t *testing.T, stack string, values map[string]string) *offline.Result {
	t.Helper()
	res, err := offline.WithValues(t, stack, values)
	require.NoError(t, err)
	return res
}
