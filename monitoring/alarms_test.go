package monitoring_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// want is what an alarm of a real stack must be.
type want struct {
	namespace, metric, stat string
	dims                    func(st *stack) map[string]any
	period, periods         float64
	comparison              string
	threshold               func(st *stack) float64
	missing                 string
}

const gib = 1 << 30

func value(v float64) func(*stack) float64 { return func(*stack) float64 { return v } }

// perStack is a threshold that depends on the stack: the class and storage of its database.
func perStack(m map[string]float64) func(*stack) float64 {
	return func(st *stack) float64 { return m[st.name] }
}

// fixedAlarms are the alarms every stack has, by name without the stack prefix.
func fixedAlarms() map[string]want {
	asg := func(st *stack) map[string]any { return map[string]any{"AutoScalingGroupName": st.asg} }
	lb := func(st *stack) map[string]any { return map[string]any{"LoadBalancer": st.lbSuffix} }
	targets := func(st *stack) map[string]any {
		return map[string]any{"LoadBalancer": st.lbSuffix, "TargetGroup": st.tgSuffix}
	}
	db := func(st *stack) map[string]any { return map[string]any{"DBInstanceIdentifier": st.database} }
	none := func(*stack) map[string]any { return nil }
	return map[string]want{
		"backend-cpu": {"AWS/EC2", "CPUUtilization", "Average", asg, 300, 3, "GreaterThanThreshold",
			func(st *stack) float64 { return float64(st.s.Monitoring.CPUAlarmPercent) }, "missing"},
		"backend-memory": {"CWAgent", "mem_used_percent", "Maximum", asg, 300, 3, "GreaterThanThreshold", value(90), "missing"},
		"backend-disk": {"CWAgent", "disk_used_percent", "Maximum",
			func(st *stack) map[string]any {
				return map[string]any{"AutoScalingGroupName": st.asg, "path": "/", "fstype": "xfs"}
			}, 300, 2, "GreaterThanThreshold", value(85), "missing"},
		"alb-5xx":             {"AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "Sum", lb, 300, 1, "GreaterThanThreshold", value(10), "notBreaching"},
		"backend-5xx":         {"AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum", lb, 300, 1, "GreaterThanThreshold", value(10), "notBreaching"},
		"backend-unhealthy":   {"AWS/ApplicationELB", "UnHealthyHostCount", "Maximum", targets, 60, 3, "GreaterThanThreshold", value(0), "notBreaching"},
		"backend-down":        {"AWS/ApplicationELB", "HealthyHostCount", "Minimum", targets, 60, 3, "LessThanThreshold", value(1), "breaching"},
		"backend-latency-p95": {"AWS/ApplicationELB", "TargetResponseTime", "p95", lb, 300, 3, "GreaterThanThreshold", value(1.5), "notBreaching"},
		// 80% of LEAST(memory/9531392, 5000): 112 → 89 on db.t4g.micro, 450 → 360 on db.t4g.medium.
		"db-connections": {"AWS/RDS", "DatabaseConnections", "Maximum", db, 300, 2, "GreaterThanThreshold",
			perStack(map[string]float64{"dev": 89, "staging": 360, "prod": 360}), "missing"},
		"db-cpu": {"AWS/RDS", "CPUUtilization", "Average", db, 300, 3, "GreaterThanThreshold", value(80), "missing"},
		// 10% of 20 GB in dev, of 50 GB elsewhere.
		"db-storage": {"AWS/RDS", "FreeStorageSpace", "Minimum", db, 300, 6, "LessThanThreshold",
			perStack(map[string]float64{"dev": 2 * gib, "staging": 5 * gib, "prod": 5 * gib}), "missing"},
		// 10% of 1 GiB in dev, of 4 GiB elsewhere.
		"db-memory": {"AWS/RDS", "FreeableMemory", "Average", db, 300, 3, "LessThanThreshold",
			perStack(map[string]float64{"dev": 107374182, "staging": 429496730, "prod": 429496730}), "missing"},
		"ses-bounce-rate":    {"AWS/SES", "Reputation.BounceRate", "Maximum", none, 900, 1, "GreaterThanThreshold", value(0.05), "notBreaching"},
		"ses-complaint-rate": {"AWS/SES", "Reputation.ComplaintRate", "Maximum", none, 900, 1, "GreaterThanThreshold", value(0.001), "notBreaching"},
		"cdn-5xx-rate": {"AWS/CloudFront", "5xxErrorRate", "Average",
			func(st *stack) map[string]any {
				return map[string]any{"DistributionId": st.distribution, "Region": "Global"}
			},
			300, 2, "GreaterThanThreshold", value(5), "notBreaching"},
	}
}

func checkAlarm(t *testing.T, st *stack, a *offline.Resource, w want) {
	t.Helper()
	name := a.Str("name")
	assert.Equal(t, w.namespace, a.Str("namespace"), name)
	assert.Equal(t, w.metric, a.Str("metricName"), name)
	if strings.HasPrefix(w.stat, "p") {
		assert.Equal(t, w.stat, a.Str("extendedStatistic"), name)
		assert.Empty(t, a.Str("statistic"), name)
	} else {
		assert.Equal(t, w.stat, a.Str("statistic"), name)
		assert.Empty(t, a.Str("extendedStatistic"), name)
	}
	if dims := w.dims(st); dims == nil {
		assert.Empty(t, a.Get("dimensions"), name)
	} else {
		assert.Equal(t, dims, a.Get("dimensions"), name)
	}
	assert.Equal(t, w.period, a.Num("period"), name)
	assert.Equal(t, w.periods, a.Num("evaluationPeriods"), name)
	assert.Equal(t, w.comparison, a.Str("comparisonOperator"), name)
	assert.InDelta(t, w.threshold(st), a.Num("threshold"), 1e-9, name)
	assert.Equal(t, w.missing, a.Str("treatMissingData"), name)
}

func TestAlarmsOfEveryStack(t *testing.T) {
	for _, name := range offline.Stacks {
		st := load(t, name)
		alarms := st.alarms()
		for what, w := range fixedAlarms() {
			a := alarms["canalco-"+name+"-"+what]
			if assert.NotNil(t, a, "%s: alarm %s", name, what) {
				checkAlarm(t, st, a, w)
			}
		}
	}
}

var alarmName = regexp.MustCompile(`^canalco-[a-z0-9-]+$`)

// What AWS and Security Hub check of every alarm, and that it notifies the topic of its own
// region on ALARM and on OK.
func TestEveryAlarmNotifiesItsRegionsTopic(t *testing.T) {
	validPeriod := func(p float64) bool { return p == 10 || p == 20 || p == 30 || (p >= 60 && int(p)%60 == 0) }
	for _, name := range offline.Stacks {
		st := load(t, name)
		topics := map[string]string{} // provider → topic ARN
		for _, topic := range st.res.OfType("aws:sns/topic:Topic") {
			if topic.Str("name") == "canalco-"+name+"-alarms" {
				topics[topic.Provider] = topic.Outputs["arn"].(string)
			}
		}
		alarms := st.res.OfType("aws:cloudwatch/metricAlarm:MetricAlarm")
		require.NotEmpty(t, alarms)
		for _, a := range alarms {
			n := a.Str("name")
			assert.Regexp(t, alarmName, n)
			assert.LessOrEqual(t, len(n), 255, n)
			assert.Equal(t, a.Name, n, "logical name is the AWS name")
			topic := topics[a.Provider]
			require.NotEmpty(t, topic, "%s: an alarm topic in the alarm's region", n)
			assert.Equal(t, []any{topic}, a.List("alarmActions"), n)
			assert.Equal(t, []any{topic}, a.List("okActions"), n)
			assert.True(t, a.Bool("actionsEnabled"), n)
			assert.Contains(t, []string{"missing", "notBreaching", "breaching"}, a.Str("treatMissingData"), n)
			assert.True(t, validPeriod(a.Num("period")), "%s period %v", n, a.Num("period"))
			assert.LessOrEqual(t, a.Num("period")*a.Num("evaluationPeriods"), 86400.0, n)
			assert.Equal(t, a.Num("evaluationPeriods"), a.Num("datapointsToAlarm"), n)
			assert.True(t, (a.Str("statistic") == "") != (a.Str("extendedStatistic") == ""), "%s: one statistic", n)
			if a.Str("extendedStatistic") != "" {
				assert.Equal(t, "ignore", a.Str("evaluateLowSampleCountPercentiles"), n)
			}
			desc := a.Str("alarmDescription")
			assert.NotEmpty(t, desc, n)
			assert.LessOrEqual(t, len(desc), 1024, n)
			dims, _ := a.Get("dimensions").(map[string]any)
			assert.LessOrEqual(t, len(dims), 30, n)
			for k, v := range dims {
				s, ok := v.(string)
				assert.True(t, ok && s != "" && len(s) <= 1024, "%s: dimension %s = %v", n, k, v)
			}
		}
	}
}

// One pair of alarms per function, one per dead-letter queue and one per source queue of
// the stack, and none for anything that does not exist.
func TestOneAlarmPerFunctionAndQueue(t *testing.T) {
	for _, name := range offline.Stacks {
		st := load(t, name)
		require.NotEmpty(t, st.functions, name)
		require.NotEmpty(t, st.deadLetterQueues, name)
		alarms := st.alarms()
		expect := map[string]string{} // alarm → the dimension value it must watch
		for _, fn := range st.functions {
			expect["canalco-"+name+"-lambda-"+st.short(fn)+"-errors"] = fn
			expect["canalco-"+name+"-lambda-"+st.short(fn)+"-throttles"] = fn
		}
		for _, q := range st.deadLetterQueues {
			expect["canalco-"+name+"-sqs-"+st.short(q)+"-messages"] = q
		}
		for _, q := range st.queues {
			expect["canalco-"+name+"-sqs-"+st.short(q)+"-age"] = q
		}
		for alarm, watched := range expect {
			a := alarms[alarm]
			if !assert.NotNil(t, a, "%s: %s", name, alarm) {
				continue
			}
			dims := a.Get("dimensions").(map[string]any)
			switch {
			case strings.HasSuffix(alarm, "-errors"), strings.HasSuffix(alarm, "-throttles"):
				metric := map[bool]string{true: "Errors", false: "Throttles"}[strings.HasSuffix(alarm, "-errors")]
				checkAlarm(t, st, a, want{"AWS/Lambda", metric, "Sum", func(*stack) map[string]any { return map[string]any{"FunctionName": watched} },
					300, 1, "GreaterThanThreshold", value(0), "notBreaching"})
			case strings.HasSuffix(alarm, "-messages"):
				checkAlarm(t, st, a, want{"AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", func(*stack) map[string]any { return map[string]any{"QueueName": watched} },
					300, 1, "GreaterThanThreshold", value(0), "notBreaching"})
			default:
				checkAlarm(t, st, a, want{"AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum", func(*stack) map[string]any { return map[string]any{"QueueName": watched} },
					300, 1, "GreaterThanThreshold", value(900), "notBreaching"})
			}
			assert.Len(t, dims, 1)
		}
		for n, a := range alarms {
			if ns := a.Str("namespace"); ns == "AWS/Lambda" || ns == "AWS/SQS" {
				assert.Contains(t, expect, n, "%s watches nothing of the stack", n)
			}
		}
	}
}

// The connections alarm follows the class: 80% of db.r7g.xlarge's 3604 connections.
func TestConnectionsThresholdFollowsTheClass(t *testing.T) {
	assert.Equal(t, "db.t4g.micro", load(t, "dev").s.Database.InstanceClass)
	assert.Equal(t, "db.t4g.medium", load(t, "prod").s.Database.InstanceClass)
	st := override(t, "prod", map[string]string{"canalco:dbInstanceClass": "db.r7g.xlarge", "canalco:dbConnectionsAlarmPercent": "70"})
	a := st.alarms()["canalco-prod-db-connections"]
	require.NotNil(t, a)
	assert.Equal(t, float64(3604*70/100), a.Num("threshold"))
	assert.InDelta(t, 32*gib*0.10, st.alarms()["canalco-prod-db-memory"].Num("threshold"), 1, "10% of 32 GiB")
}

// The CloudWatch agent publishes the metrics the instance alarms watch, with their dimensions.
func TestAgentPublishesWhatTheInstanceAlarmsWatch(t *testing.T) {
	for _, name := range offline.Stacks {
		st := load(t, name)
		var agent struct {
			Metrics struct {
				Namespace             string     `json:"namespace"`
				AggregationDimensions [][]string `json:"aggregation_dimensions"`
				MetricsCollected      struct {
					Mem  struct{ Measurement []string } `json:"mem"`
					Disk struct {
						Measurement []string `json:"measurement"`
						Resources   []string `json:"resources"`
					} `json:"disk"`
				} `json:"metrics_collected"`
			} `json:"metrics"`
		}
		params := st.res.OfType("aws:ssm/parameter:Parameter")
		found := false
		for _, p := range params {
			if json.Unmarshal([]byte(plain(p.Inputs["value"])), &agent) == nil && agent.Metrics.Namespace != "" {
				found = true
				break
			}
		}
		require.True(t, found, "%s: the agent's configuration parameter", name)
		m := agent.Metrics
		assert.Equal(t, "CWAgent", m.Namespace)
		assert.Contains(t, m.MetricsCollected.Mem.Measurement, "mem_used_percent")
		assert.Contains(t, m.MetricsCollected.Disk.Measurement, "used_percent")
		assert.Contains(t, m.MetricsCollected.Disk.Resources, "/")
		for _, what := range []string{"backend-memory", "backend-disk"} {
			dims := st.alarms()["canalco-"+name+"-"+what].Get("dimensions").(map[string]any)
			var keys []string
			for k := range dims {
				keys = append(keys, k)
			}
			published := false
			for _, agg := range m.AggregationDimensions {
				published = published || (len(agg) == len(keys) && !slices.ContainsFunc(keys, func(k string) bool { return !slices.Contains(agg, k) }))
			}
			assert.True(t, published, "%s: the agent rolls %s up by %v", name, what, keys)
		}
	}
}

// override plans a real stack with some settings changed.
func override(t *testing.T, name string, set map[string]string) *stack {
	t.Helper()
	res, err := offline.WithValues(t, name, set)
	require.NoError(t, err)
	return fromResult(t, res)
}

// CloudFront publishes its metrics in us-east-1 only, and an alarm notifies a topic of its own
// region: a stack elsewhere gets a second alarm topic there, with its own key and subscriptions.
func TestCloudFrontAlarmLivesInUSEast1(t *testing.T) {
	for _, name := range offline.Stacks {
		st := load(t, name)
		require.Equal(t, "us-east-1", st.s.Region)
		assert.True(t, st.inMainRegion(st.alarms()["canalco-"+name+"-cdn-5xx-rate"]), "one region, one topic")
	}
	st := override(t, "prod", map[string]string{"aws:region": "us-east-2", "canalco:availabilityZones": `["us-east-2a","us-east-2b"]`})
	global := st.res.Named("aws:sns/topic:Topic", "canalco-prod-alarms-us-east-1")
	require.NotNil(t, global)
	assert.Equal(t, "canalco-prod-alarms", global.Str("name"))
	assert.Contains(t, global.Provider, "pulumi:providers:aws::aws-us-east-1::")
	key := st.res.Named("aws:kms/key:Key", "canalco-prod-monitoring-us-east-1")
	require.NotNil(t, key)
	assert.Equal(t, global.Provider, key.Provider, "the topic's key is in its region")
	assert.Equal(t, key.Outputs["arn"], global.Get("kmsMasterKeyId"))
	policy := st.res.Named("aws:sns/topicPolicy:TopicPolicy", "canalco-prod-alarms-us-east-1")
	require.NotNil(t, policy)
	for _, s := range statements(t, policy.Str("policy")) {
		if s.Effect == "Allow" {
			assert.Equal(t, "cloudwatch.amazonaws.com", s.Principal["Service"], "only the CloudFront alarm publishes there")
		}
	}
	assert.NotNil(t, st.res.Named("aws:sns/topicSubscription:TopicSubscription", "canalco-prod-alarms-us-east-1-plataforma@canalco.co"))
	for n, a := range st.alarms() {
		if n == "canalco-prod-cdn-5xx-rate" {
			assert.Equal(t, global.Provider, a.Provider)
			assert.True(t, a.DependsOn(global.URN), "notifies the us-east-1 topic")
		} else {
			assert.True(t, st.inMainRegion(a), n)
			assert.True(t, a.DependsOn(st.topic(t).URN), n)
		}
	}
}
