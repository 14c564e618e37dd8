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

// publishers are the services that notify the alarm topic, with the source each may publish from.
var publishers = map[string][]string{
	"cloudwatch.amazonaws.com": {"arn:aws:cloudwatch:us-east-1:123456789012:alarm:canalco-<stack>-*"},
	"events.amazonaws.com":     {"arn:aws:events:us-east-1:123456789012:rule/canalco-<stack>-*"},
	"budgets.amazonaws.com":    {"arn:aws:budgets::123456789012:budget/canalco-<stack>-*"},
	"events.rds.amazonaws.com": {"arn:aws:rds:us-east-1:123456789012:db:canalco-<stack>-*", "arn:aws:rds:us-east-1:123456789012:pg:*"},
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
		for service, sources := range publishers {
			k := byPrincipal(keyPolicy, service)
			if assert.NotNil(t, k, "%s: the key lets %s encrypt", name, service) {
				assert.ElementsMatch(t, []string{"kms:GenerateDataKey*", "kms:Decrypt"}, k.Action)
				assert.Equal(t, "123456789012", k.Condition["StringEquals"]["aws:SourceAccount"])
			}
			p := byPrincipal(topicPolicy, service)
			if assert.NotNil(t, p, "%s: %s may publish", name, service) {
				assert.Equal(t, []string{"sns:Publish"}, p.Action)
				assert.Equal(t, []string{topic.Outputs["arn"].(string)}, p.Resource)
				assert.Equal(t, "123456789012", p.Condition["StringEquals"]["aws:SourceAccount"])
				var want []any
				for _, s := range sources {
					want = append(want, strings.ReplaceAll(s, "<stack>", name))
				}
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

// RDS.20 and RDS.21: the database's and the parameter groups' critical events reach the topic.
func TestRDSEventsReachTheTopic(t *testing.T) {
	check := func(st *stack) {
		topic := st.topic(t).Outputs["arn"]
		instances := st.res.Named("aws:rds/eventSubscription:EventSubscription", "canalco-"+st.name+"-rds")
		require.NotNil(t, instances, st.name)
		assert.Equal(t, topic, instances.Str("snsTopic"))
		assert.Equal(t, "db-instance", instances.Str("sourceType"))
		assert.True(t, instances.Bool("enabled"))
		assert.Subset(t, instances.Strings("eventCategories"), []string{"failure", "failover", "maintenance", "configuration change", "low storage", "availability", "recovery", "notification"})
		ids := []string{st.database}
		if st.replica != "" {
			ids = append(ids, st.replica)
		}
		assert.Equal(t, ids, instances.Strings("sourceIds"))
		groups := st.res.Named("aws:rds/eventSubscription:EventSubscription", "canalco-"+st.name+"-rds-parameters")
		require.NotNil(t, groups, st.name)
		assert.Equal(t, topic, groups.Str("snsTopic"))
		assert.Equal(t, "db-parameter-group", groups.Str("sourceType"))
		assert.Equal(t, []string{"configuration change"}, groups.Strings("eventCategories"))
	}
	for _, name := range offline.Stacks {
		check(load(t, name))
	}
}
