package serverless

import (
	"encoding/json"

	"github.com/canalco/infra/env"
	"github.com/canalco/infra/security"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Queue and topic names, after canalco-<stack>-.
const (
	auditQueue   = "audit"
	reportsQueue = "reports"
	// notificationsDLQ receives what SNS could not deliver to the notifications function and
	// the function's failed invocations; jobsDLQ the failed invocations of cleanup and reports;
	// schedulerDLQ the schedules' failed invocations.
	notificationsDLQ = "notifications-dlq"
	jobsDLQ          = "jobs-dlq"
	schedulerDLQ     = "scheduler-dlq"
	eventsTopic      = "events"
	emailEventsTopic = "email-events"
)

// Queue settings.
const (
	// MaxReceiveCount is how many times a message is tried before it goes to its DLQ.
	MaxReceiveCount = 5
	// VisibilityFactor times the consumer's timeout (plus its batching window) is the
	// visibility timeout, as Lambda recommends, so a message is never handed out twice at once.
	VisibilityFactor = 6
	// SourceRetentionSeconds keeps unprocessed messages 4 days; DLQs keep theirs 14 (the
	// maximum), longer than any source, because a moved message keeps its first enqueue time.
	SourceRetentionSeconds     = 4 * 24 * 60 * 60
	DeadLetterRetentionSeconds = 14 * 24 * 60 * 60
)

// sourceQueue is a queue a function consumes, and how it consumes it.
type sourceQueue struct {
	Thing    string
	Function string
	// BatchSize and Window (seconds) shape the event source mapping.
	BatchSize, Window int
}

// sourceQueues: audit events are small and many, so they are batched (fewer, larger S3
// objects); a report is a long job, so each one gets an invocation of its own.
var sourceQueues = []sourceQueue{
	{Thing: auditQueue, Function: auditFunction, BatchSize: 100, Window: 10},
	{Thing: reportsQueue, Function: reportsFunction, BatchSize: 1, Window: 0},
}

// deadLetterQueues are the DLQs; the source queues' come first, named <source>-dlq.
var deadLetterQueues = []string{auditQueue + "-dlq", reportsQueue + "-dlq", notificationsDLQ, jobsDLQ, schedulerDLQ}

// queues are the layer's queues by thing name, and the names monitoring watches.
type queues struct {
	byThing    map[string]*sqs.Queue
	sources    []string
	deadLetter []string
}

func (l *layer) newQueues() (*queues, error) {
	e := l.a.Env
	q := &queues{byThing: map[string]*sqs.Queue{}}
	for _, thing := range deadLetterQueues {
		var extra []security.Statement
		if thing == notificationsDLQ {
			extra = append(extra, serviceSends("SnsDeadLetters", "sns.amazonaws.com", "sqs:SendMessage", l.arn.queue(e.Name(thing)), l.arn.topic(e.Name(eventsTopic))))
		}
		queue, err := l.newQueue(thing, &sqs.QueueArgs{MessageRetentionSeconds: pulumi.Int(DeadLetterRetentionSeconds)}, extra, nil)
		if err != nil {
			return nil, err
		}
		q.byThing[thing], q.deadLetter = queue, append(q.deadLetter, e.Name(thing))
	}
	for _, src := range sourceQueues {
		redrive, _ := json.Marshal(map[string]any{"deadLetterTargetArn": l.arn.queue(e.Name(src.Thing + "-dlq")), "maxReceiveCount": MaxReceiveCount})
		queue, err := l.newQueue(src.Thing, &sqs.QueueArgs{
			MessageRetentionSeconds:  pulumi.Int(SourceRetentionSeconds),
			VisibilityTimeoutSeconds: pulumi.Int(VisibilityFactor*specOf(src.Function).Timeout + src.Window),
			ReceiveWaitTimeSeconds:   pulumi.Int(20),
			RedrivePolicy:            pulumi.String(string(redrive)),
		}, nil, l.a.BackendRoleArn, pulumi.DependsOn([]pulumi.Resource{q.byThing[src.Thing+"-dlq"]}))
		if err != nil {
			return nil, err
		}
		q.byThing[src.Thing], q.sources = queue, append(q.sources, e.Name(src.Thing))
	}
	return q, nil
}

// newQueue creates a queue encrypted with the layer's key (SQS.1) that refuses requests
// without TLS; sender (nil for none) may send to it. Queues hold messages not yet processed:
// protected stacks keep them.
func (l *layer) newQueue(thing string, args *sqs.QueueArgs, extra []security.Statement, sender pulumi.StringInput, opts ...pulumi.ResourceOption) (*sqs.Queue, error) {
	name := l.a.Env.Name(thing)
	args.Name = pulumi.String(name)
	args.KmsMasterKeyId = l.key.Arn
	args.Policy = resourcePolicy("sqs", l.arn.queue(name), extra, "sqs:SendMessage", sender)
	return sqs.NewQueue(l.ctx, name, args, append(append([]pulumi.ResourceOption{l.parent}, opts...), l.a.Env.Keep()...)...)
}

// newTopic creates a topic encrypted with the key (SNS.1) that refuses requests without TLS;
// extra admits AWS services, and publisher (nil for none) may publish.
func newTopic(ctx *pulumi.Context, e env.Env, keyArn pulumi.StringInput, thing string, extra []security.Statement, publisher pulumi.StringInput, opts ...pulumi.ResourceOption) (*sns.Topic, error) {
	name := e.Name(thing)
	return sns.NewTopic(ctx, name, &sns.TopicArgs{
		Name:           pulumi.String(name),
		KmsMasterKeyId: keyArn,
		Policy:         resourcePolicy("sns", arns{region: e.Region, account: e.AccountID}.topic(name), extra, "sns:Publish", publisher),
	}, opts...)
}

// resourcePolicy is a queue's or topic's policy: no request without TLS, the extra grants, and
// action for the role sender when there is one. The backend's role is named here, so that the
// backend can publish and send whatever its own policy says.
func resourcePolicy(service, arn string, extra []security.Statement, action string, sender pulumi.StringInput) pulumi.StringInput {
	base := append([]security.Statement{security.DenyInsecureTransport(service, []string{arn})}, extra...)
	if sender == nil {
		return pulumi.String(security.Document(base...))
	}
	return sender.ToStringOutput().ApplyT(func(role string) string {
		return security.Document(append(base, security.Statement{
			Sid:       "BackendSends",
			Effect:    "Allow",
			Principal: map[string]any{"AWS": role},
			Action:    []string{action},
			Resource:  []string{arn},
		})...)
	}).(pulumi.StringOutput)
}

// serviceSends lets an AWS service perform action on resource on behalf of the source ARN only
// (the confused-deputy guard).
func serviceSends(sid, service, action, resource, sourceArn string) security.Statement {
	return security.Statement{
		Sid:       sid,
		Effect:    "Allow",
		Principal: map[string]any{"Service": service},
		Action:    []string{action},
		Resource:  []string{resource},
		Condition: map[string]map[string]any{"ArnEquals": {"aws:SourceArn": sourceArn}},
	}
}

// specOf returns the spec of a function by folder name.
func specOf(function string) functionSpec {
	for _, s := range functionSpecs {
		if s.Name == function {
			return s
		}
	}
	panic("serverless: no function " + function) // the tables above are constants
}
