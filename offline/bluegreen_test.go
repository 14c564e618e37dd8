package offline_test

import (
	"reflect"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A major upgrade of prod (16 to 17, with its parameter group family, and dbAllowMajorUpgrade as
// the procedure says) is an in-place update of the instance through a Blue/Green deployment: no input that forces a replacement changes,
// blueGreenUpdate is on, and the parameter group is a new group under a new name
// (canalco-prod-postgres17), created before the instance moves to it, while the old one
// (canalco-prod-postgres16) stays until the update is done. The blue instance of the upgrade
// replicates logically, so its parameter group turns rds.logical_replication on.
func TestProdMajorUpgradeGoesThroughBlueGreen(t *testing.T) {
	before, err := offline.WithValues(t, "prod", map[string]string{"canalco:dbEngineVersion": "16"})
	require.NoError(t, err)
	after, err := offline.WithValues(t, "prod", map[string]string{"canalco:dbEngineVersion": "17", "canalco:dbAllowMajorUpgrade": "true"})
	require.NoError(t, err)

	const instance, group = "aws:rds/instance:Instance", "aws:rds/parameterGroup:ParameterGroup"
	oldDB, newDB := before.Named(instance, "canalco-prod-postgres"), after.Named(instance, "canalco-prod-postgres")
	require.NotNil(t, oldDB)
	require.NotNil(t, newDB)
	forceNew := databaseForceNew()
	old := resource.NewPropertyMapFromMap(propertyValues(oldDB.Inputs).(map[string]any))
	sent := resource.NewPropertyMapFromMap(propertyValues(newDB.Inputs).(map[string]any))
	var changed []string
	for _, k := range keys(old, sent) {
		if !reflect.DeepEqual(plain(old[k]), plain(sent[k])) {
			changed = append(changed, string(k))
		}
	}
	assert.ElementsMatch(t, []string{"engineVersion", "parameterGroupName", "allowMajorVersionUpgrade", "blueGreenUpdate"}, changed)
	for _, k := range changed {
		assert.NotContains(t, forceNew, k, "%s forces a replacement of the database", k)
	}
	// The provider takes blueGreenUpdate from the new inputs: the run that allows the upgrade
	// turns it on, and the upgrade runs as a Blue/Green deployment.
	assert.Equal(t, false, oldDB.Get("blueGreenUpdate.enabled"), "routine changes stay plain modifications")
	assert.Equal(t, true, newDB.Get("blueGreenUpdate.enabled"), "the upgrade runs as a Blue/Green deployment")

	oldGroup, newGroup := before.Named(group, "canalco-prod-postgres-parameters"), after.Named(group, "canalco-prod-postgres-parameters")
	assert.Equal(t, "canalco-prod-postgres16", oldGroup.Str("name"))
	assert.Equal(t, "canalco-prod-postgres17", newGroup.Str("name"))
	assert.Equal(t, "postgres17", newGroup.Str("family"))
	assert.Equal(t, newGroup.Str("name"), newDB.Str("parameterGroupName"))
	assert.Contains(t, newDB.Dependencies, newGroup.URN, "the new group exists before the instance moves to it")
	assert.False(t, newGroup.DeleteBeforeReplace, "the old group goes only after the instance left it")
	var logical bool
	for _, p := range oldGroup.Get("parameters").([]any) {
		m := p.(map[string]any)
		logical = logical || (m["name"] == "rds.logical_replication" && m["value"] == "1")
	}
	assert.True(t, logical, "the blue instance replicates logically to the new major")
}

// Dev has no Blue/Green: its upgrades are in place, and a sleeping database could not be
// stopped during a deployment.
func TestDevUpgradesInPlace(t *testing.T) {
	db := offline.Stack(t, "dev").Named("aws:rds/instance:Instance", "canalco-dev-postgres")
	assert.Equal(t, false, db.Get("blueGreenUpdate.enabled"))
}
