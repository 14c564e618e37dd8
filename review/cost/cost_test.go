package cost

import (
	"math"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/review/graph"
	"github.com/canalco/infra/review/stack"
	"github.com/canalco/infra/settings"
)

func res(typ, name string, inputs map[string]any) *offline.Resource {
	return &offline.Resource{Type: typ, Name: name, Custom: true, URN: "urn:" + typ + "::" + name, Inputs: inputs,
		Outputs: map[string]any{"id": name, "arn": "arn:aws:test:::" + name}}
}

// item returns the monthly figure of the first item of the service whose resource starts with name.
func item(t *testing.T, e *Estimate, service, name string) float64 {
	t.Helper()
	for _, it := range e.Items {
		if it.Service == service && strings.HasPrefix(it.Resource, name) {
			return it.Monthly
		}
	}
	t.Fatalf("no %s item for %s in %+v", service, name, e.Items)
	return 0
}

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 0.005 {
		t.Errorf("%s = %.2f, want %.2f", what, got, want)
	}
}

func profile(env settings.Environment) *settings.Settings {
	s := settings.Profile(env, "us-east-1")
	s.Usage = settings.Usage{S3StorageGb: 100, CdnTransferGb: 1000, Emails: 10000, LambdaRequests: 1000000, NatTransferGb: 10, LogsIngestedGb: 10,
		AuditEventsPerDay: 10000}
	return s
}

func TestHandComputedItems(t *testing.T) {
	lt := res("aws:ec2/launchTemplate:LaunchTemplate", "lt", map[string]any{"instanceType": "t3.medium",
		"blockDeviceMappings": []any{map[string]any{"ebs": map[string]any{"volumeSize": 30.0}}}})
	plan := &offline.Result{Resources: []*offline.Resource{
		res("aws:ec2/natGateway:NatGateway", "nat-a", map[string]any{}),
		res("aws:ec2/eip:Eip", "eip-a", map[string]any{}),
		res("aws:rds/instance:Instance", "db", map[string]any{"instanceClass": "db.t4g.medium", "multiAz": true, "allocatedStorage": 50.0}),
		res("aws:rds/instance:Instance", "replica", map[string]any{"instanceClass": "db.t4g.small", "replicateSourceDb": "db"}),
		lt,
		res("aws:autoscaling/group:Group", "asg", map[string]any{"minSize": 2.0, "launchTemplate": map[string]any{"id": "lt"}}),
		res("aws:lb/loadBalancer:LoadBalancer", "alb", map[string]any{"subnets": []any{"a", "b"}}),
		res("aws:cloudfront/distribution:Distribution", "cdn", map[string]any{}),
		res("aws:lambda/function:Function", "fn", map[string]any{"memorySize": 256.0}),
		res("aws:secretsmanager/secret:Secret", "smtp", map[string]any{}),
		res("aws:secretsmanager/secret:Secret", "postgres-master", map[string]any{}),
	}}
	for i := 0; i < 12; i++ {
		plan.Resources = append(plan.Resources, res("aws:cloudwatch/metricAlarm:MetricAlarm", "alarm"+string(rune('a'+i)), map[string]any{"namespace": "AWS/EC2"}))
	}
	e := estimate(newIndex(plan), profile(settings.Prod), knobs{})

	near(t, "one NAT: 730 h × 0.045 + 10 GB × 0.045", item(t, e, "VPC", "nat-a"), 0.045*730+10*0.045)
	near(t, "its public IPv4", item(t, e, "VPC", "eip-a address"), 0.005*730)
	near(t, "Multi-AZ db.t4g.medium doubles", item(t, e, "RDS", "db"), 0.065*730*2)
	near(t, "Multi-AZ gp3 storage", item(t, e, "RDS", "db storage"), 50*0.23)
	near(t, "single-AZ replica on the source's storage", item(t, e, "RDS", "replica storage"), 50*0.115)
	near(t, "2 × t3.medium at the minimum size", item(t, e, "EC2", "asg"), 2*0.0416*730)
	near(t, "2 × 30 GB root volumes", item(t, e, "EBS", "asg"), 2*30*0.08)
	near(t, "ALB with a public IPv4 per AZ", item(t, e, "ELB", "alb"), 0.0225*730+0.008*730+2*0.005*730)
	near(t, "CloudFront: 1 TB free, 20M requests with 10M free", item(t, e, "CloudFront", "cdn"), 10e6/10000*0.01)
	near(t, "Lambda within its free tier", item(t, e, "Lambda", "1 functions"), 0)
	near(t, "12 alarms, 10 free", item(t, e, "CloudWatch", "alarms"), 2*0.10)
	near(t, "a secret and the RDS-managed one", item(t, e, "Secrets Manager", "2 secrets"), 2*0.40)
	near(t, "logs: 5 GB free, a year stored", item(t, e, "CloudWatch", "logs"), 5*0.50+10*365.0/30*0.03)
	// 10,000 events a day in 8,640 batch windows: 259.2k objects a month, read back once, plus
	// 30 day objects; a year of events at 100 bytes is 0.365 GB.
	near(t, "audit log", item(t, e, "S3", "audit log"), 259.23*0.005+259.2*0.0004+0.365*0.023)
}

func TestCheapestKeepsTheSeedOutsideDev(t *testing.T) {
	plan := &offline.Result{Resources: []*offline.Resource{
		res("aws:ec2/natGateway:NatGateway", "nat-a", map[string]any{}),
		res("aws:ec2/natGateway:NatGateway", "nat-b", map[string]any{}),
		res("aws:rds/instance:Instance", "db", map[string]any{"instanceClass": "db.m7g.large", "multiAz": true, "allocatedStorage": 500.0}),
	}}
	for _, c := range []struct {
		env       settings.Environment
		nats      int
		multiAZ   bool
		wantClass string
	}{{settings.Prod, 2, true, "db.t4g.small"}, {settings.Dev, 1, false, "db.t4g.small"}} {
		s := profile(c.env)
		s.Monitoring.MonthlyBudgetUsd = 100
		e := Of(plan, s)
		if e.Met() || e.Cheapest == nil || e.Cheapest.Total >= e.Total {
			t.Fatalf("%s: %.2f over a $100 goal without a cheaper alternative: %+v", c.env, e.Total, e.Cheapest)
		}
		alt := estimate(newIndex(plan), s, cheapest(s))
		if n := strings.Count(strings.Join(alt.changes, "\n"), "natPerAz false"); (n == 0) != (c.nats == 2) {
			t.Errorf("%s: NAT change %v, want %d NAT gateways", c.env, alt.changes, c.nats)
		}
		if got := item(t, alt, "RDS", "db storage"); (got == 500*0.23) != c.multiAZ {
			t.Errorf("%s: storage %.2f, Multi-AZ kept: %v", c.env, got, c.multiAZ)
		}
		if !strings.Contains(strings.Join(e.Cheapest.Changes, "\n"), c.wantClass) {
			t.Errorf("%s: changes %v, want %s", c.env, e.Cheapest.Changes, c.wantClass)
		}
	}
}

func TestDevGoalIsStrict(t *testing.T) {
	e := &Estimate{Total: 90, Goal: 90, Env: settings.Dev}
	if e.Met() {
		t.Error("dev at exactly its goal counts as under it")
	}
	e.Env = settings.Prod
	if !e.Met() {
		t.Error("prod at exactly its goal counts as over it")
	}
}

// The real stacks: the seed's fixed costs are all priced, and prod pays for what dev does not.
func TestStackTotals(t *testing.T) {
	totals := map[string]float64{}
	for _, name := range offline.Stacks {
		res, s := stack.ForTest(t, name)
		e := Of(res, s)
		totals[name] = e.Total
		t.Logf("%s: $%.2f / month (goal $%.0f, met: %v)", name, e.Total, e.Goal, e.Met())
		for _, it := range e.Items {
			if strings.Contains(it.Detail, "no price") || strings.Contains(it.Detail, "not priced") {
				t.Errorf("%s: %s %s is not priced: %s", name, it.Service, it.Resource, it.Detail)
			}
		}
		if nats := len(res.OfType("aws:ec2/natGateway:NatGateway")); nats > 0 && item(t, e, "VPC", res.OfType("aws:ec2/natGateway:NatGateway")[0].Name) < NATHour*HoursPerMonth {
			t.Errorf("%s: a NAT gateway costs less than its hours", name)
		}
	}
	if totals["prod"] <= totals["dev"] {
		t.Errorf("prod $%.2f is not above dev $%.2f", totals["prod"], totals["dev"])
	}
}

func newIndex(res *offline.Result) *graph.Index { return graph.New(res) }
