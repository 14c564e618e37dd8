package monitoring_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/security"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// publishers are the services that notify the alarm topic, with the source each may publish
// from, and whether the key statement carries the same source conditions (only where AWS
// documents them for the service's KMS calls: security/principals_test.go).
var publishers = map[string]struct {
	sources   []string
	keySource bool
}{
	"cloudwatch.amazonaws.com": {[]string{"arn:aws:cloudwatch:us-east-1:<account>:alarm:canalco-<stack>-*"}, true},
	"events.amazonaws.com":     {[]string{"arn:aws:events:us-east-1:<account>:rule/canalco-<stack>-*"}, false},
	"budgets.amazonaws.com":    {[]string{"arn:aws:budgets::<account>:budget/canalco-<stack>-*"}, true},
}

func statements(t *testing.T, doc string) []security.Statement {
	t.Helper()
	var policy struct{ Statement []security.Statement }
	require.NoError(t, json.Unmarshal([]byte(doc), &policy), doc)
	return policy.Statement
}

func byPrincipal(list []security.Statement, service string) *security.Statement {
	for i, s := range list {
		if s.Effect == "Allow" && s.Principal["Service"] == service {
			return &list[i]
		}
	}
	return nil
}

// SNS.1 and SNS.4: the topic is encrypted with a key the publishers may use, and only those
// services publish, for this account and this stack's sources, over TLS.
func TestAlarmTopicIsEncryptedAndScoped(t *testing.T) {
	for _, name := range offline.Stacks {
		st := load(t, name)
		topic := st.topic(t)
		key := st.res.Named("aws:kms/key:Key", "canalco-"+name+"-monitoring")
		require.NotNil(t, key)
		assert.Equal(t, key.Outputs["arn"], topic.Get("kmsMasterKeyId"))
		assert.NotNil(t, st.res.Named("aws:kms/alias:Alias", "canalco-"+name+"-monitoring"))
		assert.Equal(t, name != "dev", key.Protect, "keys are kept in protected stacks")

		keyPolicy := statements(t, key.Str("policy"))
		var policy *offline.Resource
		for _, p := range st.res.OfType("aws:sns/topicPolicy:TopicPolicy") {
			if p.Str("arn") == topic.Outputs["arn"] {
				policy = p
			}
		}
		require.NotNil(t, policy, name)
		topicPolicy := statements(t, policy.Str("policy"))
		for service, pub := range publishers {
			sources := pub.sources
			var want []any
			for _, s := range sources {
				want = append(want, strings.NewReplacer("<stack>", name, "<account>", offline.AccountOf(name)).Replace(s))
			}
			k := byPrincipal(keyPolicy, service)
			if assert.NotNil(t, k, "%s: the key lets %s encrypt", name, service) {
				assert.ElementsMatch(t, []string{"kms:GenerateDataKey*", "kms:Decrypt"}, k.Action)
				if pub.keySource {
					assert.Equal(t, offline.AccountOf(name), k.Condition["StringEquals"]["aws:SourceAccount"])
					assert.Equal(t, want, k.Condition["ArnLike"]["aws:SourceArn"], service)
				} else {
					assert.Empty(t, k.Condition, "%s: %s's KMS calls carry no source keys", name, service)
				}
			}
			p := byPrincipal(topicPolicy, service)
			if assert.NotNil(t, p, "%s: %s may publish", name, service) {
				assert.Equal(t, []string{"sns:Publish"}, p.Action)
				assert.Equal(t, []string{topic.Outputs["arn"].(string)}, p.Resource)
				assert.Equal(t, offline.AccountOf(name), p.Condition["StringEquals"]["aws:SourceAccount"])
				assert.Equal(t, want, p.Condition["ArnLike"]["aws:SourceArn"], service)
			}
		}
		denied := false
		for _, s := range topicPolicy {
			assert.NotEqual(t, "*", s.Principal["Service"])
			if s.Effect == "Allow" {
				assert.NotContains(t, s.Principal, "AWS", "no account or public principal may publish")
			}
			denied = denied || (s.Effect == "Deny" && s.Condition["Bool"]["aws:SecureTransport"] == "false")
		}
		assert.True(t, denied, "%s: requests without TLS are refused", name)
	}
}

// Every alarm address gets an email subscription to each alarm topic; dev sets none.
func TestAlarmEmailsSubscribe(t *testing.T) {
	for _, name := range offline.Stacks {
		st := load(t, name)
		topic := st.topic(t)
		var emails []string
		for _, sub := range st.res.OfType("aws:sns/topicSubscription:TopicSubscription") {
			if sub.Str("topic") == topic.Outputs["arn"] {
				assert.Equal(t, "email", sub.Str("protocol"), "%s: no webhook unless configured", name)
				emails = append(emails, sub.Str("endpoint"))
			}
		}
		assert.ElementsMatch(t, st.s.Monitoring.AlarmEmails, emails, name)
	}
	assert.NotEmpty(t, load(t, "prod").s.Monitoring.AlarmEmails)
	assert.Empty(t, load(t, "dev").s.Monitoring.AlarmEmails)
}

// The webhook URL carries its own credential: it reaches the state only as a secret.
func TestChatWebhookIsASecret(t *testing.T) {
	cfg := offline.StackConfig(t, "prod", map[string]string{"canalco:chatWebhookUrl": "https://hooks.example.com/services/T000/B000/XXXX"})
	cfg.Secrets = append(cfg.Secrets, "canalco:chatWebhookUrl")
	res, err := offline.RunConfig(cfg)
	require.NoError(t, err)
	st := fromResult(t, res)
	sub := res.Named("aws:sns/topicSubscription:TopicSubscription", "canalco-prod-alarms-chat")
	require.NotNil(t, sub)
	assert.Equal(t, st.topic(t).Outputs["arn"], sub.Str("topic"))
	assert.Equal(t, "https", sub.Str("protocol"))
	assert.Equal(t, offline.Secret{Value: "https://hooks.example.com/services/T000/B000/XXXX"}, sub.Inputs["endpoint"])
	assert.True(t, sub.Bool("endpointAutoConfirms"))
}

// RDS.20 and RDS.21: the database's and the parameter groups' critical events reach the topic,
// through EventBridge: RDS event subscriptions do not deliver to a KMS-encrypted topic (RDS API
// reference, CreateEventSubscription), so no subscription may target it.
func TestRDSEventsReachTheTopic(t *testing.T) {
	for _, name := range offline.Stacks {
		checkRDSEvents(t, load(t, name))
	}
}

func checkRDSEvents(t *testing.T, st *stack) {
	t.Helper()
	topic := st.topic(t).Outputs["arn"]
	assert.Empty(t, st.res.OfType("aws:rds/eventSubscription:EventSubscription"), "%s: an RDS event subscription to the encrypted topic delivers nothing", st.name)
	pattern := func(rule *offline.Resource) map[string]any {
		var p map[string]any
		require.NoError(t, json.Unmarshal([]byte(rule.Str("eventPattern")), &p))
		return p
	}
	target := func(rule string) *offline.Resource {
		for _, tg := range st.res.OfType("aws:cloudwatch/eventTarget:EventTarget") {
			if tg.Str("rule") == rule {
				return tg
			}
		}
		return nil
	}
	instances := st.res.Named("aws:cloudwatch/eventRule:EventRule", "canalco-"+st.name+"-rds")
	require.NotNil(t, instances, st.name)
	p := pattern(instances)
	assert.Equal(t, []any{"aws.rds"}, p["source"])
	assert.Equal(t, []any{"RDS DB Instance Event"}, p["detail-type"])
	assert.Subset(t, p["detail"].(map[string]any)["EventCategories"], []any{"failure", "failover", "maintenance", "configuration change", "low storage", "availability", "recovery", "notification"})
	arns := []any{"arn:aws:rds:us-east-1:" + offline.AccountOf(st.name) + ":db:" + st.database}
	for _, r := range replicaOf(st) {
		arns = append(arns, "arn:aws:rds:us-east-1:"+offline.AccountOf(st.name)+":db:"+r)
	}
	assert.Equal(t, arns, p["resources"], "the rule names the stack's instances, which exist: %s %s", st.database, st.replica)
	assert.Equal(t, "ENABLED", instances.Str("state"))
	groups := st.res.Named("aws:cloudwatch/eventRule:EventRule", "canalco-"+st.name+"-rds-parameters")
	require.NotNil(t, groups, st.name)
	assert.Equal(t, []any{"RDS DB Parameter Group Event"}, pattern(groups)["detail-type"])
	assert.Equal(t, []any{"configuration change"}, pattern(groups)["detail"].(map[string]any)["EventCategories"])
	for _, rule := range []*offline.Resource{instances, groups} {
		tg := target(rule.Str("name"))
		if assert.NotNil(t, tg, "%s: %s has no target", st.name, rule.Str("name")) {
			assert.Equal(t, topic, tg.Str("arn"))
			assert.Contains(t, tg.Str("inputTransformer.inputTemplate"), "<message>")
		}
		// The topic policy admits EventBridge for rules named like this one.
		rulePattern := strings.NewReplacer("<stack>", st.name, "<account>", offline.AccountOf(st.name)).Replace(publishers["events.amazonaws.com"].sources[0])
		assert.True(t, strings.HasPrefix("arn:aws:events:us-east-1:"+offline.AccountOf(st.name)+":rule/"+rule.Str("name"), strings.TrimSuffix(rulePattern, "*")))
	}
}

// Bounces, complaints and rendering failures reach people: the alarm addresses subscribe to the
// topic SES's configuration set publishes them to, which has no other subscriber.
func TestEmailEventsReachTheAlarmEmails(t *testing.T) {
	for _, name := range offline.Stacks {
		st := load(t, name)
		var events *offline.Resource
		for _, dest := range st.res.OfType("aws:sesv2/configurationSetEventDestination:ConfigurationSetEventDestination") {
			if arn := dest.Str("eventDestination.snsDestination.topicArn"); arn != "" {
				events = dest
			}
		}
		require.NotNil(t, events, name)
		assert.Subset(t, events.Strings("eventDestination.matchingEventTypes"), []string{"BOUNCE", "COMPLAINT", "RENDERING_FAILURE"})
		var emails []string
		for _, sub := range st.res.OfType("aws:sns/topicSubscription:TopicSubscription") {
			if sub.Str("topic") == events.Str("eventDestination.snsDestination.topicArn") && sub.Str("protocol") == "email" {
				emails = append(emails, sub.Str("endpoint"))
			}
		}
		assert.ElementsMatch(t, st.s.Monitoring.AlarmEmails, emails, name)
	}
}

// A rendering failure (SES accepted the send, then dropped it) raises an alarm: the metric SES
// counts under the configuration set's CloudWatch destination.
func TestRenderingFailuresAlarm(t *testing.T) {
	for _, name := range offline.Stacks {
		st := load(t, name)
		alarm := st.alarms()["canalco-"+name+"-ses-rendering-failures"]
		require.NotNil(t, alarm, name)
		var dest *offline.Resource
		for _, d := range st.res.OfType("aws:sesv2/configurationSetEventDestination:ConfigurationSetEventDestination") {
			if d.Get("eventDestination.cloudWatchDestination") != nil {
				dest = d
			}
		}
		require.NotNil(t, dest, "%s: no CloudWatch event destination publishes the metric", name)
		assert.Contains(t, dest.Strings("eventDestination.matchingEventTypes"), "RENDERING_FAILURE")
		dim := dest.Get("eventDestination.cloudWatchDestination.dimensionConfigurations.0").(map[string]any)
		assert.Equal(t, "AWS/SES", alarm.Str("namespace"))
		assert.Equal(t, "RenderingFailure", alarm.Str("metricName"))
		assert.Equal(t, map[string]any{dim["dimensionName"].(string): dest.Str("configurationSetName")}, alarm.Get("dimensions"))
		assert.Equal(t, "Sum", alarm.Str("statistic"))
		assert.Equal(t, float64(0), alarm.Num("threshold"))
		assert.Equal(t, "notBreaching", alarm.Str("treatMissingData"))
	}
}
