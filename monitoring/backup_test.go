package monitoring_test

import (
	"encoding/json"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// volumeName is the Name tag the launch template puts on the backend instances' volumes.
func volumeName(t *testing.T, st *stack) string {
	t.Helper()
	templates := st.res.OfType("aws:ec2/launchTemplate:LaunchTemplate")
	require.Len(t, templates, 1)
	for _, spec := range templates[0].List("tagSpecifications") {
		s := spec.(map[string]any)
		if s["resourceType"] == "volume" {
			return s["tags"].(map[string]any)["Name"].(string)
		}
	}
	t.Fatalf("%s: the launch template does not tag volumes", st.name)
	return ""
}

// Seed: weekly snapshots of the EC2 volumes, kept ebsSnapshotRetentionDays, in an encrypted
// vault, selected by the tag the backend's volumes really carry.
func TestWeeklyBackupOfBackendVolumes(t *testing.T) {
	for _, name := range offline.Stacks {
		st := load(t, name)
		vault := st.res.Named("aws:backup/vault:Vault", "canalco-"+name)
		require.NotNil(t, vault, name)
		key := st.res.Named("aws:kms/key:Key", "canalco-"+name+"-monitoring")
		require.NotNil(t, key)
		assert.Equal(t, key.Outputs["arn"], vault.Str("kmsKeyArn"), "Backup.1: a customer-managed key")
		assert.Equal(t, name == "dev", vault.Bool("forceDestroy"), "only dev's recovery points go with `pulumi destroy`")
		assert.Equal(t, name != "dev", vault.Protect && vault.RetainOnDelete && key.Protect, "%s: kept in protected stacks", name)

		plan := st.res.Named("aws:backup/plan:Plan", "canalco-"+name+"-weekly")
		require.NotNil(t, plan)
		require.Len(t, plan.List("rules"), 1)
		assert.Equal(t, "cron(0 6 ? * SUN *)", plan.Str("rules.0.schedule"), "Sunday 06:00 UTC")
		assert.Equal(t, "canalco-"+name, plan.Str("rules.0.targetVaultName"))
		assert.Equal(t, float64(st.s.Monitoring.EbsSnapshotRetentionDay), plan.Num("rules.0.lifecycle.deleteAfter"))
		assert.Equal(t, 28.0, plan.Num("rules.0.lifecycle.deleteAfter"))
		assert.Equal(t, 60.0, plan.Num("rules.0.startWindow"))
		assert.Equal(t, 1440.0, plan.Num("rules.0.completionWindow"))
		assert.Equal(t, name, plan.Str("rules.0.recoveryPointTags.Environment"), "Backup.2: recovery points are tagged")
		assert.Empty(t, plan.List("rules.0.copyActions"), "no copy region set")

		sel := st.res.Named("aws:backup/selection:Selection", "canalco-"+name+"-backend-volumes")
		require.NotNil(t, sel)
		assert.Equal(t, plan.Outputs["id"], sel.Str("planId"))
		assert.Equal(t, []string{"arn:aws:ec2:*:*:volume/*"}, sel.Strings("resources"))
		assert.Equal(t, []any{map[string]any{"key": "aws:ResourceTag/Name", "value": volumeName(t, st)}}, sel.List("conditions.0.stringEquals"))
		db := st.res.Named("aws:backup/selection:Selection", "canalco-"+name+"-database")
		require.NotNil(t, db, "RDS.26: the database is in a backup plan")
		assert.Equal(t, plan.Outputs["id"], db.Str("planId"))
		assert.Equal(t, []string{"arn:aws:rds:us-east-1:" + offline.AccountOf(name) + ":db:" + st.database}, db.Strings("resources"))

		role := st.res.Named("aws:iam/role:Role", "canalco-"+name+"-backup")
		require.NotNil(t, role)
		assert.Equal(t, role.Outputs["arn"], sel.Str("iamRoleArn"))
		trust := statements(t, role.Str("assumeRolePolicy"))
		require.Len(t, trust, 1)
		assert.Equal(t, "backup.amazonaws.com", trust[0].Principal["Service"])
		var attached []string
		for _, a := range st.res.OfType("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
			if a.Str("role") == role.Str("name") {
				attached = append(attached, a.Str("policyArn"))
			}
		}
		assert.ElementsMatch(t, []string{
			"arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
			"arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
		}, attached)
	}
}

// With backupCopyRegion, every recovery point (volumes and database) is copied to a vault of
// that region, through a provider with the stack's tags.
func TestBackupCopyToAnotherRegion(t *testing.T) {
	st := override(t, "prod", map[string]string{"canalco:backupCopyRegion": "us-west-2"})
	var copyProvider *offline.Resource
	for _, p := range st.res.OfType("pulumi:providers:aws") {
		if p.Str("region") == "us-west-2" {
			copyProvider = p
		}
	}
	require.NotNil(t, copyProvider, "a provider of the copy region")
	main := st.res.Named("pulumi:providers:aws", "aws")
	require.NotNil(t, main.Get("defaultTags.tags.Environment"))
	assert.Equal(t, main.Get("defaultTags"), copyProvider.Get("defaultTags"), "the copy region's resources carry the stack's tags")

	copyVault := st.res.Named("aws:backup/vault:Vault", "canalco-prod-us-west-2")
	require.NotNil(t, copyVault)
	assert.Equal(t, "canalco-prod", copyVault.Str("name"))
	assert.Contains(t, copyVault.Provider, copyProvider.URN)
	assert.True(t, copyVault.Protect && copyVault.RetainOnDelete)
	copyKey := st.res.Named("aws:kms/key:Key", "canalco-prod-monitoring-us-west-2")
	require.NotNil(t, copyKey)
	assert.Len(t, statements(t, copyKey.Str("policy")), 1, "only the account administers the vault's key")
	assert.Contains(t, copyKey.Provider, copyProvider.URN, "a KMS key lives in one region")
	assert.Equal(t, copyKey.Outputs["arn"], copyVault.Str("kmsKeyArn"))

	plan := st.res.Named("aws:backup/plan:Plan", "canalco-prod-weekly")
	require.NotNil(t, plan)
	assert.Equal(t, copyVault.Outputs["arn"], plan.Str("rules.0.copyActions.0.destinationVaultArn"))
	assert.Equal(t, 28.0, plan.Num("rules.0.copyActions.0.lifecycle.deleteAfter"))

}

// A backup or copy job that does not complete reaches the alarm topic.
func TestFailedBackupsNotify(t *testing.T) {
	for _, name := range offline.Stacks {
		st := load(t, name)
		rule := st.res.Named("aws:cloudwatch/eventRule:EventRule", "canalco-"+name+"-backup-failed")
		require.NotNil(t, rule)
		assert.Equal(t, "ENABLED", rule.Str("state"))
		var pattern struct {
			Source     []string `json:"source"`
			DetailType []string `json:"detail-type"`
			Detail     struct {
				State []string `json:"state"`
			} `json:"detail"`
		}
		require.NoError(t, json.Unmarshal([]byte(rule.Str("eventPattern")), &pattern))
		assert.Equal(t, []string{"aws.backup"}, pattern.Source)
		assert.ElementsMatch(t, []string{"Backup Job State Change", "Copy Job State Change"}, pattern.DetailType)
		assert.Subset(t, pattern.Detail.State, []string{"FAILED", "ABORTED", "EXPIRED"})
		assert.NotContains(t, pattern.Detail.State, "COMPLETED")
		target := st.res.Named("aws:cloudwatch/eventTarget:EventTarget", "canalco-"+name+"-backup-failed")
		require.NotNil(t, target)
		assert.Equal(t, rule.Str("name"), target.Str("rule"))
		assert.Equal(t, st.topic(t).Outputs["arn"], target.Str("arn"))
	}
}
