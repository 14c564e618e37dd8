package graph

import (
	"encoding/json"
	"strings"

	"github.com/canalco/infra/security"
)

// Statement is one statement of an IAM, bucket, queue, topic or key policy. Action, Resource
// and the principal's values may be a string or a list in JSON; here they are always lists.
type Statement struct {
	Effect     string
	Principals map[string][]string // "AWS", "Service", "Federated", or "*" for Principal: "*"
	Actions    []string
	NotActions []string
	Resources  []string
	Condition  map[string]map[string]any
}

// Policy parses a policy document; a value that is not a document has no statements.
func Policy(doc any) []Statement {
	s, ok := doc.(string)
	if !ok || s == "" {
		return nil
	}
	var raw struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(s), &raw) != nil {
		return nil
	}
	var list []map[string]any
	if json.Unmarshal(raw.Statement, &list) != nil {
		var one map[string]any
		if json.Unmarshal(raw.Statement, &one) != nil {
			return nil
		}
		list = []map[string]any{one}
	}
	out := make([]Statement, 0, len(list))
	for _, m := range list {
		st := Statement{Principals: map[string][]string{}, Condition: map[string]map[string]any{}}
		st.Effect, _ = m["Effect"].(string)
		st.Actions, st.NotActions, st.Resources = security.Strings(m["Action"]), security.Strings(m["NotAction"]), security.Strings(m["Resource"])
		switch p := m["Principal"].(type) {
		case string:
			st.Principals["*"] = []string{p}
		case map[string]any:
			for k, v := range p {
				st.Principals[k] = security.Strings(v)
			}
		}
		if c, ok := m["Condition"].(map[string]any); ok {
			for op, v := range c {
				if kv, ok := v.(map[string]any); ok {
					st.Condition[op] = kv
				}
			}
		}
		out = append(out, st)
	}
	return out
}

// Public reports whether an Allow statement admits anyone ("*") without a condition.
func (s Statement) Public() bool {
	if s.Effect != "Allow" || len(s.Condition) > 0 {
		return false
	}
	for k, vs := range s.Principals {
		for _, v := range vs {
			if v == "*" && (k == "*" || k == "AWS") {
				return true
			}
		}
	}
	return false
}

// HasConditionKey reports whether any condition operator tests the key (case-insensitive).
func (s Statement) HasConditionKey(key string) bool {
	for _, kv := range s.Condition {
		for k := range kv {
			if strings.EqualFold(k, key) {
				return true
			}
		}
	}
	return false
}
