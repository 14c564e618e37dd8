package serverless_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/serverless"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// liveDatabases are the ARNs and identifiers of the stack's RDS instances.
func liveDatabases(res *offline.Result) (arns, ids []string) {
	for _, db := range res.OfType("aws:rds/instance:Instance") {
		ids = append(ids, db.Str("identifier"))
		arns = append(arns, "arn:aws:rds:us-east-1:"+res.Config.Account()+":db:"+db.Str("identifier"))
	}
	return arns, ids
}

func TestRecoveryFunctions(t *testing.T) {
	// Both are invoked asynchronously (Scheduler, EventBridge): failures go to the jobs DLQ.
	base := []string{"kms:Decrypt", "kms:GenerateDataKey", "logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage", "xray:PutTelemetryRecords", "xray:PutTraceSegments"}
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res, p := offline.Stack(t, stack), prefix(stack)
			arns, ids := liveDatabases(res)
			var primary string
			for _, db := range res.OfType("aws:rds/instance:Instance") {
				if db.Str("replicateSourceDb") == "" {
					primary = db.Str("identifier")
				}
			}
			for _, folder := range recoveryFunctions(stack) {
				name := p + "-" + folder
				fn := named(t, res, functionType, name)
				assert.Equal(t, "python3.13", fn.Str("runtime"))
				env := fn.Get("environment.variables").(map[string]any)
				cfg := named(t, res, invokeConfigType, name)
				assert.Equal(t, queueArn(p+"-jobs-dlq"), cfg.Str("destinationConfig.onFailure.destination"), "Canalco.8: failures are kept")
				doc := document(t, named(t, res, rolePolicyType, name).Str("policy"))
				var actions []string
				for _, s := range doc {
					if s.Effect == "Allow" {
						actions = append(actions, s.Action...)
					}
				}
				sort.Strings(actions)
				switch folder {
				case "recovery":
					assert.Nil(t, fn.Get("vpcConfig"), "it only calls AWS APIs")
					assert.Equal(t, primary, env["RDS_INSTANCE_ID"])
					want := append([]string{"rds:DescribeDBInstances"}, base...)
					if stack != "dev" {
						assert.Equal(t, "canalco_"+stack+"_restore_test", env["RESTORE_TESTING_PLAN"])
						want = append(want, "backup:ListRestoreJobs", "backup:GetRestoreTestingPlan")
						assert.Equal(t, []string{"arn:aws:backup:us-east-1:" + offline.AccountOf(stack) + ":restore-testing-plan:canalco_" + stack + "_restore_test*"},
							[]string(sid(t, doc, "ReadRestoreTestingPlan").Resource))
					} else {
						assert.Equal(t, "", env["RESTORE_TESTING_PLAN"])
					}
					sort.Strings(want)
					assert.Equal(t, want, actions)
					assert.Equal(t, []string{"arn:aws:rds:us-east-1:" + offline.AccountOf(stack) + ":db:" + primary}, []string(sid(t, doc, "ReadRestorableTime").Resource))
				case "restore-check":
					assert.Equal(t, 600.0, fn.Num("timeout"))
					// In the private subnets (out through the NAT) with the validator's group.
					var private []string
					for _, az := range []string{"a", "b"} {
						private = append(private, named(t, res, "aws:ec2/subnet:Subnet", p+"-private-"+az).Outputs["id"].(string))
					}
					assert.ElementsMatch(t, private, fn.Strings("vpcConfig.subnetIds"), "Lambda.5: two AZs")
					validator := named(t, res, "aws:ec2/securityGroup:SecurityGroup", p+"-restore-validator")
					assert.Equal(t, []string{validator.Outputs["id"].(string)}, fn.Strings("vpcConfig.securityGroupIds"))
					want := append([]string{"backup:DescribeRecoveryPoint", "backup:DescribeRestoreJob", "backup:PutRestoreValidationResult",
						"ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeNetworkInterfaces",
						"ec2:UnassignPrivateIpAddresses", "rds:DescribeDBInstances", "rds:ModifyDBInstance"}, base...)
					sort.Strings(want)
					assert.Equal(t, want, actions)
					// Restore testing's copies only, and database recovery points by their snapshot ARN.
					assert.Equal(t, []string{"arn:aws:rds:us-east-1:" + offline.AccountOf(stack) + ":db:awsbackup-restore-test-*"}, []string(sid(t, doc, "RestoredCopy").Resource))
					assert.Equal(t, []string{"arn:aws:rds:us-east-1:" + offline.AccountOf(stack) + ":snapshot:awsbackup:*"}, []string(sid(t, doc, "RecoveryPoint").Resource))
					// Resetting a password is allowed on restored copies, never on a live instance.
					deny := sid(t, doc, "NeverTheLiveDatabase")
					assert.Equal(t, "Deny", deny.Effect)
					assert.Equal(t, []string{"rds:ModifyDBInstance"}, []string(deny.Action))
					assert.ElementsMatch(t, arns, []string(deny.Resource))
					assert.ElementsMatch(t, ids, strings.Split(env["LIVE_DB_INSTANCE_IDS"].(string), ","))
					assert.Equal(t, "https://truststore.pki.rds.amazonaws.com/us-east-1/us-east-1-bundle.pem", env["CA_BUNDLE_URL"])
					assert.Equal(t, "canalco_"+stack+"_restore_test", env["RESTORE_TESTING_PLAN"])
					vault := named(t, res, "aws:backup/vault:Vault", p)
					assert.Equal(t, vault.Str("name"), env["BACKUP_VAULT_NAME"])
				}
			}
			if stack == "dev" {
				for _, fn := range layer(res, functionType) {
					assert.NotEqual(t, p+"-restore-check", fn.Str("name"), "no restore testing in dev by default")
				}
			}

			s := named(t, res, scheduleType, p+"-recovery")
			assert.Equal(t, "rate(5 minutes)", s.Str("scheduleExpression"))
			assert.Equal(t, functionArn(p+"-recovery"), s.Str("target.arn"))
			assert.JSONEq(t, `{"source":"canalco.schedule","type":"recovery.metrics"}`, s.Str("target.input"))
		})
	}
}

// The layer pipeline's contract: requirements.txt with exact pins beside the handler.
func TestRestoreCheckPinsItsDriver(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(offline.Root(t), serverless.FunctionsDir, "restore-check", "requirements.txt"))
	require.NoError(t, err)
	pin := regexp.MustCompile(`^[A-Za-z0-9._-]+==[0-9][0-9A-Za-z.]*$`)
	var names []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		assert.Regexp(t, pin, line)
		names = append(names, strings.SplitN(line, "==", 2)[0])
	}
	assert.True(t, slices.Contains(names, "psycopg") && slices.Contains(names, "psycopg-binary"), names)
}
