package monitoring

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// rdsRules are the RDS events the alarm topic receives, through EventBridge: RDS does not
// deliver its event subscriptions to an SNS topic encrypted with a KMS key (RDS API reference,
// CreateEventSubscription), and the alarm topic is (SNS.1). RDS sends every event to
// EventBridge by itself ("Creating a rule that triggers on an Amazon RDS event").
var rdsRules = []struct {
	what, detailType string
	categories       []string
	// instances limits the rule to the stack's database instances.
	instances bool
}{
	// RDS.20's categories (failure, maintenance, configuration change) plus what a team acts
	// on: a failover, low storage, the instance stopping or coming back.
	{"rds", "RDS DB Instance Event", []string{"availability", "configuration change", "failover", "failure", "low storage", "maintenance", "notification", "recovery"}, true},
	// RDS.21: changes to the account's parameter groups (rare; a stack sharing the account
	// wants to know too).
	{"rds-parameters", "RDS DB Parameter Group Event", []string{"configuration change"}, false},
}

// rdsMessage turns an RDS event into one readable line for the on-call's email.
var rdsMessage = &cloudwatch.EventTargetInputTransformerArgs{
	InputPaths: pulumi.StringMap{
		"source": pulumi.String("$.detail.SourceIdentifier"), "message": pulumi.String("$.detail.Message"),
		"event": pulumi.String("$.detail.EventID"), "time": pulumi.String("$.time"),
	},
	InputTemplate: pulumi.String(`"RDS <source>: <message> (<event>, <time>). Runbook: docs/monitoring.md"`),
}

// rdsEvents routes the database's events to the alarm topic with EventBridge rules.
func (b *builder) rdsEvents() error {
	e := b.a.Env
	var arns []string
	for _, id := range databases(b.a) {
		arns = append(arns, fmt.Sprintf("arn:aws:rds:%s:%s:db:%s", e.Region, e.AccountID, id))
	}
	for _, r := range rdsRules {
		pattern := map[string]any{
			"source":      []string{"aws.rds"},
			"detail-type": []string{r.detailType},
			"detail":      map[string]any{"EventCategories": r.categories},
		}
		if r.instances {
			pattern["resources"] = arns
		}
		doc, err := json.Marshal(pattern)
		if err != nil {
			return err
		}
		// The name starts with the stack's prefix: the topic policy admits only such rules.
		name := e.Name(r.what)
		rule, err := cloudwatch.NewEventRule(b.ctx, name, &cloudwatch.EventRuleArgs{
			Name:         pulumi.String(name),
			Description:  pulumi.String(fmt.Sprintf("%s (%v) to the alarm topic", r.detailType, r.categories)),
			EventPattern: pulumi.String(string(doc)),
			State:        pulumi.String("ENABLED"),
		}, b.main.opts...)
		if err != nil {
			return err
		}
		if _, err := cloudwatch.NewEventTarget(b.ctx, name, &cloudwatch.EventTargetArgs{
			Rule:             rule.Name,
			TargetId:         pulumi.String("alarm-topic"),
			Arn:              b.main.arn,
			InputTransformer: rdsMessage,
		}, b.main.opts...); err != nil {
			return err
		}
	}
	return nil
}
