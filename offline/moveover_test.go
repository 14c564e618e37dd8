package offline_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// previousInstances are the database instance's inputs of every stack as the program
// registered them while RDS managed the master password (commit f97f161), the state an
// existing stack's next `pulumi up` starts from.
const previousInstances = "testdata/previous-instances.json"

// An existing stack leaves RDS's management of the master password on its next `pulumi up`:
// the instance is updated in place (no input that forces a replacement changes) and the one
// ModifyDBInstance carries ManageMasterUserPassword false with the new password, which RDS
// requires ("If the DB instance already manages the master user password with Secrets Manager,
// and you specify that it is not managed, then you must specify MasterUserPassword. In this
// case, Amazon RDS deletes the secret": RDS API Reference, ModifyDBInstance). The new inputs go
// through the resource's ignoreChanges exactly as the engine applies them (the SDK's
// PropertyPath.Reset, which pkg/resource/deploy's processIgnoreChanges calls): an ignored
// password would be dropped here, since the previous inputs have none.
func TestExistingStacksLeaveRDSManagedPasswordInPlace(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(previousInstances))
	require.NoError(t, err)
	var previous map[string]map[string]any
	require.NoError(t, json.Unmarshal(raw, &previous))

	forceNew := databaseForceNew()

	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			old := resource.NewPropertyMapFromMap(previous[stack])
			require.True(t, old["manageMasterUserPassword"].BoolValue(), "the previous inputs are RDS-managed")
			db := offline.Stack(t, stack).Named("aws:rds/instance:Instance", "canalco-"+stack+"-postgres")
			require.NotNil(t, db)
			sent := resource.NewPropertyMapFromMap(propertyValues(db.Inputs).(map[string]any))
			for _, path := range db.IgnoreChanges {
				p, err := resource.ParsePropertyPath(path)
				require.NoError(t, err)
				p.Reset(old, sent)
			}

			var changed []string
			for _, k := range keys(old, sent) {
				if !reflect.DeepEqual(plain(old[k]), plain(sent[k])) {
					changed = append(changed, string(k))
				}
			}
			for _, k := range changed {
				assert.NotContains(t, forceNew, k, "%s: %s forces a replacement of the database", stack, k)
			}
			assert.Contains(t, changed, "manageMasterUserPassword")
			// With blueGreenUpdate on, the provider would send this change through a Blue/Green
			// deployment, which RDS refuses for an instance whose password it manages ("Limitations
			// and considerations for Amazon RDS blue/green deployments").
			assert.Equal(t, false, db.Get("blueGreenUpdate.enabled"), "a plain ModifyDBInstance, not a Blue/Green deployment")
			assert.False(t, sent["manageMasterUserPassword"].BoolValue())
			require.Contains(t, changed, "password", "the update must carry the password RDS requires")
			assert.True(t, sent["password"].IsSecret(), "encrypted in the state")
			t.Logf("%s: ~ update aws:rds/instance:Instance canalco-%s-postgres, changed inputs %v", stack, stack, changed)
		})
	}
}

// propertyValues turns the offline run's plain inputs back into what the engine holds:
// offline.Secret becomes a secret property.
func propertyValues(v any) any {
	switch x := v.(type) {
	case offline.Secret:
		return resource.MakeSecret(resource.NewPropertyValue(propertyValues(x.Value)))
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = propertyValues(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = propertyValues(e)
		}
		return out
	}
	return v
}

// plain is a property's value without its secret marking, numbers as float64.
func plain(v resource.PropertyValue) any {
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if v.IsNull() {
		return nil
	}
	return v.Mappable()
}

func keys(maps ...resource.PropertyMap) []resource.PropertyKey {
	var out []resource.PropertyKey
	for _, m := range maps {
		for k := range m {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// databaseForceNew are the database's inputs whose change replaces it: the table's, and its
// fixed identifier.
func databaseForceNew() []string {
	return append(slices.Clone(offline.Replacements["aws:rds/instance:Instance"].Inputs), "identifier")
}
