package compute_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/security"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func parsePolicy(t *testing.T, doc string) []security.Statement {
	t.Helper()
	p, err := security.ParseDocument(doc)
	require.NoError(t, err, doc)
	assert.Equal(t, "2012-10-17", p.Version)
	return p.Statement
}

var documentPurposes = []string{"cotizaciones", "facturas", "adjuntos", "backups", "auditoria", "reportes"}

// inlinePolicy is a role's one inline policy.
func inlinePolicy(t *testing.T, res *offline.Result, role *offline.Resource) []security.Statement {
	t.Helper()
	var policies []*offline.Resource
	for _, p := range res.OfType(rolePolicyType) {
		if p.Str("role") == role.Str("name") {
			policies = append(policies, p)
		}
	}
	require.Len(t, policies, 1, "one inline policy")
	return parsePolicy(t, policies[0].Str("policy"))
}

type grant struct{ actions, resources []string }

// checkGrants asserts a policy has exactly the statements wanted, no wildcard action, and no
// resource of another stack.
func checkGrants(t *testing.T, stack string, statements []security.Statement, want map[string]grant) {
	t.Helper()
	require.Len(t, statements, len(want))
	for _, s := range statements {
		w, ok := want[s.Sid]
		require.True(t, ok, "unexpected statement %s", s.Sid)
		assert.Equal(t, "Allow", s.Effect)
		assert.Equal(t, w.actions, s.Action, s.Sid)
		assert.Equal(t, w.resources, s.Resource, s.Sid)
		for _, a := range s.Action {
			assert.NotContains(t, a, "*", "no wildcard action (%s)", s.Sid)
		}
		for _, r := range s.Resource {
			assert.NotEmpty(t, r, s.Sid)
			// The only "*": GetAuthorizationToken has no resource-level permissions.
			if r == "*" {
				assert.Equal(t, []string{"ecr:GetAuthorizationToken"}, s.Action)
			}
			for _, other := range offline.Stacks {
				if other != stack {
					assert.NotContains(t, r, name(other, ""), "%s names another stack", s.Sid)
				}
			}
		}
	}
}

// The instance role does the host's work only: the image, the boot parameters, the master
// secret for the migrations run on the host, and assuming the application role. No document,
// queue, topic or database user.
func TestInstancePolicyIsTheHostsOnly(t *testing.T) {
	eachStack(t, func(t *testing.T, l *layer, _ profile) {
		statements := inlinePolicy(t, l.res, l.role)
		checkGrants(t, l.stack, statements, map[string]grant{
			"RegistryLogin":         {[]string{"ecr:GetAuthorizationToken"}, []string{"*"}},
			"PullBackendImage":      {[]string{"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:ListImages"}, []string{out(l.repo, "arn")}},
			"ReadDatabaseSecret":    {[]string{"secretsmanager:GetSecretValue"}, []string{secretArn(t, l.res, l.stack)}},
			"DecryptDatabaseSecret": {[]string{"kms:Decrypt"}, []string{out(find(t, l.res, keyType, name(l.stack, "data")), "arn")}},
			"ReadBootParameters": {[]string{"ssm:GetParameter"}, []string{
				out(find(t, l.res, parameterType, name(l.stack, "cloudwatch-agent")), "arn"),
				out(find(t, l.res, parameterType, name(l.stack, "backend-release")), "arn"),
				// By name: the role does not wait for the database that writes them.
				"arn:aws:ssm:us-east-1:" + offline.AccountOf(l.stack) + ":parameter/canalco/" + l.stack + "/database/endpoint",
				"arn:aws:ssm:us-east-1:" + offline.AccountOf(l.stack) + ":parameter/canalco/" + l.stack + "/database/read-endpoint",
			}},
			"AssumeAppRole": {[]string{"sts:AssumeRole"}, []string{out(l.app, "arn")}},
		})
		for _, s := range statements {
			if s.Sid == "DecryptDatabaseSecret" {
				assert.Equal(t, map[string]map[string]any{"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}, s.Condition,
					"the data key only as Secrets Manager uses it for the master secret")
			}
			for _, a := range s.Action {
				assert.NotRegexp(t, `^(s3|sqs|sns|rds-db):`, a, "the application's data stays with the application role")
			}
		}
	})
}

// The application role does exactly what the backend application does, on this stack's
// resources: documents, the database as canalco_app, the storage key. Never the master secret.
func TestAppPolicyIsTheApplicationsOnly(t *testing.T) {
	eachStack(t, func(t *testing.T, l *layer, _ profile) {
		var buckets, objects []string
		for _, purpose := range documentPurposes {
			arn := "arn:aws:s3:::" + name(l.stack, purpose+"-"+offline.AccountOf(l.stack)+"-us-east-1")
			buckets, objects = append(buckets, arn), append(objects, arn+"/*")
		}
		db := find(t, l.res, "aws:rds/instance:Instance", name(l.stack, "postgres"))
		require.Regexp(t, `^db-[A-Z0-9]+$`, out(db, "resourceId"), "the DbiResourceId, not the instance identifier")
		statements := inlinePolicy(t, l.res, l.app)
		checkGrants(t, l.stack, statements, map[string]grant{
			// "Creating and using an IAM policy for IAM database access" (Amazon RDS User Guide):
			// arn:aws:rds-db:region:account-id:dbuser:DbiResourceId/db-user-name.
			"ConnectAsAppUser":    {[]string{"rds-db:connect"}, []string{"arn:aws:rds-db:us-east-1:" + offline.AccountOf(l.stack) + ":dbuser:" + out(db, "resourceId") + "/canalco_app"}},
			"ListDocumentBuckets": {[]string{"s3:ListBucket"}, buckets},
			"ReadWriteDocuments":  {[]string{"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"}, objects},
			"UseStorageKey":       {[]string{"kms:Decrypt", "kms:GenerateDataKey"}, []string{out(find(t, l.res, keyType, name(l.stack, "storage")), "arn")}},
		})
		for _, s := range statements {
			for _, a := range s.Action {
				assert.NotRegexp(t, `^(secretsmanager|ssm|ecr|sts|iam):`, a, "%s: not the application's", s.Sid)
			}
		}
		var managed []string
		for _, a := range l.res.OfType(attachmentType) {
			if a.Str("role") == l.app.Str("name") {
				managed = append(managed, a.Str("policyArn"))
			}
		}
		assert.Empty(t, managed, "no managed policy on the application role")
	})
}

// Only the stack's instance role, by ARN, may assume the application role; both carry the
// stack's boundary.
func TestAppRoleIsAssumedByTheInstanceRoleOnly(t *testing.T) {
	eachStack(t, func(t *testing.T, l *layer, _ profile) {
		assert.Equal(t, name(l.stack, "app"), l.app.Str("name"))
		trust := parsePolicy(t, l.app.Str("assumeRolePolicy"))
		require.Len(t, trust, 1)
		assert.Equal(t, "Allow", trust[0].Effect)
		assert.Equal(t, map[string]any{"AWS": out(l.role, "arn")}, trust[0].Principal)
		assert.Equal(t, []string{"sts:AssumeRole"}, trust[0].Action)
		assert.Equal(t, map[string]map[string]any{"StringLike": {"sts:RoleSessionName": "i-*"}}, trust[0].Condition,
			"sessions named after the instance (canalco-app-credentials passes the instance id)")
		boundary := "arn:aws:iam::" + offline.AccountOf(l.stack) + ":policy/" + name(l.stack, "boundary")
		assert.Equal(t, boundary, l.app.Str("permissionsBoundary"))
		assert.Equal(t, boundary, l.role.Str("permissionsBoundary"))
	})
}

func TestInstanceRoleTrustAndManagedPolicies(t *testing.T) {
	eachStack(t, func(t *testing.T, l *layer, _ profile) {
		trust := parsePolicy(t, l.role.Str("assumeRolePolicy"))
		require.Len(t, trust, 1)
		assert.Equal(t, map[string]any{"Service": "ec2.amazonaws.com"}, trust[0].Principal)
		assert.Equal(t, []string{"sts:AssumeRole"}, trust[0].Action)

		var managed []string
		for _, a := range l.res.OfType(attachmentType) {
			if a.Str("role") == l.role.Str("name") {
				managed = append(managed, a.Str("policyArn"))
			}
		}
		assert.ElementsMatch(t, []string{
			"arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
			"arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
		}, managed, "Session Manager and the CloudWatch agent, nothing broader")
	})
}

// What changes between the cheapest stack and production.
func TestDevAndProdDiffer(t *testing.T) {
	dev, prod := load(t, "dev"), load(t, "prod")
	for _, d := range []struct {
		what      string
		dev, prod any
	}{
		{"instance type", dev.lt.Str("instanceType"), prod.lt.Str("instanceType")},
		{"min size", dev.asg.Num("minSize"), prod.asg.Num("minSize")},
		{"max size", dev.asg.Num("maxSize"), prod.asg.Num("maxSize")},
		{"listener", dev.listener.Str("protocol"), prod.listener.Str("protocol")},
		{"deletion protection", dev.alb.Bool("enableDeletionProtection"), prod.alb.Bool("enableDeletionProtection")},
		{"repository force delete", dev.repo.Bool("forceDelete"), prod.repo.Bool("forceDelete")},
		{"repository protected", dev.repo.Protect, prod.repo.Protect},
	} {
		assert.NotEqual(t, d.dev, d.prod, "%s is the same in dev and prod", d.what)
	}
	assert.Equal(t, "t4g.small", dev.lt.Str("instanceType"))
	assert.Equal(t, "t4g.medium", prod.lt.Str("instanceType"), "seed: 2 vCPU and 4 GiB as its t3.medium")
	assert.Equal(t, 2.0, prod.asg.Num("minSize"), "seed: 2 to 10")
	assert.Equal(t, 10.0, prod.asg.Num("maxSize"))
}

// An existing certificate replaces the requested one; DNS still points the API name at the ALB.
func TestExistingCertificateIsUsed(t *testing.T) {
	arn := "arn:aws:acm:us-east-1:" + offline.AccountOf("prod") + ":certificate/0f0e0d0c-0b0a-4909-8807-060504030201"
	res, err := offline.WithValues(t, "prod", map[string]string{"canalco:albCertificateArn": arn})
	require.NoError(t, err)
	listener := res.OfType(listenerType)
	require.Len(t, listener, 1)
	assert.Equal(t, arn, listener[0].Str("certificateArn"))
	assert.Equal(t, "HTTPS", listener[0].Str("protocol"))
	assert.Nil(t, res.Named(certType, name("prod", "api")), "no certificate is requested")
	assert.Nil(t, res.Named(recordType, name("prod", "api-validation")))
	assert.NotNil(t, res.Named(recordType, name("prod", "api-alias")))
}

// A bad compute setting stops the run before anything is created.
func TestBadSettingRegistersNothing(t *testing.T) {
	cfg, err := offline.LoadConfig(offline.Root(t), "dev")
	require.NoError(t, err)
	values := map[string]string{}
	for k, v := range cfg.Values {
		values[k] = v
	}
	values["canalco:instanceType"] = "t3.small"
	cfg.Values = values
	res, err := offline.RunConfig(cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "canalco:instanceType")
	assert.Empty(t, res.Resources)
}

// shellcheck fails the test with shellcheck's findings on script.
func shellcheck(t *testing.T, script string) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "script-*.sh")
	require.NoError(t, err)
	_, err = f.WriteString(script)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	report, err := exec.Command("shellcheck", "--shell=bash", "--severity=style", f.Name()).CombinedOutput()
	if err != nil {
		var numbered strings.Builder
		for i, line := range strings.Split(script, "\n") {
			fmt.Fprintf(&numbered, "%4d  %s\n", i+1, line)
		}
		t.Errorf("shellcheck:\n%s\n--- script ---\n%s", report, numbered.String())
	}
}
