package serverless_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
)

func TestQueueMappingsReportPartialBatchFailures(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			p := prefix(stack)
			mappings := layer(res, mappingType)
			found := 0
			for _, f := range functions {
				if f.queue == "" {
					continue
				}
				found++
				m := named(t, res, mappingType, p+"-"+f.queue)
				if m.Str("eventSourceArn") != queueArn(p+"-"+f.queue) || m.Str("functionName") != functionArn(p+"-"+f.folder) {
					t.Errorf("%s: maps %s to %s", f.queue, m.Str("eventSourceArn"), m.Str("functionName"))
				}
				if types := m.Strings("functionResponseTypes"); len(types) != 1 || types[0] != "ReportBatchItemFailures" {
					t.Errorf("%s: response types %v: one bad message would fail its whole batch", f.queue, types)
				}
				if m.Num("batchSize") != f.batchSize || m.Num("maximumBatchingWindowInSeconds") != f.window {
					t.Errorf("%s: batch %v window %v, want %v %v", f.queue, m.Num("batchSize"), m.Num("maximumBatchingWindowInSeconds"), f.batchSize, f.window)
				}
				// SQS allows a batch over 10 only with a batching window.
				if m.Num("batchSize") > 10 && m.Num("maximumBatchingWindowInSeconds") < 1 {
					t.Errorf("%s: batch size over 10 needs a batching window", f.queue)
				}
				if c := m.Num("scalingConfig.maximumConcurrency"); c < 2 || c > f.reserved && f.reserved >= 2 {
					t.Errorf("%s: maximum concurrency %v with %v reserved: throttled batches would reach the DLQ", f.queue, c, f.reserved)
				}
				if !m.DependsOn(named(t, res, rolePolicyType, p+"-"+f.folder).URN) {
					t.Errorf("%s: the mapping is created before the role may read the queue", f.queue)
				}
			}
			if len(mappings) != found {
				t.Errorf("%d mappings, want %d", len(mappings), found)
			}
		})
	}
}

func TestDomainEventsReachNotifications(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			p := prefix(stack)
			sub := named(t, res, subscriptionType, p+"-events-notifications")
			if sub.Str("topic") != topicArn(p+"-events") || sub.Str("protocol") != "lambda" || sub.Str("endpoint") != functionArn(p+"-notifications") {
				t.Errorf("subscription %v", sub.Inputs)
			}
			var redrive struct{ DeadLetterTargetArn string }
			if err := json.Unmarshal([]byte(sub.Str("redrivePolicy")), &redrive); err != nil || redrive.DeadLetterTargetArn != queueArn(p+"-notifications-dlq") {
				t.Errorf("subscription redrive %q: undeliverable events would be lost", sub.Str("redrivePolicy"))
			}
			perm := named(t, res, permissionType, p+"-events-invoke")
			if !sub.DependsOn(perm.URN) {
				t.Error("the subscription exists before SNS may invoke the function")
			}
		})
	}
}

// Lambda.1: no function may be invoked by anyone but the one resource it is wired to.
func TestEveryPermissionNamesItsSource(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			perms := layer(res, permissionType)
			if len(perms) == 0 {
				t.Fatal("no lambda permission: SNS could not invoke notifications")
			}
			// By principal: the source ARN and the function it may invoke.
			want := map[string][2]string{
				"sns.amazonaws.com":            {topicArn(prefix(stack) + "-events"), prefix(stack) + "-notifications"},
				"secretsmanager.amazonaws.com": {masterSecretArn(stack), prefix(stack) + "-rotation"},
			}
			for _, perm := range perms {
				if perm.Str("action") != "lambda:InvokeFunction" {
					t.Errorf("%s: action %q", perm.Name, perm.Str("action"))
				}
				w, known := want[perm.Str("principal")]
				if !known || perm.Str("sourceArn") != w[0] {
					t.Errorf("%s: principal %q source %q: every permission must name its source ARN", perm.Name, perm.Str("principal"), perm.Str("sourceArn"))
				}
				if perm.Str("function") != w[1] {
					t.Errorf("%s: on %q", perm.Name, perm.Str("function"))
				}
			}
		})
	}
}

func TestSchedulesRunInTheUsersTimeZoneWithRetriesAndDLQ(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			p, key := prefix(stack), layerKeyArn(t, res, stack)
			summary := len(res.Config.Values["canalco:summaryRecipients"]) > len("[]")
			want := map[string]string{p + "-cleanup": p + "-cleanup", p + "-recovery": p + "-recovery"}
			if summary {
				want[p+"-summary"] = p + "-notifications"
			}
			schedules := layer(res, scheduleType)
			if len(schedules) != len(want) {
				t.Fatalf("%d schedules, want %d (a summary only with recipients)", len(schedules), len(want))
			}
			for _, s := range schedules {
				fn, ok := want[s.Str("name")]
				if !ok {
					t.Errorf("unexpected schedule %s", s.Str("name"))
					continue
				}
				if s.Str("scheduleExpressionTimezone") != "America/Bogota" || s.Str("flexibleTimeWindow.mode") != "OFF" || s.Str("state") != "ENABLED" {
					t.Errorf("%s: timezone %q window %q state %q", s.Name, s.Str("scheduleExpressionTimezone"), s.Str("flexibleTimeWindow.mode"), s.Str("state"))
				}
				if s.Str("kmsKeyArn") != key {
					t.Errorf("%s: input not encrypted with the layer's key", s.Name)
				}
				if s.Str("target.arn") != functionArn(fn) || s.Str("target.deadLetterConfig.arn") != queueArn(p+"-scheduler-dlq") {
					t.Errorf("%s: target %q DLQ %q", s.Name, s.Str("target.arn"), s.Str("target.deadLetterConfig.arn"))
				}
				if s.Num("target.retryPolicy.maximumRetryAttempts") < 1 || s.Num("target.retryPolicy.maximumEventAgeInSeconds") < 60 {
					t.Errorf("%s: retry policy %v", s.Name, s.Get("target.retryPolicy"))
				}
				var input map[string]any
				if err := json.Unmarshal([]byte(s.Str("target.input")), &input); err != nil || input["source"] != "canalco.schedule" {
					t.Errorf("%s: input %q", s.Name, s.Str("target.input"))
				}
				checkSchedulerRole(t, res, s, key)
			}
			cleanup := named(t, res, scheduleType, p+"-cleanup")
			if cleanup.Str("scheduleExpression") != "cron(0 3 * * ? *)" || cleanup.Str("target.input") != `{"source":"canalco.schedule","type":"cleanup.daily"}` {
				t.Errorf("cleanup: %q %q", cleanup.Str("scheduleExpression"), cleanup.Str("target.input"))
			}
			if summary {
				var input struct {
					Type       string
					Recipients []string
					Data       map[string]string
				}
				_ = json.Unmarshal([]byte(named(t, res, scheduleType, p+"-summary").Str("target.input")), &input)
				if input.Type != "summary.scheduled" || len(input.Recipients) == 0 || input.Data["report"] == "" || input.Data["url"] == "" {
					t.Errorf("summary input %+v: the notifications handler would skip it", input)
				}
			}
		})
	}
}

// checkSchedulerRole: each schedule's execution role is its own, trusts Scheduler for this
// account only, and may invoke exactly its function and write to the scheduler DLQ.
func checkSchedulerRole(t *testing.T, res *offline.Result, s *offline.Resource, key string) {
	t.Helper()
	role := named(t, res, roleType, s.Str("name")+"-schedule")
	if s.Str("target.roleArn") != role.Outputs["arn"] {
		t.Errorf("%s: role %q", s.Name, s.Str("target.roleArn"))
	}
	trust := document(t, role.Str("assumeRolePolicy"))
	if len(trust) != 1 || trust[0].Principal["Service"] != "scheduler.amazonaws.com" || trust[0].Condition["StringEquals"]["aws:SourceAccount"] != res.Config.Account() {
		t.Errorf("%s: trust %+v", s.Name, trust)
	}
	policy := named(t, res, rolePolicyType, s.Str("name")+"-schedule")
	doc := document(t, policy.Str("policy"))
	invoke := sid(t, doc, "Invoke")
	if len(invoke.Resource) != 1 || invoke.Resource[0] != s.Str("target.arn") || len(invoke.Action) != 1 || invoke.Action[0] != "lambda:InvokeFunction" {
		t.Errorf("%s: invoke grant %+v", s.Name, invoke)
	}
	if dl := sid(t, doc, "DeadLetters"); dl.Resource[0] != s.Str("target.deadLetterConfig.arn") || dl.Action[0] != "sqs:SendMessage" {
		t.Errorf("%s: DLQ grant %+v", s.Name, dl)
	}
	if k := sid(t, doc, "LayerKey"); len(k.Resource) != 1 || k.Resource[0] != key {
		t.Errorf("%s: key grant %+v", s.Name, k)
	}
	if len(doc) != 3 {
		t.Errorf("%s: %d statements, want exactly 3", s.Name, len(doc))
	}
	if !s.DependsOn(policy.URN) {
		t.Errorf("%s: the schedule may fire before its role may invoke", s.Name)
	}
}

// The weekly report (the seed's "Reportes programados") runs on the configured day and hour in
// Bogotá and asks the reports function for the configured report, format and recipients;
// without recipients there is no schedule.
func TestWeeklyReportFollowsItsSettings(t *testing.T) {
	res, err := offline.WithValues(t, "dev", map[string]string{
		"canalco:reportScheduleReport": "requisitions", "canalco:reportScheduleDay": "FRI", "canalco:reportScheduleHour": "18",
		"canalco:reportScheduleFormat": "pdf", "canalco:reportScheduleRecipients": `["gerencia@canalco.co","compras@canalco.co"]`,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := named(t, res, scheduleType, "canalco-dev-weekly-report")
	if s.Str("scheduleExpression") != "cron(0 18 ? * FRI *)" || s.Str("scheduleExpressionTimezone") != "America/Bogota" || s.Str("target.arn") != functionArn("canalco-dev-reports") {
		t.Errorf("weekly report: %q in %q to %q", s.Str("scheduleExpression"), s.Str("scheduleExpressionTimezone"), s.Str("target.arn"))
	}
	var input map[string]any
	if err := json.Unmarshal([]byte(s.Str("target.input")), &input); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"source": "canalco.schedule", "type": "report.scheduled", "report": "requisitions", "format": "pdf",
		"days": float64(7), "recipients": []any{"gerencia@canalco.co", "compras@canalco.co"}}
	if !reflect.DeepEqual(input, want) {
		t.Errorf("input %v, want %v", input, want)
	}
	checkSchedulerRole(t, res, s, layerKeyArn(t, res, "dev"))

	for _, stack := range offline.Stacks {
		for _, s := range layer(offline.Stack(t, stack), scheduleType) {
			if strings.HasSuffix(s.Str("name"), "-weekly-report") {
				t.Errorf("%s: a weekly report to nobody", stack)
			}
		}
	}
}
