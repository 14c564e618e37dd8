package serverless_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
)

// Resource types this layer registers.
const (
	layerToken        = "canalco:serverless:Serverless"
	functionToken     = "canalco:serverless:Function"
	functionType      = "aws:lambda/function:Function"
	invokeConfigType  = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
	mappingType       = "aws:lambda/eventSourceMapping:EventSourceMapping"
	permissionType    = "aws:lambda/permission:Permission"
	logGroupType      = "aws:cloudwatch/logGroup:LogGroup"
	roleType          = "aws:iam/role:Role"
	rolePolicyType    = "aws:iam/rolePolicy:RolePolicy"
	objectType        = "aws:s3/bucketObjectv2:BucketObjectv2"
	bucketType        = "aws:s3/bucketV2:BucketV2"
	queueType         = "aws:sqs/queue:Queue"
	topicType         = "aws:sns/topic:Topic"
	subscriptionType  = "aws:sns/topicSubscription:TopicSubscription"
	scheduleType      = "aws:scheduler/schedule:Schedule"
	keyType           = "aws:kms/key:Key"
	identityType      = "aws:sesv2/emailIdentity:EmailIdentity"
	mailFromType      = "aws:sesv2/emailIdentityMailFromAttributes:EmailIdentityMailFromAttributes"
	configSetType     = "aws:sesv2/configurationSet:ConfigurationSet"
	eventDestType     = "aws:sesv2/configurationSetEventDestination:ConfigurationSetEventDestination"
	suppressionType   = "aws:sesv2/accountSuppressionAttributes:AccountSuppressionAttributes"
	templateType      = "aws:ses/template:Template"
	recordType        = "aws:route53/record:Record"
	secretType        = "aws:secretsmanager/secret:Secret"
	secretVersionType = "aws:secretsmanager/secretVersion:SecretVersion"
)

// functions are the four functions by folder, with the sizing the layer promises.
var functions = []struct {
	folder                    string
	timeout, memory, reserved float64
	onFailure                 string // queue thing, "" without async invocations
	queue                     string // source queue thing, "" without one
	batchSize, window         float64
}{
	{folder: "notifications", timeout: 30, memory: 256, reserved: 5, onFailure: "notifications-dlq"},
	{folder: "audit", timeout: 60, memory: 256, reserved: 5, queue: "audit", batchSize: 100, window: 10},
	{folder: "cleanup", timeout: 300, memory: 256, reserved: 1, onFailure: "jobs-dlq"},
	{folder: "reports", timeout: 300, memory: 1769, reserved: 2, onFailure: "jobs-dlq", queue: "reports", batchSize: 1},
}

// recoveryFunctions are the recovery functions of a stack (recovery_test.go checks them): the
// RPO reader everywhere, the restore check where restore testing runs.
func recoveryFunctions(stack string) []string {
	if stack == "dev" {
		return []string{"recovery"}
	}
	return []string{"recovery", "restore-check"}
}

// layer returns the resources of a type inside the serverless layer.
func layer(res *offline.Result, token string) []*offline.Resource {
	var out []*offline.Resource
	for _, r := range res.OfType(token) {
		if res.Ancestor(r, layerToken) != nil {
			out = append(out, r)
		}
	}
	return out
}

// named returns the resource of a type with the logical name, failing the test without it.
func named(t *testing.T, res *offline.Result, token, name string) *offline.Resource {
	t.Helper()
	r := res.Named(token, name)
	if r == nil {
		t.Fatalf("no %s named %s", token, name)
	}
	return r
}

// accountOfName is the account of the stack a canalco-<stack>-<thing> name belongs to.
func accountOfName(name string) string { return offline.AccountOf(strings.Split(name, "-")[1]) }

// prefix is canalco-<stack>.
func prefix(stack string) string { return "canalco-" + stack }

// queueArn and friends are the ARNs AWS gives resources of the offline account.
func queueArn(name string) string { return "arn:aws:sqs:us-east-1:" + accountOfName(name) + ":" + name }
func topicArn(name string) string { return "arn:aws:sns:us-east-1:" + accountOfName(name) + ":" + name }
func functionArn(name string) string {
	return "arn:aws:lambda:us-east-1:" + accountOfName(name) + ":function:" + name
}

// layerKeyArn is the ARN of the layer's own KMS key.
func layerKeyArn(t *testing.T, res *offline.Result, stack string) string {
	t.Helper()
	arn, _ := named(t, res, keyType, prefix(stack)+"-serverless").Outputs["arn"].(string)
	if arn == "" {
		t.Fatal("the serverless key has no ARN")
	}
	return arn
}

// storageKeyArn is the storage layer's key, which encrypts the data buckets.
func storageKeyArn(t *testing.T, res *offline.Result) string {
	t.Helper()
	for _, k := range res.OfType(keyType) {
		if res.Ancestor(k, "canalco:storage:Buckets") != nil {
			return k.Outputs["arn"].(string)
		}
	}
	t.Fatal("the storage layer has no key")
	return ""
}

// strs reads a policy field that may be a string or a list of strings.
type strs []string

func (s *strs) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*s = []string{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(s))
}

// statement is one parsed IAM statement.
type statement struct {
	Sid       string
	Effect    string
	Principal map[string]any
	Action    strs
	Resource  strs
	Condition map[string]map[string]any
}

// document parses an IAM policy document.
func document(t *testing.T, text string) []statement {
	t.Helper()
	var doc struct {
		Version   string
		Statement []statement
	}
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatalf("policy is not JSON: %v\n%s", err, text)
	}
	if doc.Version != "2012-10-17" || len(doc.Statement) == 0 {
		t.Fatalf("policy without version or statements: %s", text)
	}
	return doc.Statement
}

// sid returns the statement with the Sid, failing the test without it.
func sid(t *testing.T, doc []statement, id string) statement {
	t.Helper()
	for _, s := range doc {
		if s.Sid == id {
			return s
		}
	}
	t.Fatalf("no statement %s in %+v", id, doc)
	return statement{}
}

// hasSid reports whether the document has a statement with the Sid.
func hasSid(doc []statement, id string) bool {
	for _, s := range doc {
		if s.Sid == id {
			return true
		}
	}
	return false
}
