package offline_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// apiParams maps a resource input to the API request member the provider sends it as:
// service, operation and the member's path in the operation's input (dots for nested
// structures). The models' min, max, pattern and enum rules are AWS's own.
var apiParams = []struct{ typ, input, service, op, member string }{
	{"aws:iam/role:Role", "name", "iam", "CreateRole", "RoleName"},
	{"aws:iam/role:Role", "description", "iam", "CreateRole", "Description"},
	{"aws:iam/role:Role", "maxSessionDuration", "iam", "CreateRole", "MaxSessionDuration"},
	{"aws:iam/policy:Policy", "name", "iam", "CreatePolicy", "PolicyName"},
	{"aws:iam/policy:Policy", "description", "iam", "CreatePolicy", "Description"},
	{"aws:iam/instanceProfile:InstanceProfile", "name", "iam", "CreateInstanceProfile", "InstanceProfileName"},
	{"aws:iam/rolePolicy:RolePolicy", "name", "iam", "PutRolePolicy", "PolicyName"},
	{"aws:iam/group:Group", "name", "iam", "CreateGroup", "GroupName"},
	{"aws:iam/openIdConnectProvider:OpenIdConnectProvider", "url", "iam", "CreateOpenIDConnectProvider", "Url"},
	{"aws:iam/openIdConnectProvider:OpenIdConnectProvider", "clientIdLists", "iam", "CreateOpenIDConnectProvider", "ClientIDList"},
	{"aws:lb/loadBalancer:LoadBalancer", "loadBalancerType", "elbv2", "CreateLoadBalancer", "Type"},
	{"aws:lb/loadBalancer:LoadBalancer", "ipAddressType", "elbv2", "CreateLoadBalancer", "IpAddressType"},
	{"aws:lb/targetGroup:TargetGroup", "port", "elbv2", "CreateTargetGroup", "Port"},
	{"aws:lb/targetGroup:TargetGroup", "protocol", "elbv2", "CreateTargetGroup", "Protocol"},
	{"aws:lb/targetGroup:TargetGroup", "targetType", "elbv2", "CreateTargetGroup", "TargetType"},
	{"aws:lb/targetGroup:TargetGroup", "healthCheck.protocol", "elbv2", "CreateTargetGroup", "HealthCheckProtocol"},
	{"aws:lb/targetGroup:TargetGroup", "healthCheck.path", "elbv2", "CreateTargetGroup", "HealthCheckPath"},
	{"aws:lb/targetGroup:TargetGroup", "healthCheck.interval", "elbv2", "CreateTargetGroup", "HealthCheckIntervalSeconds"},
	{"aws:lb/targetGroup:TargetGroup", "healthCheck.timeout", "elbv2", "CreateTargetGroup", "HealthCheckTimeoutSeconds"},
	{"aws:lb/targetGroup:TargetGroup", "healthCheck.healthyThreshold", "elbv2", "CreateTargetGroup", "HealthyThresholdCount"},
	{"aws:lb/targetGroup:TargetGroup", "healthCheck.unhealthyThreshold", "elbv2", "CreateTargetGroup", "UnhealthyThresholdCount"},
	{"aws:lb/listener:Listener", "port", "elbv2", "CreateListener", "Port"},
	{"aws:lb/listener:Listener", "protocol", "elbv2", "CreateListener", "Protocol"},
	{"aws:cloudwatch/logGroup:LogGroup", "name", "logs", "CreateLogGroup", "logGroupName"},
	{"aws:cloudwatch/logGroup:LogGroup", "kmsKeyId", "logs", "CreateLogGroup", "kmsKeyId"},
	{"aws:lambda/function:Function", "name", "lambda", "CreateFunction", "FunctionName"},
	// Not Runtime: Debian's 2022 model predates the python3.13 runtime, so its enum is stale.
	{"aws:lambda/function:Function", "handler", "lambda", "CreateFunction", "Handler"},
	{"aws:lambda/function:Function", "memorySize", "lambda", "CreateFunction", "MemorySize"},
	{"aws:lambda/function:Function", "timeout", "lambda", "CreateFunction", "Timeout"},
	{"aws:lambda/function:Function", "architectures", "lambda", "CreateFunction", "Architectures"},
	{"aws:lambda/function:Function", "description", "lambda", "CreateFunction", "Description"},
	{"aws:lambda/function:Function", "reservedConcurrentExecutions", "lambda", "PutFunctionConcurrency", "ReservedConcurrentExecutions"},
	{"aws:lambda/eventSourceMapping:EventSourceMapping", "batchSize", "lambda", "CreateEventSourceMapping", "BatchSize"},
	{"aws:lambda/eventSourceMapping:EventSourceMapping", "maximumBatchingWindowInSeconds", "lambda", "CreateEventSourceMapping", "MaximumBatchingWindowInSeconds"},
	{"aws:scheduler/schedule:Schedule", "name", "scheduler", "CreateSchedule", "Name"},
	{"aws:scheduler/schedule:Schedule", "scheduleExpression", "scheduler", "CreateSchedule", "ScheduleExpression"},
	{"aws:scheduler/schedule:Schedule", "scheduleExpressionTimezone", "scheduler", "CreateSchedule", "ScheduleExpressionTimezone"},
	{"aws:scheduler/schedule:Schedule", "flexibleTimeWindow.mode", "scheduler", "CreateSchedule", "FlexibleTimeWindow.Mode"},
	{"aws:scheduler/schedule:Schedule", "target.retryPolicy.maximumRetryAttempts", "scheduler", "CreateSchedule", "Target.RetryPolicy.MaximumRetryAttempts"},
	{"aws:scheduler/schedule:Schedule", "target.retryPolicy.maximumEventAgeInSeconds", "scheduler", "CreateSchedule", "Target.RetryPolicy.MaximumEventAgeInSeconds"},
	{"aws:scheduler/schedule:Schedule", "state", "scheduler", "CreateSchedule", "State"},
	{"aws:kms/alias:Alias", "name", "kms", "CreateAlias", "AliasName"},
	{"aws:kms/key:Key", "description", "kms", "CreateKey", "Description"},
	{"aws:kms/key:Key", "deletionWindowInDays", "kms", "ScheduleKeyDeletion", "PendingWindowInDays"},
	{"aws:cloudwatch/metricAlarm:MetricAlarm", "name", "cloudwatch", "PutMetricAlarm", "AlarmName"},
	{"aws:cloudwatch/metricAlarm:MetricAlarm", "alarmDescription", "cloudwatch", "PutMetricAlarm", "AlarmDescription"},
	{"aws:cloudwatch/metricAlarm:MetricAlarm", "comparisonOperator", "cloudwatch", "PutMetricAlarm", "ComparisonOperator"},
	{"aws:cloudwatch/metricAlarm:MetricAlarm", "statistic", "cloudwatch", "PutMetricAlarm", "Statistic"},
	{"aws:cloudwatch/metricAlarm:MetricAlarm", "namespace", "cloudwatch", "PutMetricAlarm", "Namespace"},
	{"aws:cloudwatch/metricAlarm:MetricAlarm", "metricName", "cloudwatch", "PutMetricAlarm", "MetricName"},
	{"aws:cloudwatch/metricAlarm:MetricAlarm", "period", "cloudwatch", "PutMetricAlarm", "Period"},
	{"aws:cloudwatch/metricAlarm:MetricAlarm", "evaluationPeriods", "cloudwatch", "PutMetricAlarm", "EvaluationPeriods"},
	{"aws:cloudwatch/metricAlarm:MetricAlarm", "datapointsToAlarm", "cloudwatch", "PutMetricAlarm", "DatapointsToAlarm"},
	{"aws:cloudwatch/metricAlarm:MetricAlarm", "treatMissingData", "cloudwatch", "PutMetricAlarm", "TreatMissingData"},
	{"aws:cloudwatch/dashboard:Dashboard", "dashboardName", "cloudwatch", "PutDashboard", "DashboardName"},
	{"aws:cloudwatch/eventRule:EventRule", "name", "events", "PutRule", "Name"},
	{"aws:cloudwatch/eventRule:EventRule", "description", "events", "PutRule", "Description"},
	{"aws:cloudwatch/eventRule:EventRule", "state", "events", "PutRule", "State"},
	{"aws:ec2/launchTemplate:LaunchTemplate", "name", "ec2", "CreateLaunchTemplate", "LaunchTemplateName"},
	{"aws:ec2/launchTemplate:LaunchTemplate", "description", "ec2", "CreateLaunchTemplate", "VersionDescription"},
	{"aws:ec2/flowLog:FlowLog", "trafficType", "ec2", "CreateFlowLogs", "TrafficType"},
	{"aws:ec2/flowLog:FlowLog", "logDestinationType", "ec2", "CreateFlowLogs", "LogDestinationType"},
	{"aws:ec2/flowLog:FlowLog", "maxAggregationInterval", "ec2", "CreateFlowLogs", "MaxAggregationInterval"},
	{"aws:ec2/vpcEndpoint:VpcEndpoint", "vpcEndpointType", "ec2", "CreateVpcEndpoint", "VpcEndpointType"},
	{"aws:autoscaling/group:Group", "name", "autoscaling", "CreateAutoScalingGroup", "AutoScalingGroupName"},
	{"aws:autoscaling/group:Group", "healthCheckType", "autoscaling", "CreateAutoScalingGroup", "HealthCheckType"},
	{"aws:autoscaling/group:Group", "minSize", "autoscaling", "CreateAutoScalingGroup", "MinSize"},
	{"aws:autoscaling/group:Group", "maxSize", "autoscaling", "CreateAutoScalingGroup", "MaxSize"},
	{"aws:autoscaling/policy:Policy", "name", "autoscaling", "PutScalingPolicy", "PolicyName"},
	{"aws:autoscaling/policy:Policy", "policyType", "autoscaling", "PutScalingPolicy", "PolicyType"},
	{"aws:ecr/repository:Repository", "name", "ecr", "CreateRepository", "repositoryName"},
	{"aws:ecr/repository:Repository", "imageTagMutability", "ecr", "CreateRepository", "imageTagMutability"},
	{"aws:wafv2/webAcl:WebAcl", "name", "wafv2", "CreateWebACL", "Name"},
	{"aws:wafv2/webAcl:WebAcl", "scope", "wafv2", "CreateWebACL", "Scope"},
	{"aws:wafv2/webAcl:WebAcl", "description", "wafv2", "CreateWebACL", "Description"},
	{"aws:budgets/budget:Budget", "name", "budgets", "CreateBudget", "Budget.BudgetName"},
	{"aws:budgets/budget:Budget", "budgetType", "budgets", "CreateBudget", "Budget.BudgetType"},
	{"aws:budgets/budget:Budget", "timeUnit", "budgets", "CreateBudget", "Budget.TimeUnit"},
	{"aws:backup/vault:Vault", "name", "backup", "CreateBackupVault", "BackupVaultName"},
	{"aws:backup/plan:Plan", "name", "backup", "CreateBackupPlan", "BackupPlan.BackupPlanName"},
	{"aws:backup/selection:Selection", "name", "backup", "CreateBackupSelection", "BackupSelection.SelectionName"},
	{"aws:sesv2/configurationSet:ConfigurationSet", "configurationSetName", "sesv2", "CreateConfigurationSet", "ConfigurationSetName"},
	{"aws:sesv2/emailIdentity:EmailIdentity", "emailIdentity", "sesv2", "CreateEmailIdentity", "EmailIdentity"},
	{"aws:cloudfront/distribution:Distribution", "priceClass", "cloudfront", "CreateDistribution", "DistributionConfig.PriceClass"},
	{"aws:cloudfront/distribution:Distribution", "httpVersion", "cloudfront", "CreateDistribution", "DistributionConfig.HttpVersion"},
	{"aws:ssm/parameter:Parameter", "name", "ssm", "PutParameter", "Name"},
	{"aws:ssm/parameter:Parameter", "type", "ssm", "PutParameter", "Type"},
	{"aws:ssm/parameter:Parameter", "tier", "ssm", "PutParameter", "Tier"},
	{"aws:ssm/parameter:Parameter", "description", "ssm", "PutParameter", "Description"},
	{"aws:rds/instance:Instance", "engine", "rds", "CreateDBInstance", "Engine"},
	{"aws:rds/instance:Instance", "storageType", "rds", "CreateDBInstance", "StorageType"},
}

// documented are the rules the models leave out, each from the AWS page named.
var documented = []struct {
	typ, input string
	max        int
	pattern    *regexp.Regexp
	page       string
}{
	{"aws:lb/loadBalancer:LoadBalancer", "name", 32, regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$`), "ELB API Reference, CreateLoadBalancer, Name"},
	{"aws:sqs/queue:Queue", "name", 80, regexp.MustCompile(`^[A-Za-z0-9_-]+(\.fifo)?$`), "SQS API Reference, CreateQueue, QueueName"},
	{"aws:sns/topic:Topic", "name", 256, regexp.MustCompile(`^[A-Za-z0-9_-]+(\.fifo)?$`), "SNS API Reference, CreateTopic, Name"},
	{"aws:s3/bucketV2:BucketV2", "bucket", 63, regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`), "S3 User Guide, General purpose bucket naming rules"},
	{"aws:ec2/securityGroup:SecurityGroup", "description", 255, regexp.MustCompile(`^[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]+$`), "EC2 API Reference, CreateSecurityGroup, GroupDescription (VPC)"},
	{"aws:ec2/securityGroup:SecurityGroup", "namePrefix", 255 - 26, regexp.MustCompile(`^[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]+$`), "EC2 API Reference, CreateSecurityGroup, GroupName (26 characters of suffix)"},
	{"aws:rds/instance:Instance", "identifier", 63, regexp.MustCompile(`^[a-z](-?[a-z0-9])*$`), "RDS User Guide, Naming constraints in Amazon RDS"},
	{"aws:rds/parameterGroup:ParameterGroup", "name", 255, regexp.MustCompile(`^[a-z](-?[a-z0-9])*$`), "RDS User Guide, Naming constraints in Amazon RDS (DB parameter group name)"},
	{"aws:rds/subnetGroup:SubnetGroup", "name", 255, regexp.MustCompile(`^[a-z0-9 ._-]+$`), "RDS API Reference, CreateDBSubnetGroup, DBSubnetGroupName"},
	{"aws:cloudfront/distribution:Distribution", "comment", 128, regexp.MustCompile(`^.*$`), "CloudFront API Reference, DistributionConfig, Comment"},
}

// memberShape follows a dotted member path from an operation's input.
func memberShape(m *offline.APIModel, op, path string) (*offline.APIShape, error) {
	o, ok := m.Operations[op]
	if !ok {
		return nil, fmt.Errorf("no operation %s", op)
	}
	s := m.Shapes[o.Input.Shape]
	for _, part := range strings.Split(path, ".") {
		mem, ok := s.Members[part]
		if !ok {
			return nil, fmt.Errorf("%s has no member %s", op, path)
		}
		s = m.Shapes[mem.Shape]
	}
	return s, nil
}

// violations lists how a value breaks the shape's rules.
func violations(m *offline.APIModel, s *offline.APIShape, v any) []string {
	var out []string
	switch x := v.(type) {
	case string:
		if s.Min != nil && float64(len(x)) < *s.Min || s.Max != nil && float64(len(x)) > *s.Max {
			out = append(out, fmt.Sprintf("%q: length %d outside [%v, %v]", x, len(x), deref(s.Min), deref(s.Max)))
		}
		if s.Pattern != "" {
			re, err := wholeValue(s.Pattern)
			switch {
			case err != nil:
				out = append(out, fmt.Sprintf("pattern %s: %v", s.Pattern, err))
			case !re.MatchString(x):
				out = append(out, fmt.Sprintf("%q does not match %s", x, s.Pattern))
			}
		}
		if len(s.Enum) > 0 && !contains(s.Enum, x) {
			out = append(out, fmt.Sprintf("%q is not one of %v", x, s.Enum))
		}
	case float64:
		if s.Type == "string" { // the provider sends some numbers as text
			return violations(m, s, fmt.Sprint(x))
		}
		if s.Min != nil && x < *s.Min || s.Max != nil && x > *s.Max {
			out = append(out, fmt.Sprintf("%v outside [%v, %v]", x, deref(s.Min), deref(s.Max)))
		}
	case []any:
		if s.Min != nil && float64(len(x)) < *s.Min || s.Max != nil && float64(len(x)) > *s.Max {
			out = append(out, fmt.Sprintf("%d items outside [%v, %v]", len(x), deref(s.Min), deref(s.Max)))
		}
		if s.Member != nil {
			for _, item := range x {
				out = append(out, violations(m, m.Shapes[s.Member.Shape], item)...)
			}
		}
	}
	return out
}

// javaEscape is a \uXXXX escape of the models' Java-style patterns.
var javaEscape = regexp.MustCompile(`\\u([0-9A-Fa-f]{4})`)

// wholeValue turns a model's pattern into Go's syntax, anchored: AWS validates the whole
// value, while the models write patterns unanchored. Java spells the supplementary planes as
// a surrogate-pair range, which Go writes as code points.
func wholeValue(pattern string) (*regexp.Regexp, error) {
	p := strings.ReplaceAll(pattern, `\uD800\uDC00-\uDBFF\uDFFF`, `\x{10000}-\x{10FFFF}`)
	p = javaEscape.ReplaceAllString(p, `\x{$1}`)
	return regexp.Compile(`^(?:` + p + `)$`)
}

func deref(f *float64) any {
	if f == nil {
		return "-"
	}
	return *f
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Every value the stacks send AWS as an API parameter obeys the parameter's rule in AWS's own
// API model (botocore's service-2.json) or, where the model is silent, its documented limit.
func TestAPIValuesFollowAWSModels(t *testing.T) {
	models := map[string]*offline.APIModel{}
	checked := map[int]int{}
	for _, stack := range offline.Stacks {
		res := offline.Stack(t, stack)
		for i, p := range apiParams {
			if models[p.service] == nil {
				models[p.service] = offline.LoadAPIModel(t, p.service)
			}
			m := models[p.service]
			s, err := memberShape(m, p.op, p.member)
			require.NoError(t, err, "%s %s", p.service, p.op)
			for _, r := range res.OfType(p.typ) {
				v := r.Get(p.input)
				if v == nil {
					continue
				}
				if _, unknown := v.(offline.Unknown); unknown {
					continue
				}
				checked[i]++
				for _, problem := range violations(m, s, v) {
					t.Errorf("%s %s %s → %s %s.%s: %s", stack, r.Name, p.input, p.service, p.op, p.member, problem)
				}
			}
		}
		for _, d := range documented {
			for _, r := range res.OfType(d.typ) {
				v := r.Str(d.input)
				if v == "" {
					continue
				}
				assert.LessOrEqual(t, len(v), d.max, "%s %s %q (%s)", stack, d.typ, v, d.page)
				assert.Regexp(t, d.pattern, v, "%s %s (%s)", stack, d.typ, d.page)
			}
		}
	}
	for i, p := range apiParams {
		assert.Positive(t, checked[i], "no stack sets %s %s: the table is stale", p.typ, p.input)
	}
}
