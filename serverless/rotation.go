package serverless

import (
	"fmt"

	"github.com/canalco/infra/security"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// rotationFunction rotates the database's master secret, by its folder under serverless/functions.
const rotationFunction = "rotation"

// RotationDays is how often Secrets Manager rotates the master secret (SecretsManager.1 and
// SecretsManager.4: rotation on, and more often than every 90 days).
const RotationDays = 30

// One rotation at a time (Secrets Manager runs one per secret anyway); a step signs in twice
// at most, in seconds.
var rotationSpec = functionSpec{Name: rotationFunction, Description: "Rotates the database's master password (Secrets Manager single-user rotation)",
	Timeout: 60, Memory: 128, Reserved: 1, InVpc: true}

// Rotation is the master secret the rotation function rotates, and where it runs.
type Rotation struct {
	SecretArn pulumi.StringInput
	// KeyArn encrypts the secret (the data key).
	KeyArn pulumi.StringInput
	// SubnetIDs and SecurityGroupID place the function in the private subnets: it reaches the
	// database on 5432 and Secrets Manager's endpoint through the NAT on 443.
	SubnetIDs       pulumi.StringArrayInput
	SecurityGroupID pulumi.StringInput
}

// rotationStatements are what the handler calls: the four steps on this secret only, and a
// random password, which names no resource ("Actions, resources, and condition keys for AWS
// Secrets Manager": GetRandomPassword takes "*").
func (l *layer) rotationStatements(secret, key string) []security.Statement {
	return []security.Statement{
		security.Allow("Network", VpcNetworkActions, []string{"*"}),
		security.Allow("RotateMasterSecret", []string{
			"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
			"secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage",
		}, []string{secret}),
		security.Allow("RandomPassword", []string{"secretsmanager:GetRandomPassword"}, []string{"*"}),
		// The secret's values are encrypted with the data key, used only through Secrets Manager.
		{Sid: "SecretKey", Effect: "Allow", Action: []string{"kms:Decrypt", "kms:GenerateDataKey"}, Resource: []string{key},
			Condition: map[string]map[string]any{"StringEquals": {"kms:ViaService": "secretsmanager." + l.a.Env.Region + ".amazonaws.com"}}},
	}
}

// rotateSecret lets Secrets Manager invoke the function for this secret only, and turns the
// rotation on. Secrets Manager rotates at once when rotation is first turned on, so the
// password the program generated (and keeps in its state) is replaced on the first `up`.
func (l *layer) rotateSecret(f *Function) error {
	e, r := l.a.Env, l.a.Rotation
	permission, err := lambda.NewPermission(l.ctx, f.Name+"-secretsmanager", &lambda.PermissionArgs{
		Function:      f.Lambda.Name,
		Action:        pulumi.String("lambda:InvokeFunction"),
		Principal:     pulumi.String("secretsmanager.amazonaws.com"),
		SourceArn:     r.SecretArn,
		SourceAccount: pulumi.String(e.AccountID),
	}, pulumi.Parent(f))
	if err != nil {
		return fmt.Errorf("rotation permission: %w", err)
	}
	_, err = secretsmanager.NewSecretRotation(l.ctx, e.Name("postgres-master-rotation"), &secretsmanager.SecretRotationArgs{
		SecretId:          r.SecretArn,
		RotationLambdaArn: f.Arn,
		RotationRules:     &secretsmanager.SecretRotationRotationRulesArgs{AutomaticallyAfterDays: pulumi.Int(RotationDays)},
	}, pulumi.Parent(f), pulumi.DependsOn([]pulumi.Resource{permission, f.RolePolicy}))
	return err
}
