package data

import (
	"github.com/canalco/infra/security"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// replicateBackups copies the primary's automated backups (snapshots and transaction logs)
// to another region, so a region loss still allows a point-in-time restore there. RDS runs the
// copy from the destination region, and encrypts it with a key of that region.
func (d *Database) replicateBackups(ctx *pulumi.Context, a *DatabaseArgs, primary *rds.Instance) error {
	e, s := a.Env, a.Settings
	region := s.BackupReplicationRegion
	provider, err := e.RegionProvider(ctx, e.Name("backups-"+region), region, pulumi.Parent(d))
	if err != nil {
		return err
	}
	key, err := security.NewKey(ctx, e.Name("data-backups"), &security.KeyArgs{
		Alias:       e.Name("data-backups"),
		Description: "Encrypts the copy of " + e.Prefix + "'s database backups in " + region,
		AccountID:   e.AccountID,
		Statements:  []security.Statement{useThrough(e.AccountID, "rds."+region+".amazonaws.com")},
		Protect:     e.Protected,
	}, pulumi.Parent(d), pulumi.Providers(provider))
	if err != nil {
		return err
	}
	_, err = rds.NewInstanceAutomatedBackupsReplication(ctx, e.Name("postgres-backups-"+region), &rds.InstanceAutomatedBackupsReplicationArgs{
		SourceDbInstanceArn: primary.Arn,
		KmsKeyId:            key.Arn,
		RetentionPeriod:     pulumi.Int(s.BackupRetention),
	}, pulumi.Parent(d), pulumi.Provider(provider))
	return err
}
