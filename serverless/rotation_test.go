package serverless_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/security"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const rotationType = "aws:secretsmanager/secretRotation:SecretRotation"

// masterSecretArn is the data layer's master secret, as the mocks name it.
func masterSecretArn(stack string) string {
	return "arn:aws:secretsmanager:us-east-1:" + offline.AccountOf(stack) + ":secret:" + prefix(stack) + "-postgres-master-AbCdEf"
}

// The master secret rotates every 30 days (SecretsManager.1, SecretsManager.4) through the
// rotation function, which runs in the private subnets behind its own security group and may
// touch that secret only; Secrets Manager may invoke it for that secret only.
func TestMasterSecretRotation(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			name := prefix(stack) + "-rotation"
			fn := named(t, res, functionType, name)
			rotations := res.OfType(rotationType)
			require.Len(t, rotations, 1)
			rot := rotations[0]
			assert.Equal(t, masterSecretArn(stack), rot.Str("secretId"))
			assert.Equal(t, fn.Outputs["arn"], rot.Str("rotationLambdaArn"))
			assert.Equal(t, 30.0, rot.Num("rotationRules.automaticallyAfterDays"))
			perm := named(t, res, permissionType, name+"-secretsmanager")
			assert.True(t, rot.DependsOn(perm.URN), "Secrets Manager may invoke the function before rotation is turned on")
			assert.Equal(t, offline.AccountOf(stack), perm.Str("sourceAccount"))

			group := named(t, res, "aws:ec2/securityGroup:SecurityGroup", name)
			var private []any
			for _, s := range res.OfType("aws:ec2/subnet:Subnet") {
				if strings.HasPrefix(s.Str("tags.Name"), prefix(stack)+"-private-") {
					private = append(private, s.Outputs["id"])
				}
			}
			require.Len(t, private, 2)
			assert.Equal(t, []any{group.Outputs["id"]}, fn.Get("vpcConfig.securityGroupIds"))
			assert.ElementsMatch(t, private, fn.Get("vpcConfig.subnetIds"), "the private subnets, out through the NAT")
			assert.Equal(t, "https://truststore.pki.rds.amazonaws.com/us-east-1/us-east-1-bundle.pem", fn.Str("environment.variables.CA_BUNDLE_URL"))

			policy, err := security.ParseDocument(named(t, res, rolePolicyType, name).Str("policy"))
			require.NoError(t, err)
			rotate := policy.Sid("RotateMasterSecret")
			require.NotNil(t, rotate)
			assert.Equal(t, []string{masterSecretArn(stack)}, rotate.Resource, "this secret only")
			assert.ElementsMatch(t, []string{"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"}, rotate.Action)
			key := policy.Sid("SecretKey")
			require.NotNil(t, key)
			assert.Equal(t, []string{dataKeyArn(t, res, stack)}, key.Resource, "the data key, through Secrets Manager only")
		})
	}
}

// The rotation role allows exactly the Secrets Manager calls the handler makes (read from its
// source, sm.<operation>(...)), besides logs, traces, the VPC interfaces and the key.
func TestRotationRoleMatchesTheHandlersCalls(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(offline.Root(t), "serverless", "functions", "rotation", "handler.py"))
	require.NoError(t, err)
	calls := map[string]bool{}
	for _, m := range regexp.MustCompile(`\bsm\.([a-z_]+)\(`).FindAllStringSubmatch(string(src), -1) {
		action := "secretsmanager:"
		for _, word := range strings.Split(m[1], "_") {
			action += strings.ToUpper(word[:1]) + word[1:]
		}
		calls[action] = true
	}
	require.NotEmpty(t, calls)
	res := offline.Stack(t, "prod")
	policy, err := security.ParseDocument(named(t, res, rolePolicyType, "canalco-prod-rotation").Str("policy"))
	require.NoError(t, err)
	allowed := map[string]bool{}
	for _, st := range policy.Statement {
		for _, a := range st.Action {
			if strings.HasPrefix(a, "secretsmanager:") {
				allowed[a] = true
			}
		}
	}
	assert.Equal(t, calls, allowed)
}

func dataKeyArn(t *testing.T, res *offline.Result, stack string) string {
	t.Helper()
	k := named(t, res, keyType, prefix(stack)+"-data")
	return k.Outputs["arn"].(string)
}
