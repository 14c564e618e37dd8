package monitoring

import (
	"encoding/json"
	"fmt"

	"github.com/canalco/infra/settings"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// BusinessNamespace holds the business metrics the backend and the functions emit (in
// CloudWatch Embedded Metric Format), each with the dimension Environment=<environment>.
const BusinessNamespace = "Canalco/Business"

// BusinessMetrics are the business metric names, in the order the dashboard shows them;
// docs/monitoring.md documents who emits each.
var BusinessMetrics = []string{
	"RequisitionsCreated", "ApprovalsRequested", "OrdersConfirmed", "EmailsSent",
	"AuditEventsWritten", "ReportsGenerated", "ObjectsCleaned",
}

// Dashboard layout: CloudWatch's grid is 24 units wide.
const (
	gridWidth   = 24
	graphWidth  = 12
	graphHeight = 6
	// maxAlarmsPerWidget is CloudWatch's limit for an alarm-status widget.
	maxAlarmsPerWidget = 100
)

// widget is one element of a dashboard body.
type widget struct {
	Type       string         `json:"type"`
	X          int            `json:"x"`
	Y          int            `json:"y"`
	Width      int            `json:"width"`
	Height     int            `json:"height"`
	Properties map[string]any `json:"properties"`
}

// refs are the values a dashboard needs that exist only once other resources do.
type refs struct {
	alb, targetGroup, distribution string
	// alarms are the ARNs of the alarms in the stack's region; globalAlarms those in
	// us-east-1 when that is another region.
	alarms, globalAlarms []string
}

// boards are the dashboards: canalco-<stack>-<name>.
var boards = []struct {
	name    string
	widgets func(a *MonitoringArgs, r refs) []widget
}{
	{"overview", overview},
	{"business", business},
	{"services", services},
	{"costs", costs},
}

// dashboards creates the four dashboards once the load balancer, distribution and alarms exist.
func (b *builder) dashboards() error {
	inputs := []any{b.a.AlbArnSuffix, b.a.TargetGroupArnSuffix, b.a.DistributionID}
	main, global := b.alarmArns[b.main], []pulumi.StringOutput(nil)
	if b.global != b.main {
		global = b.alarmArns[b.global]
	}
	for _, arn := range append(append([]pulumi.StringOutput{}, main...), global...) {
		inputs = append(inputs, arn)
	}
	resolved := pulumi.All(inputs...)
	for _, board := range boards {
		widgets := board.widgets
		body := resolved.ApplyT(func(v []any) (string, error) {
			r := refs{alb: v[0].(string), targetGroup: v[1].(string), distribution: v[2].(string)}
			for i, arn := range v[3:] {
				if i < len(main) {
					r.alarms = append(r.alarms, arn.(string))
				} else {
					r.globalAlarms = append(r.globalAlarms, arn.(string))
				}
			}
			return render(widgets(b.a, r))
		}).(pulumi.StringOutput)
		name := b.a.Env.Name(board.name)
		if _, err := cloudwatch.NewDashboard(b.ctx, name, &cloudwatch.DashboardArgs{
			DashboardName: pulumi.String(name),
			DashboardBody: body,
		}, b.child()...); err != nil {
			return err
		}
		b.m.DashboardNames = append(b.m.DashboardNames, name)
	}
	return nil
}

// render lays the widgets out left to right, top to bottom, and encodes the body.
func render(widgets []widget) (string, error) {
	x, y, rowHeight := 0, 0, 0
	for i := range widgets {
		w := &widgets[i]
		if x+w.Width > gridWidth {
			x, y, rowHeight = 0, y+rowHeight, 0
		}
		w.X, w.Y = x, y
		x += w.Width
		rowHeight = max(rowHeight, w.Height)
	}
	body, err := json.Marshal(map[string]any{"widgets": widgets})
	if err != nil {
		return "", fmt.Errorf("dashboard body: %w", err)
	}
	return string(body), nil
}

// metric is a line of a graph: namespace, name, then dimension name and value pairs.
func metric(namespace, name string, dims ...string) []any {
	line := []any{namespace, name}
	for _, d := range dims {
		line = append(line, d)
	}
	return line
}

// with adds rendering options (stat, label, yAxis) to a metric line.
func with(line []any, options map[string]any) []any {
	return append(line, options)
}

// graph is a time-series widget.
func graph(title, region, stat string, period int, lines ...[]any) widget {
	return widget{Type: "metric", Width: graphWidth, Height: graphHeight, Properties: map[string]any{
		"title": title, "region": region, "view": "timeSeries", "stacked": false,
		"stat": stat, "period": period, "metrics": lines,
	}}
}

// marked adds horizontal lines (alarm thresholds, targets) to a graph.
func marked(w widget, lines ...map[string]any) widget {
	w.Properties["annotations"] = map[string]any{"horizontal": lines}
	return w
}

func line(label string, value float64) map[string]any {
	return map[string]any{"label": label, "value": value}
}

func text(markdown string) widget {
	return widget{Type: "text", Width: gridWidth, Height: 2, Properties: map[string]any{"markdown": markdown}}
}

// alarmStatus lists alarms by state, split to respect the per-widget limit.
func alarmStatus(title string, arns []string) []widget {
	var out []widget
	for start := 0; start < len(arns); start += maxAlarmsPerWidget {
		out = append(out, widget{Type: "alarm", Width: gridWidth, Height: graphHeight, Properties: map[string]any{
			"title": title, "alarms": arns[start:min(start+maxAlarmsPerWidget, len(arns))], "sortBy": "stateUpdatedTimestamp",
		}})
	}
	return out
}

func allAlarms(a *MonitoringArgs, r refs) []widget {
	return append(alarmStatus("Alarms ("+a.Env.Region+")", r.alarms), alarmStatus("Alarms ("+globalRegion+": CloudFront)", r.globalAlarms)...)
}

// databases are the instances the dashboards graph: the primary and the replica, if any.
func databases(a *MonitoringArgs) []string {
	if a.ReplicaID == "" {
		return []string{a.DatabaseID}
	}
	return []string{a.DatabaseID, a.ReplicaID}
}

// perDatabase is a metric of each instance, labelled with its identifier.
func perDatabase(a *MonitoringArgs, name string) [][]any {
	var out [][]any
	for _, id := range databases(a) {
		out = append(out, with(metric("AWS/RDS", name, "DBInstanceIdentifier", id), map[string]any{"label": id}))
	}
	return out
}

func overview(a *MonitoringArgs, r refs) []widget {
	s, region := a.Settings, a.Env.Region
	class := settings.InstanceClasses[a.InstanceClass]
	lb := func(name string) []any { return metric("AWS/ApplicationELB", name, "LoadBalancer", r.alb) }
	targets := func(name string) []any {
		return metric("AWS/ApplicationELB", name, "TargetGroup", r.targetGroup, "LoadBalancer", r.alb)
	}
	asg := func(namespace, name string) []any { return metric(namespace, name, "AutoScalingGroupName", a.AsgName) }
	cdn := func(name string) []any {
		return metric("AWS/CloudFront", name, "DistributionId", r.distribution, "Region", "Global")
	}
	ws := allAlarms(a, r)
	ws = append(ws,
		graph("API requests", region, "Sum", 300, lb("RequestCount")),
		marked(graph("API response time (s)", region, "p95", 300,
			with(lb("TargetResponseTime"), map[string]any{"stat": "p50", "label": "p50"}),
			with(lb("TargetResponseTime"), map[string]any{"stat": "p95", "label": "p95"})),
			line("p95 alarm", float64(s.LatencyP95AlarmMs)/1000)),
		marked(graph("API errors (per 5 minutes)", region, "Sum", 300,
			lb("HTTPCode_ELB_5XX_Count"), lb("HTTPCode_Target_5XX_Count"), lb("HTTPCode_Target_4XX_Count")),
			line("5xx alarm", float64(s.HTTP5xxAlarmCount))),
		marked(graph("Backend CPU (%)", region, "Average", 300,
			with(asg("AWS/EC2", "CPUUtilization"), map[string]any{"stat": "Average", "label": "average"}),
			with(asg("AWS/EC2", "CPUUtilization"), map[string]any{"stat": "Maximum", "label": "busiest instance"})),
			line("scale-out target", float64(a.CPUTargetPercent)), line("alarm", float64(s.CPUAlarmPercent))),
		graph("Backend instances behind the load balancer", region, "Minimum", 60,
			with(targets("HealthyHostCount"), map[string]any{"stat": "Minimum", "label": "healthy"}),
			with(targets("UnHealthyHostCount"), map[string]any{"stat": "Maximum", "label": "unhealthy"})),
		marked(graph("Backend memory and disk used (%)", region, "Maximum", 300,
			asg("CWAgent", "mem_used_percent"),
			metric("CWAgent", "disk_used_percent", "AutoScalingGroupName", a.AsgName, "path", rootPath, "fstype", rootFsType)),
			line("disk alarm", float64(s.DiskUsedAlarmPercent)), line("memory alarm", memoryUsedAlarmPercent)),
		marked(graph("Database CPU (%)", region, "Average", 300, perDatabase(a, "CPUUtilization")...),
			line("alarm", dbCPUAlarmPercent)),
		marked(graph("Database connections", region, "Maximum", 300, perDatabase(a, "DatabaseConnections")...),
			line("alarm", float64(dbConnectionsThreshold(class, s.DBConnectionsAlarmPercent))), line("max_connections", float64(class.MaxConnections()))),
		graph("Database free storage and memory (bytes)", region, "Minimum", 300,
			append(perDatabase(a, "FreeStorageSpace"), perDatabase(a, "FreeableMemory")...)...),
		graph("CloudFront requests", globalRegion, "Sum", 300, cdn("Requests")),
		marked(graph("CloudFront error rate (%)", globalRegion, "Average", 300, cdn("4xxErrorRate"), cdn("5xxErrorRate")),
			line("5xx alarm", cdn5xxRateAlarmPercent)),
	)
	if a.ReplicaID != "" {
		ws = append(ws, marked(graph("Read replica lag (s)", region, "Maximum", 300,
			with(metric("AWS/RDS", "ReplicaLag", "DBInstanceIdentifier", a.ReplicaID), map[string]any{"label": a.ReplicaID})),
			line("alarm", replicaLagAlarmSeconds)))
	}
	return append(ws, recovery(a)...)
}

func business(a *MonitoringArgs, _ refs) []widget {
	env := string(a.Env.Environment)
	var totals [][]any
	ws := []widget{text(fmt.Sprintf("Business metrics of **%s**, namespace `%s`, dimension `Environment=%s`. "+
		"Emitted in CloudWatch Embedded Metric Format by the backend and the functions (docs/monitoring.md).", env, BusinessNamespace, env))}
	for _, name := range BusinessMetrics {
		totals = append(totals, metric(BusinessNamespace, name, "Environment", env))
	}
	ws = append(ws, widget{Type: "metric", Width: gridWidth, Height: 4, Properties: map[string]any{
		"title": "Totals over the selected period", "region": a.Env.Region, "view": "singleValue",
		"stat": "Sum", "period": 3600, "setPeriodToTimeRange": true, "metrics": totals,
	}})
	for _, m := range totals {
		ws = append(ws, graph(m[1].(string)+" per hour", a.Env.Region, "Sum", 3600, m))
	}
	return ws
}

func services(a *MonitoringArgs, r refs) []widget {
	region := a.Env.Region
	ws := allAlarms(a, r)
	for _, fn := range a.FunctionNames {
		f := func(name string) []any { return metric("AWS/Lambda", name, "FunctionName", fn) }
		ws = append(ws, graph("Function "+fn, region, "Sum", 300,
			f("Invocations"), f("Errors"), f("Throttles"),
			with(f("Duration"), map[string]any{"stat": "p95", "label": "Duration p95 (ms)", "yAxis": "right"})))
	}
	for _, q := range a.QueueNames {
		f := func(name string) []any { return metric("AWS/SQS", name, "QueueName", q) }
		ws = append(ws, graph("Queue "+q, region, "Maximum", 300,
			with(f("ApproximateNumberOfMessagesVisible"), map[string]any{"label": "messages waiting"}),
			with(f("ApproximateAgeOfOldestMessage"), map[string]any{"label": "oldest message (s)", "yAxis": "right"})))
	}
	for _, q := range a.DeadLetterQueueNames {
		ws = append(ws, marked(graph("Dead-letter queue "+q, region, "Maximum", 300,
			metric("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q)), line("alarm", 0)))
	}
	ses := func(name string) []any { return metric("AWS/SES", name) }
	return append(ws,
		// The configuration set sends its events to SNS, not CloudWatch: the account's figures.
		graph("Email, whole SES account (this stack sends through "+a.ConfigurationSet+")", region, "Sum", 3600, ses("Send"), ses("Delivery"), ses("Bounce"), ses("Complaint")),
		marked(graph("Email reputation (SES, whole account)", region, "Maximum", 900, ses("Reputation.BounceRate"), ses("Reputation.ComplaintRate")),
			line("bounce alarm", sesBounceRateAlarm), line("complaint alarm", sesComplaintRateAlarm)),
	)
}

func costs(a *MonitoringArgs, r refs) []widget {
	s, budget := a.Settings, a.Env.Name("monthly")
	day := 86400
	ws := []widget{text(fmt.Sprintf("Costs of the **whole account** (billing metrics need *Receive CloudWatch billing alerts* turned on once in the payer account). "+
		"The budget `%s` (USD %d a month) counts only this environment's resources. See docs/monitoring.md.", budget, s.MonthlyBudgetUsd))}
	ws = append(ws,
		marked(graph("Estimated charges this month (USD)", globalRegion, "Maximum", 21600,
			metric("AWS/Billing", "EstimatedCharges", "Currency", "USD")), line("monthly budget", float64(s.MonthlyBudgetUsd))),
		graph("Estimated charges by service (USD)", globalRegion, "Maximum", 21600,
			[]any{map[string]any{"id": "services", "label": "", "expression": `SEARCH('{AWS/Billing,Currency,ServiceName} MetricName="EstimatedCharges" Currency="USD"', 'Maximum', 21600)`}}),
		// NAT gateway IDs are not known before deployment: the search shows the account's.
		graph("NAT gateways: bytes out per day (account)", a.Env.Region, "Sum", day,
			[]any{map[string]any{"id": "nat", "label": "", "expression": fmt.Sprintf(`SEARCH('{AWS/NATGateway,NatGatewayId} MetricName="BytesOutToDestination"', 'Sum', %d)`, day)}}),
		graph("CloudFront: bytes served per day", globalRegion, "Sum", day,
			metric("AWS/CloudFront", "BytesDownloaded", "DistributionId", r.distribution, "Region", "Global")),
	)
	var invocations [][]any
	for _, fn := range a.FunctionNames {
		invocations = append(invocations, metric("AWS/Lambda", "Invocations", "FunctionName", fn))
	}
	if len(invocations) > 0 {
		ws = append(ws, graph("Lambda invocations per day", a.Env.Region, "Sum", day, invocations...))
	}
	return ws
}
