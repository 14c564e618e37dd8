// Package offhours puts a sleeping stack to sleep outside office hours: EventBridge Scheduler
// calls an AWS API at the end of each office day and another at its start, in the users' time
// zone, with a role allowed exactly those calls. Each layer schedules what it owns (the data
// layer its database, unless it has a read replica, which RDS cannot stop; monitoring its
// alarms); the Auto Scaling group uses its own scheduled actions (compute).
package offhours

import (
	"encoding/json"
	"fmt"

	"github.com/canalco/infra/env"
	"github.com/canalco/infra/security"
	"github.com/canalco/infra/settings"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/scheduler"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Call is one AWS API action Scheduler's universal target makes, e.g. rds:stopDBInstance.
type Call struct {
	// Service and Action name the SDK operation (aws-sdk:<service>:<action>); Permission is the
	// IAM action it needs.
	Service, Action, Permission string
	// Resource is what Permission is granted on.
	Resource string
	// Input is the request, as the API's JSON (PascalCase parameter names).
	Input map[string]any
}

// Target is the universal target ARN of the call.
func (c Call) Target() string { return "arn:aws:scheduler:::aws-sdk:" + c.Service + ":" + c.Action }

// Args are what to do at the end (Sleep) and the start (Wake) of each office day.
type Args struct {
	Env    env.Env
	Office settings.OfficeHours
	// Thing names the role and the schedules: canalco-<stack>-<thing>-sleep and -wake.
	Thing       string
	Sleep, Wake Call
	// WakeOffsetMinutes moves the wake call from the office start: earlier for the database
	// (the instances need it when they boot), later for the alarms (they wait for both).
	WakeOffsetMinutes int
	// SleepOffsetMinutes moves the sleep call from the office end: later for the database, so
	// it stops once the instances have scaled in and drained.
	SleepOffsetMinutes int
}

// New creates the role and the two schedules, children of parent. Nothing is created when the
// stack does not sleep.
func New(ctx *pulumi.Context, a Args, parent pulumi.Resource) error {
	if !a.Office.Sleep {
		return nil
	}
	e := a.Env
	name := e.Name(a.Thing + "-offhours")
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		Name:             pulumi.String(name),
		Description:      pulumi.String("Lets the office-hours schedules of " + e.Prefix + " sleep and wake " + a.Thing),
		AssumeRolePolicy: pulumi.String(security.AssumeRole("scheduler.amazonaws.com", e.AccountID)),
	}, pulumi.Parent(parent))
	if err != nil {
		return fmt.Errorf("%s office-hours role: %w", a.Thing, err)
	}
	var statements []security.Statement
	for _, c := range []Call{a.Sleep, a.Wake} {
		statements = append(statements, security.Allow("", []string{c.Permission}, []string{c.Resource}))
	}
	policy, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{
		Name:   pulumi.String("offhours"),
		Role:   role.ID(),
		Policy: pulumi.String(security.Document(statements...)),
	}, pulumi.Parent(parent))
	if err != nil {
		return fmt.Errorf("%s office-hours policy: %w", a.Thing, err)
	}
	wake := a.Office.Start*60 + a.WakeOffsetMinutes
	sleep := a.Office.End*60 + a.SleepOffsetMinutes
	for _, s := range []struct {
		what       string
		expression string
		call       Call
	}{
		{"sleep", a.Office.SchedulerCron((sleep+24*60)/60%24, (sleep+24*60)%60), a.Sleep},
		{"wake", a.Office.SchedulerCron((wake+24*60)/60%24, (wake+24*60)%60), a.Wake},
	} {
		input, err := json.Marshal(s.call.Input)
		if err != nil {
			return fmt.Errorf("%s %s input: %w", a.Thing, s.what, err)
		}
		schedule := e.Name(a.Thing + "-" + s.what)
		if _, err := scheduler.NewSchedule(ctx, schedule, &scheduler.ScheduleArgs{
			Name:                       pulumi.String(schedule),
			Description:                pulumi.String(fmt.Sprintf("%s %s of %s outside office hours", s.call.Action, a.Thing, e.Prefix)),
			ScheduleExpression:         pulumi.String(s.expression),
			ScheduleExpressionTimezone: pulumi.String(a.Office.Timezone),
			FlexibleTimeWindow:         &scheduler.ScheduleFlexibleTimeWindowArgs{Mode: pulumi.String("OFF")},
			State:                      pulumi.String("ENABLED"),
			Target: &scheduler.ScheduleTargetArgs{
				Arn:     pulumi.String(s.call.Target()),
				RoleArn: role.Arn,
				Input:   pulumi.String(string(input)),
				// A call that fails (the database still starting, say) is retried for an hour.
				RetryPolicy: &scheduler.ScheduleTargetRetryPolicyArgs{
					MaximumRetryAttempts:     pulumi.Int(5),
					MaximumEventAgeInSeconds: pulumi.Int(3600),
				},
			},
		}, pulumi.Parent(parent), pulumi.DependsOn([]pulumi.Resource{policy})); err != nil {
			return fmt.Errorf("%s %s schedule: %w", a.Thing, s.what, err)
		}
	}
	return nil
}
