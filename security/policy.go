// Package security holds what every layer uses to protect itself: IAM policy documents and
// customer-managed KMS keys.
package security

import (
	"encoding/json"
	"fmt"
)

// Statement is one IAM policy statement. NotAction and NotResource match everything but
// what they list (a deny of all but ...).
type Statement struct {
	Sid         string                    `json:"Sid,omitempty"`
	Effect      string                    `json:"Effect"`
	Principal   map[string]any            `json:"Principal,omitempty"`
	Action      []string                  `json:"Action,omitempty"`
	NotAction   []string                  `json:"NotAction,omitempty"`
	Resource    []string                  `json:"Resource,omitempty"`
	NotResource []string                  `json:"NotResource,omitempty"`
	Condition   map[string]map[string]any `json:"Condition,omitempty"`
}

// Allow is an Allow statement for actions on resources.
func Allow(sid string, actions, resources []string) Statement {
	return Statement{Sid: sid, Effect: "Allow", Action: actions, Resource: resources}
}

// Document renders a policy document.
func Document(statements ...Statement) string {
	b, err := json.Marshal(struct {
		Version   string      `json:"Version"`
		Statement []Statement `json:"Statement"`
	}{"2012-10-17", statements})
	if err != nil {
		panic(fmt.Sprintf("security: policy document: %v", err)) // only plain strings go in
	}
	return string(b)
}

// AssumeRole is a trust policy for an AWS service, limited to this account so that no other
// account's resources can use the role through the service (the confused-deputy problem).
func AssumeRole(service, accountID string) string {
	return Document(Statement{
		Effect:    "Allow",
		Principal: map[string]any{"Service": service},
		Action:    []string{"sts:AssumeRole"},
		Condition: map[string]map[string]any{"StringEquals": {"aws:SourceAccount": accountID}},
	})
}

// TopicPolicyActions are the actions an SNS topic policy may name: SNS Developer Guide,
// "Amazon SNS API permissions: Actions and resources reference", valid Amazon SNS policy
// actions. A wildcard such as sns:* is not among them.
var TopicPolicyActions = []string{
	"sns:AddPermission", "sns:DeleteTopic", "sns:GetDataProtectionPolicy", "sns:GetTopicAttributes",
	"sns:ListSubscriptionsByTopic", "sns:ListTagsForResource", "sns:Publish", "sns:PutDataProtectionPolicy",
	"sns:RemovePermission", "sns:SetTopicAttributes", "sns:Subscribe",
}

// DenyInsecureTransport refuses any request to the resources not made over TLS
// (S3.5, SNS and SQS encryption-in-transit guidance). A topic policy lists SNS's actions.
func DenyInsecureTransport(actionPrefix string, resources []string) Statement {
	actions := []string{actionPrefix + ":*"}
	if actionPrefix == "sns" {
		actions = TopicPolicyActions
	}
	return Statement{
		Sid:       "DenyInsecureTransport",
		Effect:    "Deny",
		Principal: map[string]any{"AWS": "*"},
		Action:    actions,
		Resource:  resources,
		Condition: map[string]map[string]any{"Bool": {"aws:SecureTransport": "false"}},
	}
}

// Parsed is a policy document read back: what tests and reviews inspect.
type Parsed struct {
	Version   string
	Statement []Statement
}

// ParseDocument reads a document written by Document.
func ParseDocument(doc string) (*Parsed, error) {
	var p Parsed
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return nil, fmt.Errorf("security: policy document: %w", err)
	}
	return &p, nil
}

// Sid returns the statement with the Sid, or nil.
func (p *Parsed) Sid(sid string) *Statement {
	for i := range p.Statement {
		if p.Statement[i].Sid == sid {
			return &p.Statement[i]
		}
	}
	return nil
}

// Strings reads a policy value that JSON may hold as one string or as a list, as a list.
func Strings(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
