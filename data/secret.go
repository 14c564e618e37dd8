package data

import (
	"encoding/json"

	"github.com/canalco/infra/security"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	// MasterSecretThing names the master credentials' secret: <prefix>-postgres-master.
	MasterSecretThing = "postgres-master"
	// passwordLength is well inside PostgreSQL's and RDS's 128-character limit.
	passwordLength = 40
	// passwordSpecials are printable ASCII but the characters RDS refuses in a master
	// password: '/', '"', '@' and the space ("Settings for DB instances", Master password);
	// also no quote or backslash, so the password goes into a libpq string unescaped.
	passwordSpecials = "!#$%&()*+,-.:;<=>?[]^_{|}~"
	// SecretRecoveryDays is how long a deleted master secret can be restored in protected
	// stacks; dev's goes at once, so a destroyed dev stack can be created again under its name.
	SecretRecoveryDays = 30
)

// masterPassword is the master password's first value, generated once: its inputs are
// constants, so it never changes, and the instance's password input never changes either.
// After the first rotation the secret holds the password; this value is only the start.
func (d *Database) masterPassword(ctx *pulumi.Context, a *DatabaseArgs) (*random.RandomPassword, error) {
	return random.NewRandomPassword(ctx, a.Env.Name(MasterSecretThing), &random.RandomPasswordArgs{
		Length:          pulumi.Int(passwordLength),
		Special:         pulumi.Bool(true),
		OverrideSpecial: pulumi.String(passwordSpecials),
		MinLower:        pulumi.Int(1),
		MinUpper:        pulumi.Int(1),
		MinNumeric:      pulumi.Int(1),
	}, append([]pulumi.ResourceOption{pulumi.Parent(d)}, a.Env.Keep()...)...)
}

// masterSecret keeps the master credentials in Secrets Manager, encrypted with the data key,
// in the shape the rotation function and AWS's rotation templates read (engine, host,
// port, username, password, dbname). The program writes the first version only: the
// rotation function writes every later one, so the version ignores its value afterwards.
// It returns the secret, which exists before the instance, and the version: what reads the
// secret before the database answers waits for its first value.
func (d *Database) masterSecret(ctx *pulumi.Context, a *DatabaseArgs, key *security.Key, password *random.RandomPassword, primary *rds.Instance) (*secretsmanager.Secret, *secretsmanager.SecretVersion, error) {
	e, s := a.Env, a.Settings
	recovery := 0
	if e.Protected {
		recovery = SecretRecoveryDays
	}
	keep := append([]pulumi.ResourceOption{pulumi.Parent(d)}, e.Keep()...)
	secret, err := secretsmanager.NewSecret(ctx, e.Name(MasterSecretThing), &secretsmanager.SecretArgs{
		Name:                 pulumi.String(e.Name(MasterSecretThing)),
		Description:          pulumi.String("Master credentials of " + e.Prefix + "'s PostgreSQL, rotated every 30 days"),
		KmsKeyId:             key.Arn,
		RecoveryWindowInDays: pulumi.Int(recovery),
	}, keep...)
	if err != nil {
		return nil, nil, err
	}
	value := pulumi.All(primary.Address, primary.Port, password.Result).ApplyT(func(v []any) (string, error) {
		b, err := json.Marshal(map[string]any{
			"engine": engine, "host": v[0], "port": v[1], "username": s.Username, "password": v[2],
			"dbname": s.Name, "dbInstanceIdentifier": d.InstanceID,
		})
		return string(b), err
	}).(pulumi.StringOutput)
	version, err := secretsmanager.NewSecretVersion(ctx, e.Name(MasterSecretThing), &secretsmanager.SecretVersionArgs{
		SecretId:     secret.ID(),
		SecretString: pulumi.ToSecret(value).(pulumi.StringOutput),
	}, append(keep, pulumi.IgnoreChanges([]string{"secretString"}))...)
	return secret, version, err
}
