package iamcheck_test

import (
	"encoding/json"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/storage"
	"github.com/stretchr/testify/require"
)

// recordedCall is one AWS call a function's handler made under moto
// (serverless/functions/tests/test_runtime_calls.py), in the record's stack (canalco-prod,
// account 123456789012).
type recordedCall struct {
	Service, Operation, Scenario string
	Params                       map[string]any
	// Fake: answered by a named fake (moto lacks the operation). Presigned: a URL the handler
	// signs, which its holder calls later with the signer's rights.
	Fake, Presigned bool
}

// The record's stack, rewritten into each planned stack's.
const recordAccount, recordPrefix = "123456789012", "canalco-prod"

// runtimeRequests turns a function's recorded calls into the requests IAM authorizes, with the
// ARNs AWS uses: an object's, a database's, a recovery point's (an RDS snapshot's for a
// database), and what S3 does with the bucket's key on the caller's behalf.
func (p *plan) runtimeRequests(t *testing.T, fn *offline.Resource, calls []recordedCall) []request {
	restack := strings.NewReplacer(recordAccount, p.account, recordPrefix, "canalco-"+p.stack, "canalco_prod", "canalco_"+p.stack)
	str := func(c recordedCall, key string) string { v, _ := c.Params[key].(string); return restack.Replace(v) }
	rds := func(kind, id string) string { return "arn:aws:rds:us-east-1:" + p.account + ":" + kind + ":" + id }
	var out []request
	object := func(what, action, bucket, key string) {
		out = append(out, p.onObject(what, action, bucket, key))
		if k := p.bucketKey(bucket); k != "" {
			kms := map[string]string{"s3:GetObject": "kms:Decrypt", "s3:PutObject": "kms:GenerateDataKey"}[action]
			if kms != "" { // SSE-KMS: S3 uses the bucket's key with the caller's rights
				out = append(out, p.onKey(t, what, kms, k, map[string]any{"kms:ViaService": "s3.us-east-1.amazonaws.com"}))
			}
		}
	}
	for _, c := range calls {
		what := fn.Str("name") + ": " + c.Scenario + ": " + c.Service + ":" + c.Operation
		switch c.Service + ":" + c.Operation {
		case "s3:PutObject", "s3:GetObject":
			object(what, c.Service+":"+c.Operation, str(c, "Bucket"), str(c, "Key"))
		case "s3:CopyObject":
			source, key, _ := strings.Cut(str(c, "CopySource"), "/")
			object(what, "s3:GetObject", source, key)
			object(what, "s3:PutObject", str(c, "Bucket"), str(c, "Key"))
		case "s3:DeleteObjects":
			keys, _ := c.Params["Keys"].([]any)
			require.NotEmpty(t, keys, what)
			for _, k := range keys {
				object(what, "s3:DeleteObject", str(c, "Bucket"), restack.Replace(k.(string)))
			}
		case "s3:ListObjectsV2":
			ctx := region()
			ctx["s3:prefix"], ctx["aws:SecureTransport"] = str(c, "Prefix"), "true"
			bucket := str(c, "Bucket")
			out = append(out, request{what: what, action: "s3:ListBucket", resource: "arn:aws:s3:::" + bucket, context: ctx, resourcePolicy: p.bucketPolicy[bucket]})
		case "sts:AssumeRole":
			out = append(out, p.assumeRole(t, what, str(c, "RoleArn"), str(c, "RoleSessionName")))
		case "ses:SendEmail":
			// The stack's identity and configuration set, from the function's own settings.
			sender, err := mail.ParseAddress(fn.Str("environment.variables.SENDER"))
			require.NoError(t, err, what)
			var identity string
			for _, id := range p.res.OfType("aws:sesv2/emailIdentity:EmailIdentity") {
				identity = id.Str("emailIdentity")
			}
			ctx := region()
			ctx["ses:FromAddress"] = sender.Address
			for _, arn := range []string{"identity/" + identity, "configuration-set/" + fn.Str("environment.variables.CONFIGURATION_SET")} {
				out = append(out, request{what: what, action: "ses:SendEmail", resource: "arn:aws:ses:us-east-1:" + p.account + ":" + arn, context: ctx})
			}
		case "rds:DescribeDBInstances", "rds:ModifyDBInstance":
			out = append(out, request{what: what, action: "rds:" + c.Operation, resource: rds("db", str(c, "DBInstanceIdentifier")), context: region()})
		case "backup:DescribeRecoveryPoint":
			out = append(out, request{what: what, action: "backup:DescribeRecoveryPoint", resource: str(c, "RecoveryPointArn"), context: region()})
		case "backup:ListRestoreJobs":
			// The recovery function looks for restore tests only where the stack has a plan.
			if fn.Str("environment.variables.RESTORE_TESTING_PLAN") != "" {
				out = append(out, request{what: what, action: "backup:ListRestoreJobs", resource: "*", context: region()})
			}
		case "secretsmanager:GetRandomPassword":
			out = append(out, request{what: what, action: "secretsmanager:GetRandomPassword", resource: "*", context: region()})
		case "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage":
			secret := p.secret(t, what, str(c, "SecretId"))
			out = append(out, request{what: what, action: "secretsmanager:" + c.Operation, resource: secret.Outputs["arn"].(string), context: region()})
			// Secrets Manager decrypts a value it returns, and encrypts one it stores, with the
			// secret's key and the caller's rights ("How Secrets Manager uses AWS KMS").
			via := map[string]any{"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}
			if kms := map[string]string{"GetSecretValue": "kms:Decrypt", "PutSecretValue": "kms:GenerateDataKey"}[c.Operation]; kms != "" {
				out = append(out, p.onKey(t, what, kms, secret.Str("kmsKeyId"), via))
			}
		case "backup:GetRestoreTestingPlan":
			// The plan's ARN is its name and an ID AWS appends (AWS Backup API Reference,
			// RestoreTestingPlanForGet).
			if plan := fn.Str("environment.variables.RESTORE_TESTING_PLAN"); plan != "" {
				arn := "arn:aws:backup:us-east-1:" + p.account + ":restore-testing-plan:" + plan + "-8e0bd2f1"
				out = append(out, request{what: what, action: "backup:GetRestoreTestingPlan", resource: arn, context: region()})
			}
		case "backup:DescribeRestoreJob", "backup:PutRestoreValidationResult":
			// Restore jobs have no ARN: these take Resource "*" (Service Authorization Reference).
			out = append(out, request{what: what, action: "backup:" + c.Operation, resource: "*", context: region()})
		default:
			t.Errorf("%s: no ARN rule for %s:%s; add one to runtimeRequests", what, c.Service, c.Operation)
		}
	}
	return out
}

// assumeRole is sts:AssumeRole of one of the stack's roles, under the target role's trust
// policy too: both must allow (IAM User Guide, "Policy evaluation logic").
func (p *plan) assumeRole(t *testing.T, what, arn, session string) request {
	var trust string
	for _, r := range p.res.OfType("aws:iam/role:Role") {
		if "arn:aws:iam::"+p.account+":role/"+r.Str("name") == arn {
			trust = docName(r, "assumeRolePolicy")
		}
	}
	require.NotEmpty(t, trust, "%s: the role %s is the stack's", what, arn)
	ctx := region()
	ctx["sts:RoleSessionName"] = session
	return request{what: what, action: "sts:AssumeRole", resource: arn, context: ctx, resourcePolicy: trust}
}

// secret is the plan's secret a recorded ARN names; the record's six random characters
// (<uuid>) stand for the plan's.
func (p *plan) secret(t *testing.T, what, arn string) *offline.Resource {
	prefix := strings.TrimSuffix(arn, "<uuid>")
	for _, s := range p.res.OfType("aws:secretsmanager/secret:Secret") {
		if a, _ := s.Outputs["arn"].(string); strings.HasPrefix(a, prefix) && len(a) == len(prefix)+6 {
			return s
		}
	}
	t.Fatalf("%s: no secret of the stack is %s", what, arn)
	return nil
}

// functionRole is a function's role name in the plan.
func (p *plan) functionRole(fn *offline.Resource) string {
	return strings.TrimPrefix(fn.Str("role"), "arn:aws:iam::"+p.account+":role/")
}

// TestEveryRecordedRuntimeCallIsAllowed: each call a handler makes (recorded on moto into
// serverless/functions/tests/runtime_calls.json) is allowed to that function's real role
// in each stack that has the function, under the stack's boundary, the bucket policies and
// the key policies, and so is what S3 does with the bucket's key on its behalf.
func TestEveryRecordedRuntimeCallIsAllowed(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(offline.Root(t), "serverless", "functions", "tests", "runtime_calls.json"))
	require.NoError(t, err)
	var record map[string][]recordedCall
	require.NoError(t, json.Unmarshal(raw, &record))
	require.NotEmpty(t, record)
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			p := newPlan(t, stack)
			byRole := map[string][]request{}
			for function, calls := range record {
				fn := p.res.Named("aws:lambda/function:Function", "canalco-"+stack+"-"+function)
				if fn == nil {
					continue // restore-check: only where restore testing is on
				}
				role := p.functionRole(fn)
				require.NotEmpty(t, role, function)
				// A presigned URL is used with the rights of the role that signed it: the
				// role the handler assumed.
				var own, presigned []recordedCall
				signer := role
				for _, c := range calls {
					switch {
					case c.Presigned:
						presigned = append(presigned, c)
					case c.Service == "sts" && c.Operation == "AssumeRole":
						signer = strings.TrimPrefix(strings.Replace(c.Params["RoleArn"].(string), recordPrefix, "canalco-"+stack, 1), "arn:aws:iam::"+recordAccount+":role/")
						own = append(own, c)
					default:
						own = append(own, c)
					}
				}
				byRole[role] = append(byRole[role], p.runtimeRequests(t, fn, own)...)
				byRole[signer] = append(byRole[signer], p.runtimeRequests(t, fn, presigned)...)
			}
			require.NotEmpty(t, byRole)
			for role, reqs := range byRole {
				refused, _ := p.simulate(t, role, reqs)
				for _, r := range refused {
					t.Errorf("%s cannot: %s", role, r)
				}
			}
		})
	}
}

// backend is one stack's backend as the IAM check reads it: the instance role (the host's
// calls) and the application role (the container's).
type backend struct {
	p                             *plan
	instanceRole, appRole, appArn string
	named                         func(typ, name string) *offline.Resource
}

func (p *plan) backend(t *testing.T) backend {
	prefix := "canalco-" + p.stack
	return backend{
		p: p, instanceRole: prefix + "-backend-instance", appRole: prefix + "-app",
		appArn: "arn:aws:iam::" + p.account + ":role/" + prefix + "-app",
		named: func(typ, name string) *offline.Resource {
			r := p.res.Named(typ, name)
			require.NotNil(t, r, "%s %s", typ, name)
			return r
		},
	}
}

// masterSecret is the database's master secret and the key that encrypts it.
func (b backend) masterSecret() (secret, key string) {
	return b.named("aws:secretsmanager/secret:Secret", "canalco-"+b.p.stack+"-postgres-master").Outputs["arn"].(string),
		b.named("aws:kms/key:Key", "canalco-"+b.p.stack+"-data").Outputs["arn"].(string)
}

// session is how the host names the application role's sessions: the instance id.
const session = "i-0123456789abcdef0"

// hostRequests are the backend host's documented calls (docs/compute.md): the release parameter
// at boot, the image pull, the master secret when the migrations run (through Secrets Manager,
// with its key), and the application role's credentials it hands to the container.
func (b backend) hostRequests(t *testing.T) []request {
	p, prefix, what := b.p, "canalco-"+b.p.stack, "backend host"
	repo := b.named("aws:ecr/repository:Repository", prefix+"-backend").Outputs["arn"].(string)
	secret, key := b.masterSecret()
	out := []request{
		{what: what, action: "ssm:GetParameter", resource: b.named("aws:ssm/parameter:Parameter", prefix+"-backend-release").Outputs["arn"].(string), context: region()},
		{what: what, action: "ecr:GetAuthorizationToken", resource: "*", context: region()},
		{what: what, action: "secretsmanager:GetSecretValue", resource: secret, context: region()},
		p.onKey(t, what, "kms:Decrypt", key, map[string]any{"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}),
		p.assumeRole(t, what, b.appArn, session),
	}
	for _, action := range []string{"ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"} {
		out = append(out, request{what: what, action: action, resource: repo, context: region()})
	}
	return out
}

// appRequests are the backend application's documented calls (docs/compute.md), made in the
// container with the application role's credentials: the database's IAM token (rds-db:connect
// as canalco_app), the documents in the stack's buckets, the audit and reports queues and the
// events topic, with what S3, SQS and SNS do with their keys on the caller's behalf.
func (b backend) appRequests(t *testing.T) []request {
	p, prefix, what, named := b.p, "canalco-"+b.p.stack, "backend application", b.named
	db := named("aws:rds/instance:Instance", prefix+"-postgres")
	out := []request{
		{what: what, action: "rds-db:connect", resource: "arn:aws:rds-db:us-east-1:" + p.account + ":dbuser:" + db.Outputs["resourceId"].(string) + "/canalco_app", context: region()},
	}
	for _, b := range p.res.OfType("aws:s3/bucketV2:BucketV2") {
		for _, purpose := range storage.DocumentPurposes {
			if !strings.HasPrefix(b.Str("bucket"), prefix+"-"+purpose+"-") {
				continue
			}
			bucket, key := b.Str("bucket"), "2025/07/documento.pdf"
			ctx := region()
			ctx["aws:SecureTransport"] = "true"
			out = append(out, request{what: what, action: "s3:ListBucket", resource: "arn:aws:s3:::" + bucket, context: ctx, resourcePolicy: p.bucketPolicy[bucket]})
			for _, action := range []string{"s3:GetObject", "s3:PutObject"} {
				out = append(out, p.onObject(what, action, bucket, key))
			}
			if k := p.bucketKey(bucket); k != "" {
				for _, action := range []string{"kms:Decrypt", "kms:GenerateDataKey"} {
					out = append(out, p.onKey(t, what, action, k, map[string]any{"kms:ViaService": "s3.us-east-1.amazonaws.com"}))
				}
			}
		}
	}
	// The queues and the topic name the role in their own policies (docs/compute.md).
	policyOf := map[string]string{}
	for _, q := range p.res.OfType("aws:sqs/queuePolicy:QueuePolicy") {
		policyOf[q.Str("queueUrl")] = docName(q, "policy")
	}
	for _, tp := range p.res.OfType("aws:sns/topicPolicy:TopicPolicy") {
		policyOf[tp.Str("arn")] = docName(tp, "policy")
	}
	own := func(r *offline.Resource, id string) string { // a policy set on the queue or topic itself
		if r.Str("policy") != "" {
			return docName(r, "policy")
		}
		return policyOf[id]
	}
	send := func(action, arn, policy, key, via string) {
		require.NotEmpty(t, policy, "%s has a policy naming the backend", arn)
		out = append(out, request{what: what, action: action, resource: arn, context: region(), resourcePolicy: policy})
		if key != "" { // SSE-KMS: the service uses the key with the sender's rights
			for _, action := range []string{"kms:GenerateDataKey", "kms:Decrypt"} {
				out = append(out, p.onKey(t, what, action, key, map[string]any{"kms:ViaService": via + ".us-east-1.amazonaws.com", "kms:CallerAccount": p.account}))
			}
		}
	}
	for _, name := range []string{"audit", "reports"} {
		q := named("aws:sqs/queue:Queue", prefix+"-"+name)
		send("sqs:SendMessage", q.Outputs["arn"].(string), own(q, q.Outputs["url"].(string)), p.keyArn(q.Str("kmsMasterKeyId")), "sqs")
	}
	topic := named("aws:sns/topic:Topic", prefix+"-events")
	send("sns:Publish", topic.Outputs["arn"].(string), own(topic, topic.Outputs["arn"].(string)), p.keyArn(topic.Str("kmsMasterKeyId")), "sns")
	return out
}

// keyArn is a key of the stack by ARN, whether named by ARN or by ID ("" for none).
func (p *plan) keyArn(id string) string {
	for _, k := range p.res.OfType("aws:kms/key:Key") {
		if id == k.Outputs["keyId"] || id == k.Outputs["arn"] {
			return k.Outputs["arn"].(string)
		}
	}
	return ""
}

// TestTheBackendsDocumentedCallsAreAllowed: every call docs/compute.md says the backend makes
// is allowed, the host's to the instance role and the application's to the application role,
// under the boundary, the trust and the resource policies.
func TestTheBackendsDocumentedCallsAreAllowed(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			b := newPlan(t, stack).backend(t)
			for role, reqs := range map[string][]request{b.instanceRole: b.hostRequests(t), b.appRole: b.appRequests(t)} {
				require.NotEmpty(t, reqs, role)
				refused, _ := b.p.simulate(t, role, reqs)
				for _, r := range refused {
					t.Errorf("%s cannot: %s", role, r)
				}
			}
		})
	}
}

// TestTheBackendsRolesStayApart: the application (and so a compromised container) cannot
// read the master secret or do the host's work, the host's role no longer reaches the
// application's data, and no other role of the stack can take the application's credentials.
// Each request alone, with the decision AWS's evaluation must reach.
func TestTheBackendsRolesStayApart(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			p := newPlan(t, stack)
			b := p.backend(t)
			prefix := "canalco-" + stack
			secret, key := b.masterSecret()
			host, app := b.hostRequests(t), b.appRequests(t)
			byAction := func(reqs []request, action string) request {
				for _, r := range reqs {
					if r.action == action {
						return r
					}
				}
				t.Fatalf("no %s request", action)
				return request{}
			}
			audit := p.res.Named("aws:lambda/function:Function", prefix+"-audit")
			require.NotNil(t, audit)
			for _, c := range []struct {
				name, role string
				req        request
			}{
				{"the application reads the master secret", b.appRole, request{action: "secretsmanager:GetSecretValue", resource: secret, context: region()}},
				{"the application decrypts with the database key", b.appRole, p.onKey(t, "", "kms:Decrypt", key, map[string]any{"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"})},
				{"the application reads the release parameter", b.appRole, byAction(host, "ssm:GetParameter")},
				{"the application pulls images", b.appRole, byAction(host, "ecr:BatchGetImage")},
				{"the application assumes the instance role", b.appRole, p.assumeRole(t, "", "arn:aws:iam::"+p.account+":role/"+b.instanceRole, session)},
				{"the application assumes itself", b.appRole, p.assumeRole(t, "", b.appArn, session)},
				{"the host reads a document", b.instanceRole, byAction(app, "s3:GetObject")},
				{"the host writes a document", b.instanceRole, byAction(app, "s3:PutObject")},
				{"the host sends to a queue", b.instanceRole, byAction(app, "sqs:SendMessage")},
				{"the host publishes to the topic", b.instanceRole, byAction(app, "sns:Publish")},
				{"the host signs in as canalco_app", b.instanceRole, byAction(app, "rds-db:connect")},
				{"a function's role assumes the application role", p.functionRole(audit), p.assumeRole(t, "", b.appArn, session)},
				{"the host assumes it under another session name", b.instanceRole, p.assumeRole(t, "", b.appArn, "backend")},
			} {
				refused, _ := p.simulate(t, c.role, []request{c.req})
				if len(refused) != 1 || !strings.Contains(refused[0], "Denied") {
					t.Errorf("%s (%s): want denied, got %v", c.name, c.role, refused)
				}
			}
		})
	}
}
