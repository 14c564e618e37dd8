package serverless

import (
	"encoding/json"

	"github.com/canalco/infra/security"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/scheduler"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ScheduleSource marks the events the schedules send (the handlers' contract).
const ScheduleSource = "canalco.schedule"

// A schedule whose invocation fails (throttled, function missing) is retried for up to an
// hour, then goes to the scheduler DLQ.
const (
	scheduleRetries   = 5
	scheduleMaxAgeSec = 60 * 60
)

// summaryReport names the scheduled summary in its email.
const summaryReport = "resumen de actividad"

// schedule is one EventBridge Scheduler schedule of a function.
type schedule struct {
	Thing      string
	Function   string
	Expression string
	Input      pulumi.StringInput
}

// newTriggers wires the functions to their sources: the SQS queues, the SNS topic and the
// schedules, each with a dead-letter path.
func (l *layer) newTriggers(funcs map[string]*Function, q *queues, events *sns.Topic) error {
	e := l.a.Env
	for _, src := range sourceQueues {
		f := funcs[src.Function]
		if _, err := lambda.NewEventSourceMapping(l.ctx, e.Name(src.Thing), &lambda.EventSourceMappingArgs{
			EventSourceArn:                 q.byThing[src.Thing].Arn,
			FunctionName:                   f.Arn,
			BatchSize:                      pulumi.Int(src.BatchSize),
			MaximumBatchingWindowInSeconds: pulumi.Int(src.Window),
			// Only the failed messages of a batch come back; the rest are deleted.
			FunctionResponseTypes: pulumi.StringArray{pulumi.String("ReportBatchItemFailures")},
			// Never more pollers than the reserved concurrency: throttled batches would count
			// as receives and push good messages to the DLQ.
			ScalingConfig: &lambda.EventSourceMappingScalingConfigArgs{MaximumConcurrency: pulumi.Int(max(2, specOf(src.Function).Reserved))},
		}, pulumi.Parent(f), pulumi.DependsOn([]pulumi.Resource{f.RolePolicy})); err != nil {
			return err
		}
	}

	// Domain events: SNS invokes notifications asynchronously (retries and on-failure queue);
	// what SNS cannot deliver at all goes to the notifications DLQ.
	f := funcs[notificationsFunction]
	permission, err := lambda.NewPermission(l.ctx, e.Name(eventsTopic+"-invoke"), &lambda.PermissionArgs{
		Action:    pulumi.String("lambda:InvokeFunction"),
		Function:  f.Lambda.Name,
		Principal: pulumi.String("sns.amazonaws.com"),
		SourceArn: events.Arn, // Lambda.1: only this topic may invoke
	}, pulumi.Parent(f))
	if err != nil {
		return err
	}
	redrive, _ := json.Marshal(map[string]string{"deadLetterTargetArn": l.arn.queue(e.Name(notificationsDLQ))})
	if _, err := sns.NewTopicSubscription(l.ctx, e.Name(eventsTopic+"-"+notificationsFunction), &sns.TopicSubscriptionArgs{
		Topic:         events.Arn,
		Protocol:      pulumi.String("lambda"),
		Endpoint:      f.Arn,
		RedrivePolicy: pulumi.String(string(redrive)),
	}, pulumi.Parent(f), pulumi.DependsOn([]pulumi.Resource{permission, q.byThing[notificationsDLQ]})); err != nil {
		return err
	}

	for _, s := range l.schedules() {
		if err := l.newSchedule(s, funcs[s.Function], q); err != nil {
			return err
		}
	}
	return nil
}

// ReportScheduleDays is the range of the weekly report: the 7 whole days before its run.
const ReportScheduleDays = 7

// schedules are the daily clean-up, the recovery metrics and, when someone receives them, the
// weekly report and the summary email.
func (l *layer) schedules() []schedule {
	sv := l.a.Settings
	cleanup, _ := json.Marshal(map[string]string{"source": ScheduleSource, "type": "cleanup.daily"})
	out := []schedule{
		{Thing: "cleanup", Function: cleanupFunction, Expression: sv.CleanupSchedule, Input: pulumi.String(string(cleanup))},
		recoverySchedule(),
	}
	if r := sv.ReportSchedule; r.Enabled() {
		report, _ := json.Marshal(map[string]any{
			"source": ScheduleSource, "type": "report.scheduled", "report": r.Report, "format": r.Format,
			"days": ReportScheduleDays, "recipients": r.Recipients,
		})
		out = append(out, schedule{Thing: "weekly-report", Function: reportsFunction, Expression: r.Expression(), Input: pulumi.String(string(report))})
	}
	if len(sv.SummaryRecipients) == 0 {
		return out // a summary to nobody would only fail in the notifications function
	}
	summary := l.a.AppURL.ToStringOutput().ApplyT(func(url string) (string, error) {
		b, err := json.Marshal(map[string]any{
			"source":     ScheduleSource,
			"type":       "summary.scheduled",
			"recipients": sv.SummaryRecipients,
			"data":       map[string]string{"report": summaryReport, "url": url},
		})
		return string(b), err
	}).(pulumi.StringOutput)
	return append(out, schedule{Thing: "summary", Function: notificationsFunction, Expression: sv.SummarySchedule, Input: summary})
}

// newSchedule creates a schedule in the users' time zone with its own execution role, which
// may invoke that one function and write to the scheduler DLQ, nothing else.
func (l *layer) newSchedule(s schedule, f *Function, q *queues) error {
	e := l.a.Env
	name := e.Name(s.Thing)
	dlq := l.arn.queue(e.Name(schedulerDLQ))
	role, err := iam.NewRole(l.ctx, name+"-schedule", &iam.RoleArgs{
		Name:             pulumi.String(name + "-schedule"),
		Description:      pulumi.String("Lets the " + name + " schedule invoke " + f.Name),
		AssumeRolePolicy: pulumi.String(security.AssumeRole("scheduler.amazonaws.com", e.AccountID)),
	}, pulumi.Parent(f))
	if err != nil {
		return err
	}
	policy, err := iam.NewRolePolicy(l.ctx, name+"-schedule", &iam.RolePolicyArgs{
		Name: pulumi.String("invoke-" + s.Function),
		Role: role.ID(),
		Policy: l.key.Arn.ApplyT(func(key string) string {
			return security.Document(
				security.Allow("Invoke", []string{"lambda:InvokeFunction"}, []string{l.arn.function(f.Name)}),
				security.Allow("DeadLetters", []string{"sqs:SendMessage"}, []string{dlq}),
				// The schedule's input and the DLQ are encrypted with the layer's key.
				security.Allow("LayerKey", []string{"kms:Decrypt", "kms:GenerateDataKey"}, []string{key}),
			)
		}).(pulumi.StringOutput),
	}, pulumi.Parent(f))
	if err != nil {
		return err
	}
	_, err = scheduler.NewSchedule(l.ctx, name, &scheduler.ScheduleArgs{
		Name:                       pulumi.String(name),
		Description:                pulumi.String(s.Thing + " job of " + e.Prefix),
		ScheduleExpression:         pulumi.String(s.Expression),
		ScheduleExpressionTimezone: pulumi.String(l.a.Timezone),
		// At the stated time, not within a window: people expect the summary at 7:00.
		FlexibleTimeWindow: &scheduler.ScheduleFlexibleTimeWindowArgs{Mode: pulumi.String("OFF")},
		KmsKeyArn:          l.key.Arn,
		State:              pulumi.String("ENABLED"),
		Target: &scheduler.ScheduleTargetArgs{
			Arn:     f.Arn,
			RoleArn: role.Arn,
			Input:   s.Input,
			RetryPolicy: &scheduler.ScheduleTargetRetryPolicyArgs{
				MaximumRetryAttempts:     pulumi.Int(scheduleRetries),
				MaximumEventAgeInSeconds: pulumi.Int(scheduleMaxAgeSec),
			},
			DeadLetterConfig: &scheduler.ScheduleTargetDeadLetterConfigArgs{Arn: q.byThing[schedulerDLQ].Arn},
		},
	}, pulumi.Parent(f), pulumi.DependsOn([]pulumi.Resource{policy}))
	return err
}
