package serverless_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
)

var deadLetterQueues = []string{"audit-dlq", "reports-dlq", "notifications-dlq", "jobs-dlq", "scheduler-dlq"}

// backendRoleArn is the compute layer's application role, the one only its instance role may
// assume: the producer of events and messages.
func backendRoleArn(t *testing.T, res *offline.Result) string {
	t.Helper()
	for _, r := range res.OfType(roleType) {
		if res.Ancestor(r, "canalco:compute:Compute") != nil && strings.HasSuffix(r.Str("name"), "-app") {
			return r.Outputs["arn"].(string)
		}
	}
	t.Fatal("the compute layer has no application role")
	return ""
}

func TestQueuesAreEncryptedAndRedriveToDeadLetterQueues(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			p, key := prefix(stack), layerKeyArn(t, res, stack)
			if got := len(layer(res, queueType)); got != len(deadLetterQueues)+2 {
				t.Errorf("%d queues, want %d", got, len(deadLetterQueues)+2)
			}
			for _, q := range layer(res, queueType) {
				if q.Str("kmsMasterKeyId") != key {
					t.Errorf("%s: key %q, want the layer's key (SQS.1)", q.Name, q.Str("kmsMasterKeyId"))
				}
				deny := sid(t, document(t, q.Str("policy")), "DenyInsecureTransport")
				if deny.Effect != "Deny" || deny.Condition["Bool"]["aws:SecureTransport"] != "false" || deny.Resource[0] != queueArn(q.Str("name")) {
					t.Errorf("%s: requests without TLS are not refused: %+v", q.Name, deny)
				}
			}
			for _, dlq := range deadLetterQueues {
				q := named(t, res, queueType, p+"-"+dlq)
				if q.Num("messageRetentionSeconds") != 14*24*3600 {
					t.Errorf("%s: retention %v, want 14 days", dlq, q.Num("messageRetentionSeconds"))
				}
			}
			for _, f := range functions {
				if f.queue == "" {
					continue
				}
				q := named(t, res, queueType, p+"-"+f.queue)
				var redrive struct {
					DeadLetterTargetArn string
					MaxReceiveCount     float64
				}
				if err := json.Unmarshal([]byte(q.Str("redrivePolicy")), &redrive); err != nil {
					t.Fatalf("%s: redrive policy %q: %v", f.queue, q.Str("redrivePolicy"), err)
				}
				if redrive.DeadLetterTargetArn != queueArn(p+"-"+f.queue+"-dlq") || redrive.MaxReceiveCount != 5 {
					t.Errorf("%s: redrive %+v, want 5 receives then %s-dlq", f.queue, redrive, f.queue)
				}
				// Lambda's rule: at least six times the function timeout plus the batching window.
				if v := q.Num("visibilityTimeoutSeconds"); v < 6*f.timeout+f.window {
					t.Errorf("%s: visibility timeout %vs, want at least %vs", f.queue, v, 6*f.timeout+f.window)
				}
				if q.Num("messageRetentionSeconds") >= 14*24*3600 {
					t.Errorf("%s: a source queue must keep messages less long than its DLQ", f.queue)
				}
				backend := sid(t, document(t, q.Str("policy")), "BackendSends")
				if backend.Principal["AWS"] != backendRoleArn(t, res) || len(backend.Action) != 1 || backend.Action[0] != "sqs:SendMessage" {
					t.Errorf("%s: the backend cannot send: %+v", f.queue, backend)
				}
			}
			// SNS may write undeliverable domain events to the notifications DLQ, for its topic only.
			sns := sid(t, document(t, named(t, res, queueType, p+"-notifications-dlq").Str("policy")), "SnsDeadLetters")
			if sns.Principal["Service"] != "sns.amazonaws.com" || sns.Condition["ArnEquals"]["aws:SourceArn"] != topicArn(p+"-events") {
				t.Errorf("notifications DLQ grant: %+v", sns)
			}
		})
	}
}

func TestTopicsAreEncryptedAndAdmitOnlyTheirPublishers(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			p, key := prefix(stack), layerKeyArn(t, res, stack)
			for _, name := range []string{p + "-events", p + "-email-events"} {
				topic := named(t, res, topicType, name)
				if topic.Str("kmsMasterKeyId") != key {
					t.Errorf("%s: key %q, want the layer's key (SNS.1)", name, topic.Str("kmsMasterKeyId"))
				}
				doc := document(t, topic.Str("policy"))
				if deny := sid(t, doc, "DenyInsecureTransport"); deny.Effect != "Deny" || deny.Resource[0] != topicArn(name) {
					t.Errorf("%s: TLS rule %+v", name, deny)
				}
				for _, s := range doc {
					if s.Effect == "Allow" && (s.Principal["AWS"] == "*" || len(s.Action) != 1 || s.Action[0] != "sns:Publish") {
						t.Errorf("%s: grants more than publishing: %+v", name, s)
					}
				}
			}
			events := document(t, named(t, res, topicType, p+"-events").Str("policy"))
			if s := sid(t, events, "BackendSends"); s.Principal["AWS"] != backendRoleArn(t, res) {
				t.Errorf("events: publisher %+v, want the backend's role", s)
			}
			email := document(t, named(t, res, topicType, p+"-email-events").Str("policy"))
			ses := sid(t, email, "SesPublishes")
			if ses.Principal["Service"] != "ses.amazonaws.com" || ses.Condition["StringEquals"]["aws:SourceAccount"] != offline.AccountOf(stack) ||
				ses.Condition["StringEquals"]["aws:SourceArn"] != "arn:aws:ses:us-east-1:"+offline.AccountOf(stack)+":configuration-set/"+p {
				t.Errorf("email-events: SES grant %+v, want the configuration set of this account only", ses)
			}
			if hasSid(email, "BackendSends") {
				t.Error("email-events: only SES publishes there")
			}
		})
	}
}

// The key lets the services that write encrypted messages on the account's behalf use it, and
// the account's principals use it only through SNS and SQS.
func TestLayerKeyPolicy(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			key := named(t, res, keyType, prefix(stack)+"-serverless")
			doc := document(t, key.Str("policy"))
			for _, svc := range []struct{ sid, service string }{{"SnsUse", "sns.amazonaws.com"}, {"SesUse", "ses.amazonaws.com"}, {"SchedulerUse", "scheduler.amazonaws.com"}} {
				s := sid(t, doc, svc.sid)
				// No condition keys these services' KMS calls may lack (security/principals_test.go).
				if s.Principal["Service"] != svc.service || len(s.Condition) != 0 {
					t.Errorf("%s: %+v", svc.sid, s)
				}
			}
			via := sid(t, doc, "AccountUseThroughSnsAndSqs")
			services, _ := via.Condition["StringEquals"]["kms:ViaService"].([]any)
			if via.Condition["StringEquals"]["kms:CallerAccount"] != offline.AccountOf(stack) || len(services) != 2 ||
				services[0] != "sns.us-east-1.amazonaws.com" || services[1] != "sqs.us-east-1.amazonaws.com" {
				t.Errorf("account use: %+v", via)
			}
			for _, s := range doc {
				for _, a := range s.Action {
					if a == "kms:*" && s.Sid != "AccountAdministers" {
						t.Errorf("%s grants kms:*", s.Sid)
					}
				}
			}
			if !key.Bool("enableKeyRotation") {
				t.Error("KMS.4: rotation off")
			}
		})
	}
}
