package monitoring

import (
	"fmt"
	"math"
	"strings"

	"github.com/canalco/infra/offhours"
	"github.com/canalco/infra/settings"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// How each alarm reads a period without data, chosen per metric.
const (
	// missingIsZero: the metric is only published when something happens (5xx responses,
	// function errors, messages in a queue that went idle), so no data means none happened.
	missingIsZero = "notBreaching"
	// missingIsUnknown: the metric is published all the time the resource runs; silence means
	// the resource or its agent is gone, which another signal reports (RDS events, the
	// healthy-targets alarm). The alarm shows INSUFFICIENT_DATA on the dashboards meanwhile.
	missingIsUnknown = "missing"
	// missingIsDown: silence is itself the failure.
	missingIsDown = "breaching"
)

// Thresholds that are not settings, and why they have these values.
const (
	// Past 90% of memory the kernel starts killing processes; the container is the big one.
	memoryUsedAlarmPercent = 90
	// A database busy at 80% for 15 minutes has no room for a burst (and a t4g spends credits).
	dbCPUAlarmPercent = 80
	// 10% of the storage free is where RDS storage autoscaling acts: an alarm that lasts 30
	// minutes means autoscaling could not grow the disk (ceiling reached, or the 6-hour pause).
	dbFreeStorageShare = 0.10
	// Below 10% of the class's memory PostgreSQL's cache is gone and the instance swaps.
	dbFreeMemoryShare = 0.10
	// Reports read from the replica: a minute behind is visible to users.
	replicaLagAlarmSeconds = 60
	// The queues are drained in seconds; 15 minutes means the consumer fails or is throttled.
	oldestMessageAlarmSeconds = 15 * 60
	// SES reviews an account at 5% bounces and 0.1% complaints (and pauses sending at 10% and
	// 0.5%): the alarms fire at the review line, with time to act before the pause.
	sesBounceRateAlarm    = 0.05
	sesComplaintRateAlarm = 0.001
	// More than 5% of viewer requests failing is an outage of the app, not noise.
	cdn5xxRateAlarmPercent = 5
	// The CloudWatch agent's root file system on Amazon Linux 2023.
	rootPath, rootFsType = "/", "xfs"
)

const gib = 1 << 30

// alarm is one metric alarm, before it is created.
type alarm struct {
	// what names it: canalco-<stack>-<what>.
	what string
	// meaning says what is wrong and what to look at first (the runbook is docs/monitoring.md).
	meaning           string
	namespace, metric string
	dims              pulumi.StringMap
	// stat is Average, Sum, Minimum, Maximum, or a percentile such as p95.
	stat            string
	period, periods int
	comparison      string
	threshold       float64
	missing         string
	// global alarms watch metrics AWS publishes only in us-east-1.
	global bool
}

// Comparison operators.
const (
	above = "GreaterThanThreshold"
	below = "LessThanThreshold"
)

// specs lists every alarm of the stack, from its inputs.
func (b *builder) specs() ([]alarm, error) {
	a, s := b.a, b.a.Settings
	class, ok := settings.InstanceClasses[a.InstanceClass]
	if !ok {
		return nil, fmt.Errorf("database class %q has no memory figure in settings.InstanceClasses", a.InstanceClass)
	}
	asg := pulumi.StringMap{"AutoScalingGroupName": pulumi.String(a.AsgName)}
	lb := pulumi.StringMap{"LoadBalancer": a.AlbArnSuffix}
	targets := pulumi.StringMap{"LoadBalancer": a.AlbArnSuffix, "TargetGroup": a.TargetGroupArnSuffix}

	list := []alarm{
		{what: "backend-cpu", meaning: fmt.Sprintf("Backend instances average more than %d%% CPU for 15 minutes although the group scales out at %d%%: scaling is at its maximum or cannot keep up.", s.CPUAlarmPercent, a.CPUTargetPercent),
			namespace: "AWS/EC2", metric: "CPUUtilization", dims: asg, stat: "Average", period: 300, periods: 3,
			comparison: above, threshold: float64(s.CPUAlarmPercent), missing: missingIsUnknown},
		{what: "backend-memory", meaning: fmt.Sprintf("A backend instance uses more than %d%% of its memory: the container may be killed.", memoryUsedAlarmPercent),
			namespace: "CWAgent", metric: "mem_used_percent", dims: asg, stat: "Maximum", period: 300, periods: 3,
			comparison: above, threshold: memoryUsedAlarmPercent, missing: missingIsUnknown},
		{what: "backend-disk", meaning: fmt.Sprintf("A backend instance's root disk is more than %d%% full: old images or logs are filling it.", s.DiskUsedAlarmPercent),
			namespace: "CWAgent", metric: "disk_used_percent", stat: "Maximum", period: 300, periods: 2,
			dims:       pulumi.StringMap{"AutoScalingGroupName": pulumi.String(a.AsgName), "path": pulumi.String(rootPath), "fstype": pulumi.String(rootFsType)},
			comparison: above, threshold: float64(s.DiskUsedAlarmPercent), missing: missingIsUnknown},
		{what: "alb-5xx", meaning: fmt.Sprintf("The load balancer itself answered more than %d errors (5xx) in 5 minutes: no healthy backend, or backends time out.", s.HTTP5xxAlarmCount),
			namespace: "AWS/ApplicationELB", metric: "HTTPCode_ELB_5XX_Count", dims: lb, stat: "Sum", period: 300, periods: 1,
			comparison: above, threshold: float64(s.HTTP5xxAlarmCount), missing: missingIsZero},
		{what: "backend-5xx", meaning: fmt.Sprintf("The backend answered more than %d errors (5xx) in 5 minutes: read the application logs.", s.HTTP5xxAlarmCount),
			namespace: "AWS/ApplicationELB", metric: "HTTPCode_Target_5XX_Count", dims: lb, stat: "Sum", period: 300, periods: 1,
			comparison: above, threshold: float64(s.HTTP5xxAlarmCount), missing: missingIsZero},
		{what: "backend-unhealthy", meaning: "At least one backend instance has failed the load balancer's health check for 3 minutes.",
			namespace: "AWS/ApplicationELB", metric: "UnHealthyHostCount", dims: targets, stat: "Maximum", period: 60, periods: 3,
			comparison: above, threshold: 0, missing: missingIsZero},
		{what: "backend-down", meaning: "No backend instance has been healthy for 3 minutes: the API is down.",
			namespace: "AWS/ApplicationELB", metric: "HealthyHostCount", dims: targets, stat: "Minimum", period: 60, periods: 3,
			comparison: below, threshold: 1, missing: missingIsDown},
		{what: "backend-latency-p95", meaning: fmt.Sprintf("The slowest 5%% of API requests took more than %d ms for 15 minutes.", s.LatencyP95AlarmMs),
			namespace: "AWS/ApplicationELB", metric: "TargetResponseTime", dims: lb, stat: "p95", period: 300, periods: 3,
			comparison: above, threshold: float64(s.LatencyP95AlarmMs) / 1000, missing: missingIsZero},
		{what: "db-connections", meaning: fmt.Sprintf("The database has more than %d connections, %d%% of max_connections (%d for %s): a connection leak or too many instances.", dbConnectionsThreshold(class, s.DBConnectionsAlarmPercent), s.DBConnectionsAlarmPercent, class.MaxConnections(), a.InstanceClass),
			namespace: "AWS/RDS", metric: "DatabaseConnections", dims: db(a.DatabaseID), stat: "Maximum", period: 300, periods: 2,
			comparison: above, threshold: float64(dbConnectionsThreshold(class, s.DBConnectionsAlarmPercent)), missing: missingIsUnknown},
		dbCPU("db-cpu", "The database", a.DatabaseID),
		dbStorage("db-storage", "The database", a.DatabaseID, a.DatabaseAllocatedGb),
		{what: "db-memory", meaning: fmt.Sprintf("The database has less than %d%% of the %g GiB of %s free for 15 minutes: it will swap.", int(dbFreeMemoryShare*100), class.MemoryGiB, a.InstanceClass),
			namespace: "AWS/RDS", metric: "FreeableMemory", dims: db(a.DatabaseID), stat: "Average", period: 300, periods: 3,
			comparison: below, threshold: math.Round(class.MemoryGiB * gib * dbFreeMemoryShare), missing: missingIsUnknown},
	}
	// The replica has the primary's storage and its own CPU; its lag is what reports see.
	if a.ReplicaID != "" {
		list = append(list,
			alarm{what: "db-replica-lag", meaning: fmt.Sprintf("The read replica is more than %d s behind the primary for 10 minutes: reports show old data.", replicaLagAlarmSeconds),
				namespace: "AWS/RDS", metric: "ReplicaLag", dims: db(a.ReplicaID), stat: "Maximum", period: 300, periods: 2,
				comparison: above, threshold: replicaLagAlarmSeconds, missing: missingIsUnknown},
			dbCPU("db-replica-cpu", "The read replica", a.ReplicaID),
			dbStorage("db-replica-storage", "The read replica", a.ReplicaID, a.DatabaseAllocatedGb))
	}
	for _, fn := range a.FunctionNames {
		dims := pulumi.StringMap{"FunctionName": pulumi.String(fn)}
		list = append(list,
			alarm{what: "lambda-" + b.short(fn) + "-errors", meaning: "The function " + fn + " failed at least once in 5 minutes: read its log group.",
				namespace: "AWS/Lambda", metric: "Errors", dims: dims, stat: "Sum", period: 300, periods: 1,
				comparison: above, threshold: 0, missing: missingIsZero},
			alarm{what: "lambda-" + b.short(fn) + "-throttles", meaning: "The function " + fn + " was throttled in 5 minutes: its reserved concurrency or the account's limit is reached.",
				namespace: "AWS/Lambda", metric: "Throttles", dims: dims, stat: "Sum", period: 300, periods: 1,
				comparison: above, threshold: 0, missing: missingIsZero})
	}
	// SQS stops publishing the metrics of a queue idle for 6 hours: no data is an empty queue.
	for _, q := range a.DeadLetterQueueNames {
		list = append(list, alarm{what: "sqs-" + b.short(q) + "-messages", meaning: "Messages reached the dead-letter queue " + q + ": they failed every retry and wait to be inspected and redriven.",
			namespace: "AWS/SQS", metric: "ApproximateNumberOfMessagesVisible", dims: pulumi.StringMap{"QueueName": pulumi.String(q)}, stat: "Maximum", period: 300, periods: 1,
			comparison: above, threshold: 0, missing: missingIsZero})
	}
	for _, q := range a.QueueNames {
		list = append(list, alarm{what: "sqs-" + b.short(q) + "-age", meaning: fmt.Sprintf("A message has waited more than %d minutes in %s: its consumer fails or is throttled.", oldestMessageAlarmSeconds/60, q),
			namespace: "AWS/SQS", metric: "ApproximateAgeOfOldestMessage", dims: pulumi.StringMap{"QueueName": pulumi.String(q)}, stat: "Maximum", period: 300, periods: 1,
			comparison: above, threshold: oldestMessageAlarmSeconds, missing: missingIsZero})
	}
	// SES reputation is per account and region: stacks sharing an account watch the same metric.
	list = append(list,
		alarm{what: "ses-bounce-rate", meaning: fmt.Sprintf("The account's SES bounce rate is above %g%%: SES reviews the account at 5%% and pauses sending at 10%%. Find the bad addresses in the bounce notifications.", sesBounceRateAlarm*100),
			namespace: "AWS/SES", metric: "Reputation.BounceRate", stat: "Maximum", period: 900, periods: 1,
			comparison: above, threshold: sesBounceRateAlarm, missing: missingIsZero},
		alarm{what: "ses-complaint-rate", meaning: fmt.Sprintf("The account's SES complaint rate is above %g%%: SES reviews the account at 0.1%% and may pause sending at 0.5%%. Check who is emailed and why.", sesComplaintRateAlarm*100),
			namespace: "AWS/SES", metric: "Reputation.ComplaintRate", stat: "Maximum", period: 900, periods: 1,
			comparison: above, threshold: sesComplaintRateAlarm, missing: missingIsZero},
		// SES accepted an email and dropped it: its template data lacked a variable. The send
		// call succeeded, so nothing else would tell (the details are in the email-events topic).
		alarm{what: "ses-rendering-failures", meaning: "SES dropped at least one email of " + a.ConfigurationSet + " because its template data lacked a variable. The email-events notifications name the template and the variable; fix the sender.",
			namespace: "AWS/SES", metric: "RenderingFailure", dims: pulumi.StringMap{a.EmailMetricDimension: pulumi.String(a.ConfigurationSet)},
			stat: "Sum", period: 300, periods: 1, comparison: above, threshold: 0, missing: missingIsZero},
		alarm{what: "cdn-5xx-rate", meaning: fmt.Sprintf("More than %d%% of CloudFront's responses to users are errors (5xx) for 10 minutes: the API origin or the app bucket fails.", cdn5xxRateAlarmPercent),
			namespace: "AWS/CloudFront", metric: "5xxErrorRate", dims: pulumi.StringMap{"DistributionId": a.DistributionID, "Region": pulumi.String("Global")},
			stat: "Average", period: 300, periods: 2, comparison: above, threshold: cdn5xxRateAlarmPercent, missing: missingIsZero, global: true},
	)
	return append(list, b.recoveryAlarms()...), nil
}

// dbConnectionsThreshold is pct% of the class's default max_connections, in whole connections.
func dbConnectionsThreshold(c settings.InstanceClass, pct int) int {
	return c.MaxConnections() * pct / 100
}

// alarms creates every alarm; each notifies its region's topic on ALARM and back to OK.
func (b *builder) alarms() error {
	specs, err := b.specs()
	if err != nil {
		return err
	}
	for _, al := range specs {
		t := b.main
		if al.global {
			t = b.global
		}
		name := b.a.Env.Name(al.what)
		args := &cloudwatch.MetricAlarmArgs{
			Name:               pulumi.String(name),
			AlarmDescription:   pulumi.String(al.meaning + " Runbook: docs/monitoring.md"),
			Namespace:          pulumi.String(al.namespace),
			MetricName:         pulumi.String(al.metric),
			Dimensions:         al.dims,
			Period:             pulumi.Int(al.period),
			EvaluationPeriods:  pulumi.Int(al.periods),
			DatapointsToAlarm:  pulumi.Int(al.periods),
			ComparisonOperator: pulumi.String(al.comparison),
			Threshold:          pulumi.Float64(al.threshold),
			TreatMissingData:   pulumi.String(al.missing),
			// CloudWatch.15 and CloudWatch.17: actions configured and enabled. OK is notified
			// too, so whoever took the alarm knows when it is over.
			ActionsEnabled: pulumi.Bool(true),
			AlarmActions:   pulumi.Array{t.arn},
			OkActions:      pulumi.Array{t.arn},
		}
		if strings.HasPrefix(al.stat, "p") {
			args.ExtendedStatistic = pulumi.String(al.stat)
			// A percentile of a handful of night-time requests is noise: keep the state.
			args.EvaluateLowSampleCountPercentiles = pulumi.String("ignore")
		} else {
			args.Statistic = pulumi.String(al.stat)
		}
		res, err := cloudwatch.NewMetricAlarm(b.ctx, name, args, t.opts...)
		if err != nil {
			return err
		}
		b.alarmArns[t] = append(b.alarmArns[t], res.Arn)
		b.m.AlarmNames = append(b.m.AlarmNames, name)
	}
	return b.sleep(specs)
}

// sleep silences the stack's alarms while a sleeping stack is asleep: their actions are
// disabled after office hours and enabled 20 minutes after the start, once the database and
// the instances are up (the transitions back to OK notify nobody). The one alarm in us-east-1
// (CloudFront) keeps its actions where the stack's region is another.
func (b *builder) sleep(specs []alarm) error {
	e := b.a.Env
	var names []string
	for _, al := range specs {
		if !al.global || e.Region == "us-east-1" {
			names = append(names, e.Name(al.what))
		}
	}
	resource := fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s-*", e.Region, e.AccountID, e.Prefix)
	input := map[string]any{"AlarmNames": names}
	return offhours.New(b.ctx, offhours.Args{
		Env: e, Office: b.a.Office, Thing: "alarms",
		Sleep:             offhours.Call{Service: "cloudwatch", Action: "disableAlarmActions", Permission: "cloudwatch:DisableAlarmActions", Resource: resource, Input: input},
		Wake:              offhours.Call{Service: "cloudwatch", Action: "enableAlarmActions", Permission: "cloudwatch:EnableAlarmActions", Resource: resource, Input: input},
		WakeOffsetMinutes: 20,
	}, b.m)
}

// dbCPU is an instance's CPU alarm; who names it in the message ("The database").
func dbCPU(what, who, id string) alarm {
	return alarm{what: what, meaning: fmt.Sprintf("%s averages more than %d%% CPU for 15 minutes: look at Performance Insights' top statements.", who, dbCPUAlarmPercent),
		namespace: "AWS/RDS", metric: "CPUUtilization", dims: db(id), stat: "Average", period: 300, periods: 3,
		comparison: above, threshold: dbCPUAlarmPercent, missing: missingIsUnknown}
}

// dbStorage is an instance's free-storage alarm, a share of its allocated storage.
func dbStorage(what, who, id string, allocatedGb int) alarm {
	return alarm{what: what, meaning: fmt.Sprintf("%s has less than %d%% of its %d GB free for 30 minutes: storage autoscaling did not grow it.", who, int(dbFreeStorageShare*100), allocatedGb),
		namespace: "AWS/RDS", metric: "FreeStorageSpace", dims: db(id), stat: "Minimum", period: 300, periods: 6,
		comparison: below, threshold: math.Round(float64(allocatedGb) * gib * dbFreeStorageShare), missing: missingIsUnknown}
}

// db are the dimensions of an RDS instance's metrics.
func db(id string) pulumi.StringMap {
	return pulumi.StringMap{"DBInstanceIdentifier": pulumi.String(id)}
}
