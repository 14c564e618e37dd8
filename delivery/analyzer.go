package delivery

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/accessanalyzer"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// findingsRule is the EventBridge rule that sends the analyzer's findings to the alarm topic:
// the boundary denies every change to it, so only an administrator can silence it.
func findingsRule(prefix string) string { return prefix + "-access-findings" }

// analyzerName is the stack's IAM Access Analyzer.
func analyzerName(prefix string) string { return prefix + "-access" }

// accessMessage is one line for the on-call: what is reachable, from where.
var accessMessage = &cloudwatch.EventTargetInputTransformerArgs{
	InputPaths: pulumi.StringMap{
		"resource": pulumi.String("$.detail.resource"), "type": pulumi.String("$.detail.resourceType"),
		"principal": pulumi.String("$.detail.principal"), "action": pulumi.String("$.detail.action"),
	},
	InputTemplate: pulumi.String(`"IAM Access Analyzer: <type> <resource> is reachable from outside the account by <principal> (<action>). Runbook: docs/identities.md"`),
}

// newAccessAnalyzer watches the account for resources reachable from outside it (a role
// trusting another account, a public bucket or key): an account analyzer of external access,
// which is free (IAM Access Analyzer pricing), and a rule that mails each new active finding
// to the alarm topic within minutes (IAM User Guide, "Monitoring AWS Identity and Access
// Management Access Analyzer with Amazon EventBridge"). The boundary keeps every role of the
// stack, the deploy role included, from changing either.
func newAccessAnalyzer(ctx *pulumi.Context, d *Delivery, prefix string, alarmTopic pulumi.StringInput) error {
	analyzer, err := accessanalyzer.NewAnalyzer(ctx, analyzerName(prefix), &accessanalyzer.AnalyzerArgs{
		AnalyzerName: pulumi.String(analyzerName(prefix)),
		Type:         pulumi.String("ACCOUNT"),
	}, pulumi.Parent(d))
	if err != nil {
		return fmt.Errorf("delivery: %w", err)
	}
	pattern := analyzer.Arn.ApplyT(func(arn string) (string, error) {
		doc, err := json.Marshal(map[string]any{
			"source": []string{"aws.access-analyzer"}, "detail-type": []string{"Access Analyzer Finding"},
			"resources": []string{arn}, "detail": map[string]any{"status": []string{"ACTIVE"}},
		})
		return string(doc), err
	}).(pulumi.StringOutput)
	// The name starts with the stack's prefix: the alarm topic's policy admits only such rules.
	rule, err := cloudwatch.NewEventRule(ctx, findingsRule(prefix), &cloudwatch.EventRuleArgs{
		Name:         pulumi.String(findingsRule(prefix)),
		Description:  pulumi.String("New active IAM Access Analyzer findings to the alarm topic"),
		EventPattern: pattern,
		State:        pulumi.String("ENABLED"),
	}, pulumi.Parent(d))
	if err != nil {
		return fmt.Errorf("delivery: %w", err)
	}
	_, err = cloudwatch.NewEventTarget(ctx, findingsRule(prefix), &cloudwatch.EventTargetArgs{
		Rule: rule.Name, TargetId: pulumi.String("alarm-topic"), Arn: alarmTopic, InputTransformer: accessMessage,
	}, pulumi.Parent(d))
	if err != nil {
		return fmt.Errorf("delivery: %w", err)
	}
	return nil
}
