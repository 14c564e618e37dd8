package serverless_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/serverless"
)

func TestFunctionsRunTheSupportedRuntimeOnGraviton(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			// The master secret's rotation is the last one (rotation_test.go).
			if got, want := len(layer(res, functionType)), len(functions)+len(recoveryFunctions(stack))+1; got != want {
				t.Fatalf("%d functions, want %d", got, want)
			}
			key := layerKeyArn(t, res, stack)
			for _, want := range functions {
				name := prefix(stack) + "-" + want.folder
				fn := named(t, res, functionType, name)
				if fn.Str("name") != name || fn.Str("runtime") != "python3.13" || fn.Str("handler") != "handler.handler" {
					t.Errorf("%s: name %q runtime %q handler %q", name, fn.Str("name"), fn.Str("runtime"), fn.Str("handler"))
				}
				if arch := fn.Strings("architectures"); len(arch) != 1 || arch[0] != "arm64" {
					t.Errorf("%s: architectures %v, want [arm64]", name, arch)
				}
				if fn.Str("tracingConfig.mode") != "Active" {
					t.Errorf("%s: X-Ray tracing %q, want Active (Lambda.7)", name, fn.Str("tracingConfig.mode"))
				}
				if fn.Str("kmsKeyArn") != key {
					t.Errorf("%s: environment key %q, want the layer's key %s", name, fn.Str("kmsKeyArn"), key)
				}
				if fn.Get("vpcConfig") != nil {
					t.Errorf("%s: in a VPC; the functions only call AWS APIs", name)
				}
				if fn.Num("timeout") != want.timeout || fn.Num("memorySize") != want.memory || fn.Num("reservedConcurrentExecutions") != want.reserved {
					t.Errorf("%s: timeout %v memory %v reserved %v, want %v %v %v", name,
						fn.Num("timeout"), fn.Num("memorySize"), fn.Num("reservedConcurrentExecutions"), want.timeout, want.memory, want.reserved)
				}
				if fn.Str("loggingConfig.logFormat") != "Text" || fn.Str("loggingConfig.logGroup") != "/aws/lambda/"+name {
					t.Errorf("%s: logging %v: the handlers' JSON lines and EMF metrics must reach the function's group unwrapped", name, fn.Get("loggingConfig"))
				}
			}
		})
	}
}

// The environment configures the handlers (their README lists what each reads) and holds no
// secret: the only credential, the SMTP password, is read from Secrets Manager.
func TestFunctionEnvironmentsFollowTheHandlersContract(t *testing.T) {
	required := map[string][]string{
		"notifications": {"SENDER", "CONFIGURATION_SET", "TEMPLATE_PREFIX", "EMAIL_TRANSPORT", "ENVIRONMENT", "METRIC_NAMESPACE", "APP_URL"},
		"audit":         {"AUDIT_BUCKET", "AUDIT_PREFIX", "KMS_KEY_ARN", "ENVIRONMENT", "METRIC_NAMESPACE", "TIMEZONE"},
		"cleanup":       {"TEMP_PREFIXES", "TEMP_MAX_AGE_HOURS", "AUDIT_BUCKET", "AUDIT_PREFIX", "KMS_KEY_ARN", "TIMEZONE"},
		"reports":       {"REPORTS_BUCKET", "REPORTS_PREFIX", "EXPORTS_PREFIX", "AUDIT_BUCKET", "AUDIT_PREFIX", "KMS_KEY_ARN", "SENDER", "CONFIGURATION_SET", "TEMPLATE_PREFIX", "TIMEZONE", "MAX_RECEIVE_COUNT"},
	}
	secretish := regexp.MustCompile(`(?i)password|secret_key|token|credential`)
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			p := prefix(stack)
			auditBucket := p + "-auditoria-" + offline.AccountOf(stack) + "-us-east-1"
			for folder, keys := range required {
				env, _ := named(t, res, functionType, p+"-"+folder).Get("environment.variables").(map[string]any)
				for _, k := range keys {
					if s, _ := env[k].(string); s == "" {
						t.Errorf("%s: %s is not set", folder, k)
					}
				}
				for k, v := range env {
					if _, secret := v.(offline.Secret); secret || secretish.MatchString(k) {
						t.Errorf("%s: %s looks like a secret in the environment", folder, k)
					}
				}
				if b, ok := env["AUDIT_BUCKET"]; ok && b != auditBucket {
					t.Errorf("%s: AUDIT_BUCKET %v, want %s", folder, b, auditBucket)
				}
				if k, ok := env["KMS_KEY_ARN"]; ok && k != storageKeyArn(t, res) {
					t.Errorf("%s: KMS_KEY_ARN %v, want the storage key that encrypts the buckets", folder, k)
				}
				// Audit days, report ranges and dates are the users' (canalco:timezone), as the schedules.
				if z, ok := env["TIMEZONE"]; ok && z != "America/Bogota" {
					t.Errorf("%s: TIMEZONE %v, want the stacks' America/Bogota", folder, z)
				}
				// The reports function e-mails a failure on the queue's last delivery (queues.go).
				if n, ok := env["MAX_RECEIVE_COUNT"]; ok && n != "5" {
					t.Errorf("%s: MAX_RECEIVE_COUNT %v, want the redrive policy's 5", folder, n)
				}
				if s, ok := env["TEMPLATE_PREFIX"]; ok && s != p+"-" {
					t.Errorf("%s: TEMPLATE_PREFIX %v, want %s-", folder, s, p)
				}
			}
			// Links in emails may only point at the app (functions/notifications).
			if got := named(t, res, functionType, p+"-notifications").Str("environment.variables.APP_URL"); !strings.HasPrefix(got, "https://") {
				t.Errorf("APP_URL %q, want the app's https address", got)
			}
			cleanup := named(t, res, functionType, p+"-cleanup")
			if got, want := cleanup.Str("environment.variables.TEMP_PREFIXES"), `["`+p+`-adjuntos-`+offline.AccountOf(stack)+`-us-east-1/tmp/"]`; got != want {
				t.Errorf("TEMP_PREFIXES %s, want %s (the handler refuses prefixes not ending in tmp/)", got, want)
			}
		})
	}
}

// "Code versionado en S3": each function runs the object version its package was uploaded as,
// in the layer's versioned bucket, and the package is the function's folder.
func TestFunctionCodeIsAVersionedObjectOfItsFolder(t *testing.T) {
	root := offline.Root(t)
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			artifacts := prefix(stack) + "-artifacts-" + offline.AccountOf(stack) + "-us-east-1"
			hashes := map[string]string{}
			for _, want := range functions {
				name := prefix(stack) + "-" + want.folder
				fn := named(t, res, functionType, name)
				obj := named(t, res, objectType, name)
				if fn.Str("s3Bucket") != artifacts || obj.Str("bucket") != artifacts {
					t.Errorf("%s: code in %q/%q, want the artifacts bucket %s", name, fn.Str("s3Bucket"), obj.Str("bucket"), artifacts)
				}
				if fn.Str("s3Key") != obj.Str("key") || fn.Str("s3Key") != "functions/"+want.folder+".zip" {
					t.Errorf("%s: s3Key %q, object key %q", name, fn.Str("s3Key"), obj.Str("key"))
				}
				if v := obj.Outputs["versionId"]; v == nil || fn.Str("s3ObjectVersion") != v {
					t.Errorf("%s: s3ObjectVersion %q, want the uploaded object's version %v", name, fn.Str("s3ObjectVersion"), v)
				}
				if !fn.DependsOn(obj.URN) {
					t.Errorf("%s: the function does not wait for its code object", name)
				}
				sum, err := base64.StdEncoding.DecodeString(fn.Str("sourceCodeHash"))
				if err != nil || len(sum) != 32 {
					t.Errorf("%s: sourceCodeHash %q is not a base64 SHA-256", name, fn.Str("sourceCodeHash"))
				}
				hashes[fn.Str("sourceCodeHash")] = name

				archive, ok := obj.Get("source").(offline.Archive)
				if !ok || len(archive.Assets) == 0 {
					t.Fatalf("%s: the object's source is not an archive: %#v", name, obj.Get("source"))
				}
				for file, asset := range archive.Assets {
					if strings.Contains(file, "__pycache__") || strings.HasSuffix(file, ".pyc") {
						t.Errorf("%s: packages %s", name, file)
					}
					own := strings.Contains(asset.(string), filepath.ToSlash(filepath.Join("functions", want.folder, file)))
					shared := strings.Contains(asset.(string), filepath.ToSlash(filepath.Join("functions", serverless.SharedDir, file)))
					if !own && !shared {
						t.Errorf("%s: %s comes from %v, not serverless/functions/%s or the shared modules", name, file, asset, want.folder)
					}
				}
				for _, file := range []string{"handler.py", "telemetry.py"} {
					if _, ok := archive.Assets[file]; !ok {
						t.Errorf("%s: the package has no %s at its root", name, file)
					}
				}
				if _, err := os.Stat(filepath.Join(root, serverless.FunctionsDir, want.folder, "handler.py")); err != nil {
					t.Errorf("%s: %v", name, err)
				}
			}
			if len(hashes) != len(functions) {
				t.Errorf("code hashes are not distinct: %v", hashes)
			}
		})
	}
}

// Lambda would create a log group without retention or KMS the first time a function logs:
// each function's group exists first.
func TestLogGroupsExistBeforeTheirFunctions(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			for _, want := range functions {
				name := prefix(stack) + "-" + want.folder
				fn := named(t, res, functionType, name)
				group := named(t, res, logGroupType, name)
				if group.Str("name") != "/aws/lambda/"+name {
					t.Errorf("%s: log group %q", name, group.Str("name"))
				}
				if !fn.DependsOn(group.URN) {
					t.Errorf("%s: the function does not depend on its log group", name)
				}
				if group.Num("retentionInDays") <= 0 || group.Str("kmsKeyId") == "" {
					t.Errorf("%s: log group retention %v key %q (CloudWatch.16)", name, group.Num("retentionInDays"), group.Str("kmsKeyId"))
				}
				if res.Ancestor(group, functionToken) != res.Ancestor(fn, functionToken) {
					t.Errorf("%s: the log group is not part of the function's component", name)
				}
			}
		})
	}
}

// Every asynchronous invocation (SNS, the schedules, a manual --invocation-type Event) is
// retried twice and then lands in a queue; audit is only fed by SQS, whose DLQ covers it.
func TestAsyncInvocationsFailIntoAQueue(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			configs := layer(res, invokeConfigType)
			found := 0
			for _, want := range functions {
				name := prefix(stack) + "-" + want.folder
				cfg := res.Named(invokeConfigType, name)
				if want.onFailure == "" {
					if cfg != nil {
						t.Errorf("%s: unexpected invoke config", name)
					}
					continue
				}
				found++
				if cfg == nil {
					t.Errorf("%s: no invoke config", name)
					continue
				}
				if cfg.Str("functionName") != name || cfg.Num("maximumRetryAttempts") != 2 {
					t.Errorf("%s: invoke config %v", name, cfg.Inputs)
				}
				if got, wantArn := cfg.Str("destinationConfig.onFailure.destination"), queueArn(prefix(stack)+"-"+want.onFailure); got != wantArn {
					t.Errorf("%s: on-failure %q, want %s", name, got, wantArn)
				}
				policy := document(t, named(t, res, rolePolicyType, name).Str("policy"))
				if s := sid(t, policy, "OnFailure"); len(s.Resource) != 1 || s.Resource[0] != queueArn(prefix(stack)+"-"+want.onFailure) {
					t.Errorf("%s: the role cannot send to its on-failure queue: %+v", name, s)
				}
				if !cfg.DependsOn(named(t, res, rolePolicyType, name).URN) {
					t.Errorf("%s: the invoke config is created before the role may use its destination", name)
				}
			}
			// The recovery functions have theirs too (recovery_test.go).
			if want := found + len(recoveryFunctions(stack)); len(configs) != want {
				t.Errorf("%d invoke configs, want %d", len(configs), want)
			}
		})
	}
}
