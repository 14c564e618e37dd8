package monitoring_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/settings"
	"github.com/stretchr/testify/require"
)

// stack is one planned stack with its settings and what monitoring watches in it, read from
// the resources the other layers registered (not from what they report), so a watched name
// that matches no resource fails.
type stack struct {
	name string
	res  *offline.Result
	s    *settings.Settings
	// watched resources, by their AWS names or identifiers.
	asg, lbSuffix, tgSuffix, distribution string
	database, replica                     string
	functions, queues, deadLetterQueues   []string
}

func load(t *testing.T, name string) *stack {
	t.Helper()
	return fromResult(t, offline.Stack(t, name))
}

func fromResult(t *testing.T, res *offline.Result) *stack {
	t.Helper()
	cfg := res.Config
	s, err := settings.Parse(settings.Input{Project: cfg.Project, Stack: cfg.Stack, Values: cfg.Values,
		IsSecret: func(k string) bool { return slices.Contains(cfg.Secrets, k) }})
	require.NoError(t, err)
	st := &stack{name: cfg.Stack, res: res, s: s}
	one := func(typ string) *offline.Resource {
		rs := res.OfType(typ)
		require.Len(t, rs, 1, "one %s in %s", typ, st.name)
		return rs[0]
	}
	st.asg = one("aws:autoscaling/group:Group").Str("name")
	st.lbSuffix, _ = one("aws:lb/loadBalancer:LoadBalancer").Outputs["arnSuffix"].(string)
	st.tgSuffix, _ = one("aws:lb/targetGroup:TargetGroup").Outputs["arnSuffix"].(string)
	st.distribution, _ = one("aws:cloudfront/distribution:Distribution").Outputs["id"].(string)
	for _, db := range res.OfType("aws:rds/instance:Instance") {
		if db.Str("replicateSourceDb") != "" {
			st.replica = db.Str("identifier")
		} else {
			st.database = db.Str("identifier")
		}
	}
	for _, fn := range res.OfType("aws:lambda/function:Function") {
		st.functions = append(st.functions, fn.Str("name"))
	}
	// A dead-letter queue is where something sends what failed: a queue's redrive policy, a
	// function's failure destination, a schedule's dead-letter config.
	dlqArns := map[string]bool{}
	for _, r := range res.Resources {
		failureTargets(r.Inputs, false, dlqArns)
		var redrive struct {
			DeadLetterTargetArn string `json:"deadLetterTargetArn"`
		}
		if raw := r.Str("redrivePolicy"); raw != "" {
			require.NoError(t, json.Unmarshal([]byte(raw), &redrive))
			dlqArns[redrive.DeadLetterTargetArn] = true
		}
	}
	for _, q := range res.OfType("aws:sqs/queue:Queue") {
		if arn, _ := q.Outputs["arn"].(string); dlqArns[arn] {
			st.deadLetterQueues = append(st.deadLetterQueues, q.Str("name"))
		} else {
			st.queues = append(st.queues, q.Str("name"))
		}
	}
	return st
}

// plain is a string input, secret or not.
func plain(v any) string {
	if s, ok := v.(offline.Secret); ok {
		v = s.Value
	}
	str, _ := v.(string)
	return str
}

// failureTargets collects the strings found under keys that name a failure destination.
func failureTargets(v any, under bool, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			failureTargets(e, under || strings.Contains(k, "deadLetter") || k == "onFailure", out)
		}
	case []any:
		for _, e := range x {
			failureTargets(e, under, out)
		}
	case string:
		if under {
			out[x] = true
		}
	}
}

// alarms are the stack's metric alarms by AWS name.
func (st *stack) alarms() map[string]*offline.Resource {
	out := map[string]*offline.Resource{}
	for _, a := range st.res.OfType("aws:cloudwatch/metricAlarm:MetricAlarm") {
		out[a.Str("name")] = a
	}
	return out
}

// short is a name without the stack prefix.
func (st *stack) short(name string) string { return strings.TrimPrefix(name, "canalco-"+st.name+"-") }

// topic is the alarm topic of the stack's region: the one on the provider named "aws".
func (st *stack) topic(t *testing.T) *offline.Resource {
	t.Helper()
	for _, r := range st.res.OfType("aws:sns/topic:Topic") {
		if r.Str("name") == "canalco-"+st.name+"-alarms" && st.inMainRegion(r) {
			return r
		}
	}
	t.Fatalf("no alarm topic in %s", st.name)
	return nil
}

// inMainRegion reports whether r is created through the stack's own provider.
func (st *stack) inMainRegion(r *offline.Resource) bool {
	return strings.HasPrefix(r.Provider, "urn:pulumi:"+st.name+"::canalco::pulumi:providers:aws::aws::")
}
