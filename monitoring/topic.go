package monitoring

import (
	"fmt"
	"strings"

	"github.com/canalco/infra/security"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// globalRegion is where AWS publishes CloudFront's and billing metrics: the CloudFront alarm
// and the topic it notifies live there.
const globalRegion = "us-east-1"

// publishers are the AWS services that notify the alarm topic: each needs the key (an encrypted
// topic makes the publisher encrypt) and a topic-policy statement limited to this stack's
// sources. RDS events arrive through EventBridge rules (events.go).
var publishers = []publisher{
	// CloudWatch's KMS calls for an alarm carry the alarm as aws:SourceArn and its account.
	{"CloudWatchAlarms", "cloudwatch.amazonaws.com", true, func(r, a, p string) []string {
		return []string{fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s-*", r, a, p)}
	}},
	// EventBridge's KMS calls carry neither aws:SourceAccount nor aws:SourceArn: a key
	// statement conditioned on them would drop every event (EventBridge User Guide,
	// "Permissions for Amazon SNS": encrypted topics).
	{"EventBridgeRules", "events.amazonaws.com", false, func(r, a, p string) []string {
		return []string{fmt.Sprintf("arn:aws:events:%s:%s:rule/%s-*", r, a, p)}
	}},
	{"Budgets", "budgets.amazonaws.com", true, func(_, a, p string) []string {
		return []string{fmt.Sprintf("arn:aws:budgets::%s:budget/%s-*", a, p)}
	}},
}

type publisher struct {
	sid, service string
	// keySource: the service's KMS calls carry aws:SourceAccount and aws:SourceArn, so the
	// key statement is limited to this stack's sources like the topic statement.
	keySource bool
	// source is the ARN pattern of the senders, from region, account and the stack's prefix.
	source func(region, account, prefix string) []string
}

// sourceCondition limits a service principal to this account's and stack's sources.
func (p publisher) sourceCondition(region, account, prefix string) map[string]map[string]any {
	return map[string]map[string]any{
		"StringEquals": {"aws:SourceAccount": account},
		"ArnLike":      {"aws:SourceArn": p.source(region, account, prefix)},
	}
}

// alarmPublishers are the only publishers in us-east-1 when the stack is elsewhere: its
// CloudFront alarm.
var alarmPublishers = publishers[:1]

// alarmTopic is an encrypted SNS topic.
type alarmTopic struct {
	arn pulumi.StringOutput
	// opts put a resource in the topic's region.
	opts []pulumi.ResourceOption
}

// topics creates the alarm topic of the stack's region and, when the stack is elsewhere,
// one in us-east-1: an alarm can only notify a topic of its own region.
func (b *builder) topics() error {
	var err error
	if b.key, err = b.newKey("", publishers, b.child()); err != nil {
		return err
	}
	if b.main, err = b.topic(b.a.Env.Region, "", b.key, publishers, b.child()); err != nil {
		return err
	}
	b.global = b.main
	if b.a.Env.Region != globalRegion {
		opts := b.child(pulumi.Provider(b.a.Env.USEast1))
		key, err := b.newKey("-"+globalRegion, alarmPublishers, opts)
		if err != nil {
			return err
		}
		if b.global, err = b.topic(globalRegion, "-"+globalRegion, key, alarmPublishers, opts); err != nil {
			return err
		}
	}
	b.alarmArns = map[*alarmTopic][]pulumi.StringOutput{}
	b.m.AlarmTopicArn = b.main.arn
	return b.emailEvents()
}

// emailEvents subscribes the alarm emails to SES's email-events topic: a bounce, complaint or
// rendering failure names the address or template to fix, and nothing else reads the topic.
func (b *builder) emailEvents() error {
	if b.a.EmailEventsTopicArn == nil {
		return nil
	}
	name := b.a.Env.Name("email-events")
	for _, email := range b.a.Settings.AlarmEmails {
		if _, err := sns.NewTopicSubscription(b.ctx, name+"-"+email, &sns.TopicSubscriptionArgs{
			Topic: b.a.EmailEventsTopicArn, Protocol: pulumi.String("email"), Endpoint: pulumi.String(email),
		}, b.child()...); err != nil {
			return err
		}
	}
	return nil
}

// newKey creates the layer's key of a region: it encrypts the alarm topic and the backup vault
// there (one key: each costs a dollar a month). suffix tells apart the logical names of other
// regions'; pubs may use it.
func (b *builder) newKey(suffix string, pubs []publisher, opts []pulumi.ResourceOption) (*security.Key, error) {
	e := b.a.Env
	// The suffix of another region's key is -<region>.
	region := e.Region
	if suffix != "" {
		region = strings.TrimPrefix(suffix, "-")
	}
	var use []security.Statement
	for _, p := range pubs {
		// kms:GenerateDataKey* and kms:Decrypt are what a publisher to an encrypted topic needs
		// (SNS Developer Guide, "Configure AWS KMS permissions for AWS services").
		st := security.Statement{
			Sid: p.sid, Effect: "Allow", Principal: map[string]any{"Service": p.service},
			Action: []string{"kms:GenerateDataKey*", "kms:Decrypt"}, Resource: []string{"*"},
		}
		if p.keySource {
			st.Condition = p.sourceCondition(region, e.AccountID, e.Prefix)
		}
		use = append(use, st)
	}
	// AWS Backup needs no statement: it uses the key through its role's grants, which the
	// account's own administration statement allows.
	return security.NewKey(b.ctx, e.Name("monitoring")+suffix, &security.KeyArgs{
		Alias:       e.Name("monitoring"),
		Description: "Encrypts the alarm topic and the backup vault of " + e.Prefix,
		AccountID:   e.AccountID,
		Statements:  use,
		Protect:     e.Protected,
	}, opts...)
}

// topic creates the topic, its policy and subscriptions of one region. suffix tells the
// logical names of the second region apart; the AWS names are the same in both regions.
func (b *builder) topic(region, suffix string, key *security.Key, pubs []publisher, opts []pulumi.ResourceOption) (*alarmTopic, error) {
	e, s := b.a.Env, b.a.Settings
	name := e.Name("alarms")
	topic, err := sns.NewTopic(b.ctx, name+suffix, &sns.TopicArgs{
		Name:        pulumi.String(name),
		DisplayName: pulumi.String("Canalco " + string(e.Environment) + " alarms"),
		// SNS.1: encrypted at rest with a customer-managed key the publishers may use.
		KmsMasterKeyId: key.Arn,
	}, opts...)
	if err != nil {
		return nil, err
	}
	policy := topic.Arn.ApplyT(func(arn string) string {
		statements := []security.Statement{security.DenyInsecureTransport("sns", []string{arn})}
		for _, p := range pubs {
			// SNS.4: no public publishing; each service only for this account's and stack's sources.
			statements = append(statements, security.Statement{
				Sid:       p.sid + "Publish",
				Effect:    "Allow",
				Principal: map[string]any{"Service": p.service},
				Action:    []string{"sns:Publish"},
				Resource:  []string{arn},
				Condition: p.sourceCondition(region, e.AccountID, e.Prefix),
			})
		}
		return security.Document(statements...)
	}).(pulumi.StringOutput)
	if _, err := sns.NewTopicPolicy(b.ctx, name+suffix, &sns.TopicPolicyArgs{Arn: topic.Arn, Policy: policy}, opts...); err != nil {
		return nil, err
	}
	for _, email := range s.AlarmEmails {
		// Each address receives a confirmation email; nothing arrives until it is confirmed.
		if _, err := sns.NewTopicSubscription(b.ctx, name+suffix+"-"+email, &sns.TopicSubscriptionArgs{
			Topic: topic.Arn, Protocol: pulumi.String("email"), Endpoint: pulumi.String(email),
		}, opts...); err != nil {
			return nil, err
		}
	}
	if s.ChatWebhookURL != "" {
		// The URL carries its own credential: keep it a secret in the state.
		if _, err := sns.NewTopicSubscription(b.ctx, name+suffix+"-chat", &sns.TopicSubscriptionArgs{
			Topic: topic.Arn, Protocol: pulumi.String("https"),
			Endpoint: pulumi.ToSecret(pulumi.String(s.ChatWebhookURL)).(pulumi.StringOutput),
			// The endpoint must confirm the subscription itself (incident tools and chat
			// relays do): a deploy whose webhook does not confirm fails instead of leaving a
			// subscription pending that never delivers.
			EndpointAutoConfirms: pulumi.Bool(true),
		}, opts...); err != nil {
			return nil, err
		}
	}
	return &alarmTopic{arn: topic.Arn, opts: opts}, nil
}
