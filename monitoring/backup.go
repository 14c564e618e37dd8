package monitoring

import (
	"encoding/json"

	"github.com/canalco/infra/security"
	"github.com/canalco/infra/settings"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/backup"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The weekly backup: Sunday 06:00 UTC (01:00 in Colombia), the quietest hour, ending before
// the database's daily backup window at 07:00.
const (
	weeklySchedule = "cron(0 6 ? * SUN *)"
	// startWindowMinutes: a job that cannot start within an hour is skipped and reported.
	startWindowMinutes = 60
	// completionWindowMinutes: snapshots of small volumes take minutes; a day is generous.
	completionWindowMinutes = 24 * 60
	// ebsVolumes scopes the selection to EBS volumes; a tag narrows it to the backend's.
	ebsVolumes = "arn:aws:ec2:*:*:volume/*"
)

// backupPolicies are AWS's managed policies for a backup plan's role.
var backupPolicies = map[string]string{
	"backup":   "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
	"restores": "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
}

// backups creates the vault, the weekly plan of the backend's volumes and the database, its
// optional copy to another region, and the notification of failed jobs.
func (b *builder) backups() error {
	e, s := b.a.Env, b.a.Settings
	name := VaultName(e.Prefix)
	vault, err := b.vault(name, "", b.key, b.child())
	if err != nil {
		return err
	}
	if err := b.vaultLock(vault, "", b.child()); err != nil {
		return err
	}
	b.m.BackupVaultName = name

	role, err := iam.NewRole(b.ctx, e.Name("backup"), &iam.RoleArgs{
		Name:        pulumi.String(e.Name("backup")),
		Description: pulumi.String("AWS Backup jobs of " + e.Prefix),
		// No source-account condition: AWS Backup only uses a role that someone allowed to
		// pass it (iam:PassRole) named in a selection of this account.
		AssumeRolePolicy: pulumi.String(security.Document(security.Statement{
			Effect:    "Allow",
			Principal: map[string]any{"Service": "backup.amazonaws.com"},
			Action:    []string{"sts:AssumeRole"},
		})),
	}, b.child()...)
	if err != nil {
		return err
	}
	for _, k := range []string{"backup", "restores"} {
		if _, err := iam.NewRolePolicyAttachment(b.ctx, e.Name("backup-"+k), &iam.RolePolicyAttachmentArgs{
			Role: role.Name, PolicyArn: pulumi.String(backupPolicies[k]),
		}, b.child()...); err != nil {
			return err
		}
	}

	retention := &backup.PlanRuleLifecycleArgs{DeleteAfter: pulumi.Int(s.EbsSnapshotRetentionDay)}
	rule := backup.PlanRuleArgs{
		RuleName:         pulumi.String("weekly"),
		TargetVaultName:  vault.Name,
		Schedule:         pulumi.String(weeklySchedule),
		StartWindow:      pulumi.Int(startWindowMinutes),
		CompletionWindow: pulumi.Int(completionWindowMinutes),
		Lifecycle:        retention,
		// Backup.2: recovery points carry the platform's tags.
		RecoveryPointTags: pulumi.ToStringMap(b.a.Env.Tags),
	}
	if s.BackupCopyRegion != "" {
		copyVault, err := b.copyVault(name)
		if err != nil {
			return err
		}
		rule.CopyActions = backup.PlanRuleCopyActionArray{backup.PlanRuleCopyActionArgs{
			DestinationVaultArn: copyVault,
			Lifecycle:           &backup.PlanRuleCopyActionLifecycleArgs{DeleteAfter: pulumi.Int(s.EbsSnapshotRetentionDay)},
		}}
	}
	plan, err := backup.NewPlan(b.ctx, e.Name("weekly"), &backup.PlanArgs{
		Name:  pulumi.String(e.Name("weekly")),
		Rules: backup.PlanRuleArray{rule},
	}, b.child()...)
	if err != nil {
		return err
	}
	// EC2.28: every volume of the platform is in a backup plan. The backend's volumes carry
	// the Name tag of the launch template, the group's name (canalco-<stack>-backend).
	if _, err := backup.NewSelection(b.ctx, e.Name("backend-volumes"), &backup.SelectionArgs{
		Name:       pulumi.String(e.Name("backend-volumes")),
		PlanId:     plan.ID(),
		IamRoleArn: role.Arn,
		Resources:  pulumi.StringArray{pulumi.String(ebsVolumes)},
		Conditions: backup.SelectionConditionArray{backup.SelectionConditionArgs{
			StringEquals: backup.SelectionConditionStringEqualArray{
				backup.SelectionConditionStringEqualArgs{Key: pulumi.String("aws:ResourceTag/Name"), Value: pulumi.String(b.a.AsgName)},
			},
		}},
	}, b.child()...); err != nil {
		return err
	}
	// RDS.26: the database is in a backup plan too. Its point-in-time recovery is the data
	// layer's automated backups; the weekly recovery point outlives the instance and its
	// backups, and with a copy region it is also the database's copy in another region.
	if _, err := backup.NewSelection(b.ctx, e.Name("database"), &backup.SelectionArgs{
		Name:       pulumi.String(e.Name("database")),
		PlanId:     plan.ID(),
		IamRoleArn: role.Arn,
		Resources:  pulumi.StringArray{pulumi.String(b.databaseArn())},
	}, b.child()...); err != nil {
		return err
	}
	if err := b.restoreTesting(vault, role.Arn); err != nil {
		return err
	}
	return b.backupFailures()
}

// VaultName is the stack's backup vault, known before deployment.
func VaultName(prefix string) string { return prefix }

// vault creates a backup vault; suffix tells apart the logical names of the copy region's.
func (b *builder) vault(name, suffix string, key *security.Key, opts []pulumi.ResourceOption) (*backup.Vault, error) {
	e := b.a.Env
	// Backup.1: recovery points encrypted with a customer-managed key. The vault holds the
	// only copies of old snapshots: protected stacks keep it.
	return backup.NewVault(b.ctx, name+suffix, &backup.VaultArgs{
		Name:      pulumi.String(name),
		KmsKeyArn: key.Arn,
		// AWS deletes only an empty vault: dev's recovery points go with it on `pulumi destroy`.
		ForceDestroy: pulumi.Bool(!e.Protected),
	}, append(opts, e.Keep()...)...)
}

// copyVault creates the vault of BackupCopyRegion, through a provider of that region.
func (b *builder) copyVault(name string) (pulumi.StringOutput, error) {
	region := b.a.Settings.BackupCopyRegion
	provider, err := b.a.Env.RegionProvider(b.ctx, b.a.Env.Name("backup-copy"), region, b.child()...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	opts := b.child(pulumi.Provider(provider))
	key, err := b.newKey("-"+region, nil, opts)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	vault, err := b.vault(name, "-"+region, key, opts)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	// The copy is the region-loss recovery point: locked like the original.
	return vault.Arn, b.vaultLock(vault, "-"+region, opts)
}

// backupFailures notifies the alarm topic of every backup or copy job that did not complete.
func (b *builder) backupFailures() error {
	name := b.a.Env.Name("backup-failed")
	pattern, err := json.Marshal(map[string]any{
		"source":      []string{"aws.backup"},
		"detail-type": []string{"Backup Job State Change", "Copy Job State Change"},
		"detail":      map[string]any{"state": []string{"FAILED", "ABORTED", "EXPIRED", "PARTIAL"}},
	})
	if err != nil {
		return err
	}
	rule, err := cloudwatch.NewEventRule(b.ctx, name, &cloudwatch.EventRuleArgs{
		Name:         pulumi.String(name),
		Description:  pulumi.String("Backup and copy jobs of " + b.a.Env.Prefix + " that did not complete"),
		EventPattern: pulumi.String(string(pattern)),
		State:        pulumi.String("ENABLED"),
	}, b.child()...)
	if err != nil {
		return err
	}
	_, err = cloudwatch.NewEventTarget(b.ctx, name, &cloudwatch.EventTargetArgs{
		Rule:     rule.Name,
		TargetId: pulumi.String("alarm-topic"),
		Arn:      b.main.arn,
	}, b.child()...)
	return err
}

// vaultLock makes prod's recovery points undeletable before their retention ends, by anyone:
// compliance mode (ChangeableForDays set). During the cooling-off period the lock can still be
// removed; after it, not even the account's root user can delete the lock, shorten a
// retention or delete a recovery point early ("AWS Backup Vault Lock", developer guide).
//
// Its three inputs force a replacement (terraform-provider-aws v5.100,
// internal/service/backup/vault_lock_configuration.go: ForceNew on changeable_for_days,
// max_retention_days and min_retention_days), and the lock is protected and, after the
// cooling-off, immutable: so they are constants, not settings (the retention setting is
// validated to stay inside them), and the program ignores later changes of them: a new limit
// is applied by hand during a cooling-off, as docs/disaster-recovery.md says, never planned.
func (b *builder) vaultLock(vault *backup.Vault, suffix string, opts []pulumi.ResourceOption) error {
	e := b.a.Env
	if e.Environment != settings.Prod {
		return nil
	}
	_, err := backup.NewVaultLockConfiguration(b.ctx, e.Prefix+suffix+"-lock", &backup.VaultLockConfigurationArgs{
		BackupVaultName:   vault.Name,
		ChangeableForDays: pulumi.Int(VaultLockCoolingOffDays),
		MinRetentionDays:  pulumi.Int(settings.VaultLockMinRetentionDays),
		MaxRetentionDays:  pulumi.Int(settings.VaultLockMaxRetentionDays),
	}, append(opts, append(e.Keep(), pulumi.IgnoreChanges(VaultLockFixedInputs))...)...)
	return err
}

// VaultLockCoolingOffDays: AWS Backup requires at least 3 days of cooling-off for compliance mode.
const VaultLockCoolingOffDays = 3

// VaultLockFixedInputs are the lock's inputs the program never changes once the lock exists.
var VaultLockFixedInputs = []string{"changeableForDays", "maxRetentionDays", "minRetentionDays"}
