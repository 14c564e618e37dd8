package diagram

import (
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
)

func resource(typ, name string, inputs map[string]any, parent string) *offline.Resource {
	return &offline.Resource{Type: typ, Name: name, URN: "urn:" + name, Parent: parent, Custom: !strings.HasPrefix(typ, "canalco:"), Inputs: inputs,
		Outputs: map[string]any{"id": name, "arn": "arn:" + name}}
}

// A small stack: CloudFront in front of an ALB that admits only CloudFront, the backend behind
// it reaching the database, a queue feeding a function, and an alarm notifying a topic.
func small() *offline.Result {
	in := func(name, sg string, port float64, peer map[string]any) *offline.Resource {
		inputs := map[string]any{"securityGroupId": sg, "fromPort": port, "toPort": port}
		for k, v := range peer {
			inputs[k] = v
		}
		return resource("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", name, inputs, "")
	}
	return &offline.Result{Config: &offline.Config{Project: "canalco", Stack: "dev"}, Resources: []*offline.Resource{
		resource("canalco:monitoring:Monitoring", "canalco-dev", nil, ""),
		resource("aws:ec2/vpc:Vpc", "canalco-dev-vpc", map[string]any{"cidrBlock": "10.2.0.0/16"}, ""),
		resource("aws:cloudfront/distribution:Distribution", "canalco-dev-cdn", map[string]any{"origins": []any{
			map[string]any{"domainName": "canalco-dev-frontend.s3.us-east-1.amazonaws.com"}}}, ""),
		&offline.Resource{Type: "aws:s3/bucketV2:BucketV2", Name: "canalco-dev-frontend-123456789012-us-east-1", Custom: true, URN: "urn:b",
			Inputs:  map[string]any{"bucket": "canalco-dev-frontend-123456789012-us-east-1"},
			Outputs: map[string]any{"bucketRegionalDomainName": "canalco-dev-frontend.s3.us-east-1.amazonaws.com"}},
		resource("aws:lb/loadBalancer:LoadBalancer", "canalco-dev-alb", map[string]any{"securityGroups": []any{"sg-alb"}}, ""),
		resource("aws:ec2/launchTemplate:LaunchTemplate", "canalco-dev-backend", map[string]any{"vpcSecurityGroupIds": []any{"sg-backend"}}, ""),
		resource("aws:autoscaling/group:Group", "canalco-dev-backend", map[string]any{"launchTemplate": map[string]any{"id": "canalco-dev-backend"}}, ""),
		resource("aws:rds/instance:Instance", "canalco-dev-postgres", map[string]any{"identifier": "canalco-dev-postgres", "vpcSecurityGroupIds": []any{"sg-rds"}}, ""),
		in("alb-in", "sg-alb", 80, map[string]any{"prefixListId": "pl-cloudfront"}),
		in("backend-in", "sg-backend", 8000, map[string]any{"referencedSecurityGroupId": "sg-alb"}),
		in("rds-in", "sg-rds", 5432, map[string]any{"referencedSecurityGroupId": "sg-backend"}),
		resource("aws:sqs/queue:Queue", "canalco-dev-audit", map[string]any{"name": "canalco-dev-audit"}, ""),
		resource("aws:lambda/function:Function", "canalco-dev-audit", map[string]any{"name": "canalco-dev-audit"}, ""),
		resource("aws:lambda/eventSourceMapping:EventSourceMapping", "canalco-dev-audit", map[string]any{"eventSourceArn": "arn:canalco-dev-audit", "functionName": "canalco-dev-audit"}, ""),
		resource("aws:sns/topic:Topic", "canalco-dev-alarms", map[string]any{"name": "canalco-dev-alarms"}, "urn:canalco-dev"),
		resource("aws:cloudwatch/metricAlarm:MetricAlarm", "canalco-dev-cpu", map[string]any{"alarmActions": []any{"arn:canalco-dev-alarms"}}, ""),
	}}
}

func TestSmallStack(t *testing.T) {
	got := Mermaid(small())
	for _, want := range []string{
		"flowchart LR",
		`subgraph vpc ["VPC 10.2.0.0/16"]`,
		`cloudfront_cdn -- ":80 CloudFront only" --> alb_alb`,
		`alb_alb -- ":8000" --> ec2_auto_scaling_backend`,
		`ec2_auto_scaling_backend -- ":5432" --> rds_postgresql_postgres`,
		`cloudfront_cdn -- "origin" --> s3_frontend`,
		`sqs_audit -- "triggers" --> lambda_audit`,
		`alarms -- "notifies" --> sns_alarms`,
		`users -- "HTTPS" --> cloudfront_cdn`,
		`alarms["CloudWatch<br/>1 alarms"]`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("diagram lacks %s\n%s", want, got)
		}
	}
	// The alarm topic sits with the alarms, not with the application's topics.
	obs := got[strings.Index(got, `subgraph observability`):]
	if !strings.Contains(obs[:strings.Index(obs, "end")], "sns_alarms") {
		t.Errorf("the monitoring topic is not in the observability tier:\n%s", got)
	}
	if Mermaid(small()) != got {
		t.Error("two renderings differ")
	}
}

// The real stacks: every tier the seed draws is there, with the seed's security-group paths.
func TestRealStacks(t *testing.T) {
	for _, name := range offline.Stacks {
		doc := Document(offline.Stack(t, name))
		for _, want := range []string{"```mermaid", "CloudFront<br/>cdn", "ALB<br/>alb", "RDS PostgreSQL", "EC2 Auto Scaling", "Lambda<br/>", "S3<br/>frontend",
			`-- ":8000" --> ec2_auto_scaling_backend`, `ec2_auto_scaling_backend -- ":5432" --> rds_postgresql_postgres`, "NAT gateway"} {
			if !strings.Contains(doc, want) {
				t.Errorf("%s diagram lacks %s", name, want)
			}
		}
	}
}
