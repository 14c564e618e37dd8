// Package data is the platform's PostgreSQL database on RDS: one instance (Multi-AZ outside
// dev) encrypted with the layer's own KMS key, its master secret, its parameter group, the
// Enhanced Monitoring role, exported logs, an optional read replica and an optional copy of
// the automated backups in another region. docs/database.md explains the decisions.
package data

import (
	"fmt"
	"strings"

	"github.com/canalco/infra/env"
	"github.com/canalco/infra/offhours"
	"github.com/canalco/infra/security"
	"github.com/canalco/infra/settings"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// DatabaseArgs are the inputs of the data layer.
type DatabaseArgs struct {
	Env      env.Env
	Settings settings.Database
	// SubnetGroupName and SecurityGroupID come from the network layer.
	SubnetGroupName pulumi.StringInput
	SecurityGroupID pulumi.StringInput
	// Office are the hours a sleeping stack's database runs, unless it has a read replica.
	Office settings.OfficeHours
}

// Database is the data layer's output.
type Database struct {
	pulumi.ResourceState

	// InstanceID is the RDS identifier, known before deployment (monitoring uses it).
	InstanceID string
	// ReplicaID is the read replica's identifier, or "" without one.
	ReplicaID     string
	InstanceClass string
	Endpoint      pulumi.StringOutput
	Address       pulumi.StringOutput
	Port          pulumi.IntOutput
	DatabaseName  string
	// SecretArn is the master credentials' secret, which the program owns and the rotation
	// function rotates; it resolves once the secret holds its first value, after the instance.
	SecretArn pulumi.StringOutput
	// SecretArnUnfilled is the same secret's ARN as soon as the secret exists, before the
	// instance: for what reads the secret only once the database answers (the backend
	// instances' migrations), so that it need not wait for the database.
	SecretArnUnfilled pulumi.StringOutput
	// KeyArn encrypts the database, its snapshots, Performance Insights and the secret.
	KeyArn pulumi.StringOutput
	// ResourceID is the instance's dbi resource id, the one IAM database authentication
	// policies name (arn:aws:rds-db:<region>:<account>:dbuser:<ResourceID>/<user>).
	ResourceID pulumi.StringOutput
	// ReplicaResourceID is the replica's, for the same policies ("" without a replica).
	ReplicaResourceID pulumi.StringOutput
	// ReadAddress is the host for reads: the replica's, or the primary's without one. The
	// parameter ReadParameter (/canalco/<stack>/database/read-endpoint) holds it too, and
	// AddressParameter (/canalco/<stack>/database/endpoint) holds Address: the backend
	// instances read both at boot, so they are created beside the database, not after it.
	ReadAddress      pulumi.StringOutput
	ReadParameter    string
	AddressParameter string
}

// NewDatabase creates the data layer.
func NewDatabase(ctx *pulumi.Context, name string, args *DatabaseArgs, opts ...pulumi.ResourceOption) (*Database, error) {
	d := &Database{}
	if err := ctx.RegisterComponentResource("canalco:data:Database", name, d, opts...); err != nil {
		return nil, err
	}
	if err := d.build(ctx, args); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	return d, ctx.RegisterResourceOutputs(d, pulumi.Map{
		"endpoint":         d.Endpoint,
		"address":          d.Address,
		"port":             d.Port,
		"secretArn":        d.SecretArn,
		"keyArn":           d.KeyArn,
		"resourceId":       d.ResourceID,
		"readAddress":      d.ReadAddress,
		"readParameter":    pulumi.String(d.ReadParameter),
		"addressParameter": pulumi.String(d.AddressParameter),
	})
}

func (d *Database) build(ctx *pulumi.Context, a *DatabaseArgs) error {
	e, s := a.Env, a.Settings
	key, err := security.NewKey(ctx, e.Name("data"), &security.KeyArgs{
		Alias:       e.Name("data"),
		Description: "Encrypts the " + e.Prefix + " database, its snapshots, Performance Insights and its master secret",
		AccountID:   e.AccountID,
		Statements:  []security.Statement{useThrough(e.AccountID, "rds."+e.Region+".amazonaws.com", "secretsmanager."+e.Region+".amazonaws.com")},
		Protect:     e.Protected,
	}, pulumi.Parent(d))
	if err != nil {
		return err
	}
	c, err := d.shared(ctx, a, key)
	if err != nil {
		return err
	}

	d.InstanceID, d.InstanceClass, d.DatabaseName = e.Name(settings.InstanceThing), s.InstanceClass, s.Name
	password, err := d.masterPassword(ctx, a)
	if err != nil {
		return err
	}
	primary, err := d.instance(ctx, c, d.InstanceID, primaryArgs(a, d.InstanceID, key, password.Result), e.Keep()...)
	if err != nil {
		return err
	}
	d.Endpoint, d.Address, d.Port, d.ResourceID = primary.Endpoint, primary.Address, primary.Port, primary.ResourceId
	d.KeyArn = key.Arn
	secret, version, err := d.masterSecret(ctx, a, key, password, primary)
	if err != nil {
		return err
	}
	d.SecretArn, d.SecretArnUnfilled = version.Arn, secret.Arn

	d.ReadAddress, d.ReplicaResourceID = primary.Address, pulumi.String("").ToStringOutput()
	if s.ReadReplica {
		d.ReplicaID = e.Name(settings.ReplicaThing)
		replica, err := d.instance(ctx, c, d.ReplicaID, replicaArgs(a, primary))
		if err != nil {
			return err
		}
		d.ReadAddress, d.ReplicaResourceID = replica.Address, replica.ResourceId
	}
	if err := d.endpointParameters(ctx, a); err != nil {
		return err
	}

	if err := d.sleep(ctx, a); err != nil {
		return err
	}
	if s.BackupReplicationRegion != "" {
		return d.replicateBackups(ctx, a, primary)
	}
	return nil
}

// endpointParameters publish the primary's host and the host for reads where the backend's
// configuration lives (/canalco/<stack>/...): the backend's instances read them at boot and
// wait for them, so nothing of the compute layer waits for the database instance, and reports
// and heavy reads can go to the replica. Both exist only once the instances they name do.
func (d *Database) endpointParameters(ctx *pulumi.Context, a *DatabaseArgs) error {
	path := "/" + strings.Replace(a.Env.Prefix, "-", "/", 1) + "/database/"
	d.AddressParameter, d.ReadParameter = path+"endpoint", path+"read-endpoint"
	for _, p := range []struct {
		thing, name, description string
		value                    pulumi.StringOutput
	}{
		{"database-endpoint", d.AddressParameter, "Host of " + a.Env.Prefix + "'s database (the primary)", d.Address},
		{"database-read-endpoint", d.ReadParameter, "Host for read-only queries of " + a.Env.Prefix + "'s database: the read replica, or the primary without one", d.ReadAddress},
	} {
		if _, err := ssm.NewParameter(ctx, a.Env.Name(p.thing), &ssm.ParameterArgs{
			Name:        pulumi.String(p.name),
			Description: pulumi.String(p.description),
			Type:        pulumi.String("String"),
			// A host name, no secret: shown as it is in the plan and the console.
			InsecureValue: p.value,
		}, pulumi.Parent(d)); err != nil {
			return err
		}
	}
	return nil
}

// sleep stops a sleeping stack's database a quarter of an hour after office hours, once the
// backend has scaled in and drained, and starts it half an hour before they begin, so it is up
// when the instances boot. RDS starts an instance that stayed stopped for 7 days by itself; a
// stack asleep only at night and over weekends is never stopped that long, and if it were started (by RDS or by hand) the next evening's stop puts it back to sleep.
// A database with a read replica has no schedules: RDS would refuse to stop it (Database.Sleeps).
func (d *Database) sleep(ctx *pulumi.Context, a *DatabaseArgs) error {
	if !a.Settings.Sleeps(a.Office) {
		return nil
	}
	e := a.Env
	arn := fmt.Sprintf("arn:aws:rds:%s:%s:db:%s", e.Region, e.AccountID, d.InstanceID)
	input := map[string]any{"DBInstanceIdentifier": d.InstanceID}
	return offhours.New(ctx, offhours.Args{
		Env: e, Office: a.Office, Thing: "postgres",
		Sleep:              offhours.Call{Service: "rds", Action: "stopDBInstance", Permission: "rds:StopDBInstance", Resource: arn, Input: input},
		Wake:               offhours.Call{Service: "rds", Action: "startDBInstance", Permission: "rds:StartDBInstance", Resource: arn, Input: input},
		WakeOffsetMinutes:  -30,
		SleepOffsetMinutes: 15,
	}, d)
}

// useThrough lets the account's principals use the key only through the given AWS services:
// RDS and Secrets Manager use a customer-managed key through grants made on behalf of the
// caller, the shape of the AWS-managed aws/rds key's own policy.
func useThrough(accountID string, services ...string) security.Statement {
	return security.Statement{
		Sid:       "UseThroughDatabaseServices",
		Effect:    "Allow",
		Principal: map[string]any{"AWS": fmt.Sprintf("arn:aws:iam::%s:root", accountID)},
		Action:    []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:ListGrants", "kms:DescribeKey"},
		Resource:  []string{"*"},
		Condition: map[string]map[string]any{"StringEquals": {"kms:ViaService": services, "kms:CallerAccount": accountID}},
	}
}
