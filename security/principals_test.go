package security_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/security"
)

// keyConditions is, for every AWS service principal a KMS key policy of the platform names, the
// condition keys AWS documents for that service's KMS calls, and the page that documents them.
// A key statement may only condition on these: a condition on a key the service's request does
// not carry denies it, and the service then drops what it was delivering without an error.
var keyConditions = map[string]struct {
	keys []string
	page string
}{
	"cloudwatch.amazonaws.com": {[]string{"aws:SourceAccount", "aws:SourceArn"},
		"Amazon SNS Developer Guide, Configure AWS KMS permissions for AWS services (sns-key-management.html#compatibility-with-aws-services); CloudWatch alarm actions to encrypted topics"},
	"events.amazonaws.com": {nil,
		"Amazon EventBridge User Guide, Using resource-based policies: Amazon SNS permissions, encrypted topics (eb-use-resource-based.html#eb-sns-permissions): aws:SourceAccount/aws:SourceArn are not carried in the KMS request"},
	"budgets.amazonaws.com": {[]string{"aws:SourceAccount", "aws:SourceArn"},
		"AWS Budgets User Guide, Creating an Amazon SNS topic for budget notifications: encrypted topics (budgets-sns-policy.html)"},
	"cloudfront.amazonaws.com": {[]string{"aws:SourceArn", "kms:EncryptionContext:aws:s3:arn"},
		"Amazon CloudFront Developer Guide, Restrict access to an Amazon S3 origin: SSE-KMS key policy (AWS:SourceArn only); Amazon S3 User Guide, Reducing the cost of SSE-KMS with S3 Bucket Keys (encryption context aws:s3:arn)"},
	"logs.us-east-1.amazonaws.com": {[]string{"kms:EncryptionContext:aws:logs:arn"},
		"Amazon CloudWatch Logs User Guide, Encrypt log data in CloudWatch Logs using AWS KMS (encrypt-log-data-kms.html)"},
	// Not documented to carry any source key in their KMS calls: unconditioned, confined by
	// the topic's or queue's own policy.
	"ses.amazonaws.com":       {nil, "Amazon SES Developer Guide, Set up an Amazon SNS event destination (event-publishing-add-event-destination-sns.html): the key policy example has no condition"},
	"sns.amazonaws.com":       {nil, "Amazon SNS Developer Guide, Configure AWS KMS permissions for AWS services: the key policy example has no condition"},
	"scheduler.amazonaws.com": {nil, "Amazon SNS Developer Guide, Configure AWS KMS permissions for AWS services: the key policy example has no condition"},
}

// Every service principal of every key policy in the three stacks conditions only on what AWS
// documents for it.
func TestServicePrincipalsKeyConditionsAreDocumented(t *testing.T) {
	seen := map[string]bool{}
	for _, stack := range offline.Stacks {
		res := offline.Stack(t, stack)
		for _, key := range res.OfType("aws:kms/key:Key") {
			doc, err := security.ParseDocument(key.Str("policy"))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range doc.Statement {
				for _, service := range security.Strings(s.Principal["Service"]) {
					seen[service] = true
					want, known := keyConditions[service]
					if !known {
						t.Errorf("%s %s: %s has no documented condition keys in keyConditions: find AWS's page for its KMS calls", stack, key.Name, service)
						continue
					}
					for _, conds := range s.Condition {
						for k := range conds {
							if !slices.ContainsFunc(want.keys, func(w string) bool { return strings.EqualFold(w, k) }) {
								t.Errorf("%s %s %s: condition on %s, which %s's KMS calls are not documented to carry (%s)", stack, key.Name, s.Sid, k, service, want.page)
							}
						}
					}
				}
			}
		}
	}
	// The table lists what the stacks use; a stale row would hide a principal's removal.
	for service := range keyConditions {
		if !seen[service] {
			t.Errorf("keyConditions lists %s, which no key policy names", service)
		}
	}
}

// Every action of every SNS topic policy is one SNS documents as a topic-policy action (SNS
// Developer Guide, "Amazon SNS API permissions: Actions and resources reference") and an
// operation of SNS's API (botocore's model): no wildcard such as sns:*.
func TestTopicPoliciesNameSNSActions(t *testing.T) {
	operations := offline.LoadAPIModel(t, "sns").Operations
	for _, a := range security.TopicPolicyActions {
		if _, ok := operations[strings.TrimPrefix(a, "sns:")]; !ok {
			t.Errorf("%s is not an SNS operation in botocore's model", a)
		}
	}
	for _, stack := range offline.Stacks {
		res := offline.Stack(t, stack)
		var policies []string
		for _, topic := range res.OfType("aws:sns/topic:Topic") {
			policies = append(policies, topic.Str("policy"))
		}
		for _, p := range res.OfType("aws:sns/topicPolicy:TopicPolicy") {
			policies = append(policies, p.Str("policy"))
		}
		count := 0
		for _, policy := range policies {
			if policy == "" {
				continue
			}
			doc, err := security.ParseDocument(policy)
			if err != nil {
				t.Fatal(err)
			}
			count++
			for _, s := range doc.Statement {
				for _, a := range append(slices.Clone(s.Action), s.NotAction...) {
					if !slices.ContainsFunc(security.TopicPolicyActions, func(v string) bool { return strings.EqualFold(v, a) }) {
						t.Errorf("%s: topic policy statement %s names %s, not a topic-policy action", stack, s.Sid, a)
					}
				}
			}
		}
		if count == 0 {
			t.Errorf("%s: no topic policy read", stack)
		}
	}
}
