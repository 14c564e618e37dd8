package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/review/graph"
)

const (
	typeFunction      = "aws:lambda/function:Function"
	typePermission    = "aws:lambda/permission:Permission"
	typeEventMapping  = "aws:lambda/eventSourceMapping:EventSourceMapping"
	typeInvokeConfig  = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
	typeQueue         = "aws:sqs/queue:Queue"
	typeQueuePolicy   = "aws:sqs/queuePolicy:QueuePolicy"
	typeTopic         = "aws:sns/topic:Topic"
	typeTopicPolicy   = "aws:sns/topicPolicy:TopicPolicy"
	typeSubscription  = "aws:sns/topicSubscription:TopicSubscription"
	typeLogGroup      = "aws:cloudwatch/logGroup:LogGroup"
	typeConfigSet     = "aws:sesv2/configurationSet:ConfigurationSet"
	typeSchedule      = "aws:scheduler/schedule:Schedule"
	typeEventTarget   = "aws:cloudwatch/eventTarget:EventTarget"
	supportedRuntimes = "python3.11 python3.12 python3.13 python3.14 nodejs22.x nodejs24.x java21 java25 dotnet8 dotnet10 ruby3.4 provided.al2023"
)

// failureTargets are the ARNs anything in the stack hands failed messages or events to.
func failureTargets(ctx *Context) []string {
	var out []string
	for _, q := range ctx.OfType(typeQueue) {
		out = append(out, graph.RedriveTarget(q.Get("redrivePolicy")))
	}
	for _, s := range ctx.OfType(typeSubscription) {
		out = append(out, graph.RedriveTarget(s.Get("redrivePolicy")))
	}
	for _, f := range ctx.OfType(typeFunction) {
		out = append(out, f.Str("deadLetterConfig.targetArn"))
	}
	for _, c := range ctx.OfType(typeInvokeConfig) {
		out = append(out, c.Str("destinationConfig.onFailure.destination"))
	}
	for _, s := range ctx.OfType(typeSchedule) {
		out = append(out, s.Str("target.deadLetterConfig.arn"))
	}
	for _, t := range ctx.OfType(typeEventTarget) {
		out = append(out, t.Str("deadLetterConfig.arn"))
	}
	return out
}

// isFailureTarget reports whether the queue is some resource's dead-letter queue.
func isFailureTarget(ctx *Context, q *offline.Resource) bool {
	for _, arn := range failureTargets(ctx) {
		if arn != "" && ctx.Names(arn, q) {
			return true
		}
	}
	return false
}

// lambdaFailuresCaught reports whether a function's failed invocations land somewhere.
func lambdaFailuresCaught(r *offline.Resource, ctx *Context) bool {
	if r.Str("deadLetterConfig.targetArn") != "" {
		return true
	}
	for _, c := range ctx.Pointing(typeInvokeConfig, "functionName", r) {
		if c.Str("destinationConfig.onFailure.destination") != "" {
			return true
		}
	}
	for _, m := range ctx.Pointing(typeEventMapping, "functionName", r) {
		if q := ctx.Ref(m.Str("eventSourceArn"), typeQueue); q != nil && graph.RedriveTarget(q.Get("redrivePolicy")) != "" {
			return true
		}
	}
	return false
}

// publicPolicy returns the first statement of the documents that admits anyone unconditionally.
func publicPolicy(docs ...any) (bool, string) {
	for _, d := range docs {
		for _, st := range graph.Policy(d) {
			if st.Public() {
				return fail(fmt.Sprintf("allows %s to anyone without a condition", strings.Join(st.Actions, ", ")))
			}
		}
	}
	return pass()
}

// policies returns a resource's own policy and those of its policy resources.
func policies(r *offline.Resource, ctx *Context, typ, path string) []any {
	docs := []any{r.Get("policy")}
	for _, p := range ctx.Pointing(typ, path, r) {
		docs = append(docs, p.Get("policy"))
	}
	return docs
}

var serverlessRules = []Rule{
	{
		ID: "Lambda.1", Framework: FSBP, Severity: Critical, ResourceTypes: []string{typePermission},
		Title: "Lambda function policies should prohibit public access",
		Fix:   "name a principal, and with a service principal set sourceArn (or sourceAccount)",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			p := r.Str("principal")
			if p == "*" {
				return fail("anyone may invoke the function")
			}
			if strings.HasSuffix(p, ".amazonaws.com") && r.Str("sourceArn") == "" && r.Str("sourceAccount") == "" {
				return fail(p + " may invoke it on behalf of any account (no sourceArn or sourceAccount)")
			}
			return pass()
		},
	},
	{
		ID: "Lambda.2", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeFunction},
		Title: "Lambda functions should use supported runtimes",
		Fix:   "use a runtime AWS supports (Python 3.11 or later for the platform's functions)",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			rt := r.Str("runtime")
			if r.Str("packageType") == "Image" {
				return pass()
			}
			return check(slices.Contains(strings.Fields(supportedRuntimes), rt), fmt.Sprintf("runtime %q is deprecated or unknown", rt))
		},
	},
	{
		ID: "Lambda.3", Framework: FSBP, Severity: Low, ResourceTypes: []string{typeFunction},
		Title: "Lambda functions should be in a VPC",
		Fix:   "set vpcConfig with the private subnets and a security group",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(len(r.List("vpcConfig.subnetIds")) > 0, "runs outside the VPC")
		},
	},
	{
		ID: "Lambda.5", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeFunction},
		Title: "VPC Lambda functions should operate in multiple Availability Zones",
		Fix:   "list private subnets of at least two AZs in vpcConfig.subnetIds",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			if len(r.List("vpcConfig.subnetIds")) == 0 {
				return pass()
			}
			azs := ctx.AZs(r.Get("vpcConfig.subnetIds"))
			return check(len(azs) >= 2, fmt.Sprintf("spans %d Availability Zone(s)", len(azs)))
		},
	},
	{
		ID: "Lambda.7", Framework: FSBP, Severity: Low, ResourceTypes: []string{typeFunction},
		Title: "Lambda functions should have AWS X-Ray active tracing enabled",
		Fix:   "set tracingConfig.mode Active",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(r.Str("tracingConfig.mode") == "Active", "tracing is not Active")
		},
	},
	{
		ID: "Canalco.7", Framework: Canalco, Severity: Medium, ResourceTypes: []string{typeFunction},
		Title: "Lambda functions log to a log group the stack manages (retention and KMS)",
		Fix:   "create the group with logs.NewGroup and set loggingConfig.logGroup to it",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			name := r.Str("loggingConfig.logGroup")
			if name == "" {
				name = "/aws/lambda/" + r.Str("name")
			}
			return check(ctx.Ref(name, typeLogGroup) != nil, "logs to "+name+", which the stack does not create (no retention, no encryption)")
		},
	},
	{
		ID: "Canalco.8", Framework: Canalco, Severity: Medium, ResourceTypes: []string{typeFunction},
		Title: "Failed Lambda invocations land in a dead-letter queue or failure destination",
		Fix:   "set deadLetterConfig, an on-failure destination, or a redrive policy on the source queue",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			return check(lambdaFailuresCaught(r, ctx), "a failed invocation is lost after retries")
		},
	},
	{
		ID: "SQS.1", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeQueue},
		Title: "Amazon SQS queues should be encrypted at rest",
		Fix:   "set kmsMasterKeyId (or leave SSE-SQS on)",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(r.Str("kmsMasterKeyId") != "" || r.Get("sqsManagedSseEnabled") == nil || r.Bool("sqsManagedSseEnabled"), "server-side encryption is off")
		},
	},
	{
		ID: "SQS.3", Framework: FSBP, Severity: High, ResourceTypes: []string{typeQueue},
		Title: "SQS queue access policies should not allow public access",
		Fix:   "name the principals, or add a condition (aws:SourceArn / aws:SourceAccount)",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			return publicPolicy(policies(r, ctx, typeQueuePolicy, "queueUrl")...)
		},
	},
	{
		ID: "Canalco.9", Framework: Canalco, Severity: Medium, ResourceTypes: []string{typeQueue},
		Title: "Queues hand messages that keep failing to a dead-letter queue",
		Fix:   "set redrivePolicy {deadLetterTargetArn, maxReceiveCount}",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			return check(graph.RedriveTarget(r.Get("redrivePolicy")) != "" || isFailureTarget(ctx, r), "no redrive policy: a poison message is retried until it expires")
		},
	},
	{
		ID: "SNS.1", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeTopic},
		Title: "SNS topics should be encrypted at-rest using AWS KMS",
		Fix:   "set kmsMasterKeyId to a customer-managed key that the publishing services may use",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(r.Str("kmsMasterKeyId") != "", "not encrypted with KMS")
		},
	},
	{
		ID: "SNS.4", Framework: FSBP, Severity: High, ResourceTypes: []string{typeTopic},
		Title: "SNS topic access policies should not allow public access",
		Fix:   "name the principals, or add a condition (aws:SourceArn / aws:SourceAccount)",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			return publicPolicy(policies(r, ctx, typeTopicPolicy, "arn")...)
		},
	},
	{
		ID: "Canalco.10", Framework: Canalco, Severity: Medium, ResourceTypes: []string{typeSubscription},
		Title: "SNS delivers to web endpoints over HTTPS only",
		Fix:   "use protocol https",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(r.Str("protocol") != "http", "delivers over plain HTTP")
		},
	},
	{
		ID: "Canalco.11", Framework: Canalco, Severity: Medium, ResourceTypes: []string{typeConfigSet},
		Title: "SES delivers mail only over TLS",
		Fix:   "set deliveryOptions.tlsPolicy REQUIRE",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(r.Str("deliveryOptions.tlsPolicy") == "REQUIRE", "mail may be delivered in clear text")
		},
	},
}
