package offhours_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/security"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	scheduleType    = "aws:scheduler/schedule:Schedule"
	asgScheduleType = "aws:autoscaling/schedule:Schedule"
	roleType        = "aws:iam/role:Role"
	rolePolicyType  = "aws:iam/rolePolicy:RolePolicy"
	dbType          = "aws:rds/instance:Instance"
	alarmType       = "aws:cloudwatch/metricAlarm:MetricAlarm"
)

// schedulerCron is EventBridge Scheduler's cron format (EventBridge Scheduler User Guide,
// "Schedule types on EventBridge Scheduler"): cron(minutes hours day-of-month month
// day-of-week year), six fields, with ? in day-of-month when day-of-week is given.
var schedulerCron = regexp.MustCompile(`^cron\(([0-9]|[1-5][0-9]) ([0-9]|1[0-9]|2[0-3]) \? \* ((SUN|MON|TUE|WED|THU|FRI|SAT)(-(SUN|MON|TUE|WED|THU|FRI|SAT))?) \*\)$`)

// minuteOfDay reads the hour and minute of a Scheduler cron expression.
func minuteOfDay(t *testing.T, expr string) (int, string) {
	t.Helper()
	m := schedulerCron.FindStringSubmatch(expr)
	require.NotNil(t, m, "%q is not EventBridge Scheduler's cron(min hour ? * days *)", expr)
	var minute, hour int
	_, err := fmt.Sscanf(m[1]+" "+m[2], "%d %d", &minute, &hour)
	require.NoError(t, err)
	return hour*60 + minute, m[3]
}

// checkInput checks a universal target's input against the operation's input shape: every key
// a member (PascalCase, as the API names it), every required member present, lists within
// their max.
func checkInput(t *testing.T, target, input string) map[string]any {
	t.Helper()
	parts := strings.Split(strings.TrimPrefix(target, "arn:aws:scheduler:::aws-sdk:"), ":")
	require.Len(t, parts, 2, target)
	service, action := parts[0], parts[1]
	m := offline.LoadAPIModel(t, service)
	opName := strings.ToUpper(action[:1]) + action[1:]
	op, ok := m.Operations[opName]
	require.True(t, ok, "%s has no operation %s", service, opName)
	in := m.Shapes[op.Input.Shape]
	var body map[string]any
	require.NoError(t, json.Unmarshal([]byte(input), &body), input)
	for k, v := range body {
		member, ok := in.Members[k]
		if !assert.True(t, ok, "%s %s: %q is not a member of %s", service, opName, k, op.Input.Shape) {
			continue
		}
		if list, isList := v.([]any); isList {
			s := m.Shapes[member.Shape]
			assert.Equal(t, "list", s.Type, "%s.%s", opName, k)
			if s.Max != nil {
				assert.LessOrEqual(t, float64(len(list)), *s.Max, "%s.%s lists at most %v", opName, k, *s.Max)
			}
			assert.NotEmpty(t, list, "%s.%s", opName, k)
		}
	}
	for _, r := range in.Required {
		assert.Contains(t, body, r, "%s %s requires %s", service, opName, r)
	}
	return body
}

// policy is an IAM policy document as the tests read it.
type policy struct {
	Statement []struct {
		Effect    string
		Principal map[string]any
		Action    any
		Resource  any
		Condition map[string]map[string]any
	}
}

// checkRole checks the schedules' role trusts only Scheduler (in the stack's account) and
// allows exactly the two calls on exactly the resource.
func checkRole(t *testing.T, res *offline.Result, prefix, thing string, perms []string, resource string) {
	t.Helper()
	name := prefix + "-" + thing + "-offhours"
	role := res.Named(roleType, name)
	require.NotNil(t, role, name)
	var trust policy
	require.NoError(t, json.Unmarshal([]byte(role.Str("assumeRolePolicy")), &trust))
	require.Len(t, trust.Statement, 1)
	st := trust.Statement[0]
	assert.Equal(t, "Allow", st.Effect)
	assert.Equal(t, map[string]any{"Service": "scheduler.amazonaws.com"}, st.Principal)
	assert.Equal(t, []string{"sts:AssumeRole"}, security.Strings(st.Action))
	if c, ok := st.Condition["StringEquals"]; ok {
		assert.Regexp(t, `^\d{12}$`, c["aws:SourceAccount"])
	}
	rp := res.Named(rolePolicyType, name)
	require.NotNil(t, rp, name)
	var p policy
	require.NoError(t, json.Unmarshal([]byte(rp.Str("policy")), &p))
	var actions []string
	for _, s := range p.Statement {
		assert.Equal(t, "Allow", s.Effect)
		assert.Equal(t, []string{resource}, security.Strings(s.Resource))
		actions = append(actions, security.Strings(s.Action)...)
	}
	assert.ElementsMatch(t, perms, actions)
}

// schedules are a stack's office-hours Scheduler schedules (named -sleep and -wake) by name.
func schedules(res *offline.Result) map[string]*offline.Resource {
	out := map[string]*offline.Resource{}
	for _, s := range res.OfType(scheduleType) {
		if n := s.Str("name"); strings.HasSuffix(n, "-sleep") || strings.HasSuffix(n, "-wake") {
			out[n] = s
		}
	}
	return out
}

func TestSleepingStacks(t *testing.T) {
	staging, err := offline.WithValues(t, "staging", map[string]string{"canalco:sleepOutsideOfficeHours": "true", "canalco:dbBackupWindow": "17:00-17:30"})
	require.NoError(t, err)
	for _, c := range []struct {
		stack string
		res   *offline.Result
	}{
		{"dev", offline.Stack(t, "dev")},
		{"staging", staging},
	} {
		t.Run(c.stack, func(t *testing.T) {
			res, prefix := c.res, "canalco-"+c.stack
			sc := schedules(res)
			require.Len(t, sc, 4, "database and alarms, sleep and wake")

			// When the group scales (its sizes are compute's TestGroupSleepsOutsideOfficeHours):
			// the other schedules are ordered around it.
			asgs := res.OfType("aws:autoscaling/group:Group")
			require.Len(t, asgs, 1)
			asgAt := map[string]int{}
			for _, a := range res.OfType(asgScheduleType) {
				var minute, hour int
				_, err := fmt.Sscanf(a.Str("recurrence"), "%d %d", &minute, &hour)
				require.NoError(t, err, a.Str("recurrence"))
				asgAt[strings.TrimPrefix(a.Str("scheduledActionName"), asgs[0].Str("name")+"-")] = hour*60 + minute
			}
			require.Contains(t, asgAt, "sleep")
			require.Contains(t, asgAt, "wake")

			when := map[string]int{}
			for name, s := range sc {
				minute, days := minuteOfDay(t, s.Str("scheduleExpression"))
				assert.Equal(t, "MON-FRI", days, name)
				assert.Equal(t, "America/Bogota", s.Str("scheduleExpressionTimezone"), name)
				assert.Equal(t, "OFF", s.Str("flexibleTimeWindow.mode"), name)
				assert.Equal(t, "ENABLED", s.Str("state"), name)
				when[strings.TrimPrefix(name, prefix+"-")] = minute
			}
			asgSleep, asgWake := asgAt["sleep"], asgAt["wake"]
			assert.Less(t, when["postgres-wake"], asgWake, "the database starts before the backend scales up")
			assert.Greater(t, when["postgres-sleep"], asgSleep, "the database stops once the backend is down")
			assert.Greater(t, when["alarms-wake"], asgWake, "alarm actions come back once the stack is awake")
			assert.Greater(t, when["alarms-wake"], when["postgres-wake"])
			assert.LessOrEqual(t, when["alarms-sleep"], asgSleep, "alarm actions are off before anything sleeps")

			// Database: the real instance, RDS's own API.
			dbs := res.OfType(dbType)
			require.NotEmpty(t, dbs)
			id := dbs[0].Str("identifier")
			arn := fmt.Sprintf("arn:aws:rds:%s:%s:db:%s", regionOf(t, res), accountOf(t, res), id)
			for what, op := range map[string]string{"sleep": "stopDBInstance", "wake": "startDBInstance"} {
				s := sc[prefix+"-postgres-"+what]
				require.NotNil(t, s, what)
				assert.Equal(t, "arn:aws:scheduler:::aws-sdk:rds:"+op, s.Str("target.arn"))
				body := checkInput(t, s.Str("target.arn"), s.Str("target.input"))
				assert.Equal(t, map[string]any{"DBInstanceIdentifier": id}, body)
			}
			checkRole(t, res, prefix, "postgres", []string{"rds:StopDBInstance", "rds:StartDBInstance"}, arn)

			// Alarms: the stack's real alarms in its region, CloudWatch's own API.
			var alarms []string
			for _, a := range res.OfType(alarmType) {
				if a.Provider == "" || !strings.Contains(a.Provider, "us-east-1") || regionOf(t, res) == "us-east-1" {
					alarms = append(alarms, a.Str("name"))
				}
			}
			for what, op := range map[string]string{"sleep": "disableAlarmActions", "wake": "enableAlarmActions"} {
				s := sc[prefix+"-alarms-"+what]
				require.NotNil(t, s, what)
				assert.Equal(t, "arn:aws:scheduler:::aws-sdk:cloudwatch:"+op, s.Str("target.arn"))
				body := checkInput(t, s.Str("target.arn"), s.Str("target.input"))
				names := security.Strings(body["AlarmNames"])
				assert.NotEmpty(t, names)
				for _, n := range names {
					assert.Contains(t, alarms, n, "%s names an alarm the stack has", op)
					assert.True(t, strings.HasPrefix(n, prefix+"-"), n)
				}
				// Every alarm in the stack's region is silenced, and none twice.
				assert.ElementsMatch(t, alarms, names, op)
			}
			checkRole(t, res, prefix, "alarms", []string{"cloudwatch:DisableAlarmActions", "cloudwatch:EnableAlarmActions"},
				fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s-*", regionOf(t, res), accountOf(t, res), prefix))
		})
	}
}

// regionOf is the stack's region: its non-us-east-1 AWS provider, else us-east-1.
func regionOf(t *testing.T, res *offline.Result) string {
	t.Helper()
	for _, p := range res.OfType("pulumi:providers:aws") {
		if r := p.Str("region"); r != "" && r != "us-east-1" {
			return r
		}
	}
	return "us-east-1"
}

// accountOf is the stack's account, as an office-hours role's trust condition names it.
func accountOf(t *testing.T, res *offline.Result) string {
	t.Helper()
	for _, r := range res.OfType(roleType) {
		if strings.HasSuffix(r.Name, "-offhours") {
			var trust policy
			require.NoError(t, json.Unmarshal([]byte(r.Str("assumeRolePolicy")), &trust))
			return fmt.Sprint(trust.Statement[0].Condition["StringEquals"]["aws:SourceAccount"])
		}
	}
	t.Fatal("no office-hours role")
	return ""
}

func TestAwakeStacks(t *testing.T) {
	for _, stack := range []string{"staging", "prod"} {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			assert.Empty(t, schedules(res))
			assert.Empty(t, res.OfType(asgScheduleType))
			for _, r := range res.OfType(roleType) {
				assert.NotContains(t, r.Name, "offhours")
			}
		})
	}
	t.Run("prod refuses to sleep", func(t *testing.T) {
		res, err := offline.WithValues(t, "prod", map[string]string{"canalco:sleepOutsideOfficeHours": "true"})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "sleepOutsideOfficeHours")
		assert.Contains(t, err.Error(), "false in prod")
		if res != nil {
			assert.Empty(t, schedules(res))
			assert.Empty(t, res.OfType(asgScheduleType))
		}
	})
}

// A sleeping stack with a read replica: RDS can stop neither an instance that has a read
// replica nor the replica (RDS User Guide, "Stopping an Amazon RDS DB instance temporarily"),
// so the database has no schedules and no role to stop it, while the backend still scales to
// zero and the alarms, the replica's among them, are still silenced outside office hours.
func TestReplicaKeepsTheDatabaseAwake(t *testing.T) {
	res, err := offline.WithValues(t, "dev", map[string]string{"canalco:dbReadReplica": "true"})
	require.NoError(t, err, "a replica is accepted on a sleeping stack")
	require.Len(t, res.OfType(dbType), 2, "the primary and its replica")

	sc := schedules(res)
	assert.ElementsMatch(t, []string{"canalco-dev-alarms-sleep", "canalco-dev-alarms-wake"}, slices.Collect(maps.Keys(sc)))
	for _, s := range res.OfType(scheduleType) {
		assert.NotContains(t, s.Str("target.arn"), ":rds:", "%s calls RDS", s.Name)
	}
	assert.Nil(t, res.Named(roleType, "canalco-dev-postgres-offhours"))

	asgs := res.OfType("aws:autoscaling/group:Group")
	require.Len(t, asgs, 1)
	actions := map[string]*offline.Resource{}
	for _, a := range res.OfType(asgScheduleType) {
		actions[strings.TrimPrefix(a.Str("scheduledActionName"), asgs[0].Str("name")+"-")] = a
	}
	require.Contains(t, actions, "sleep")
	require.Contains(t, actions, "wake")
	assert.Equal(t, 0.0, actions["sleep"].Num("maxSize"), "the backend scales to zero at night")
	assert.Equal(t, asgs[0].Num("minSize"), actions["wake"].Num("desiredCapacity"), "and back in the morning")

	body := checkInput(t, sc["canalco-dev-alarms-sleep"].Str("target.arn"), sc["canalco-dev-alarms-sleep"].Str("target.input"))
	assert.Contains(t, security.Strings(body["AlarmNames"]), "canalco-dev-db-replica-lag")
}
