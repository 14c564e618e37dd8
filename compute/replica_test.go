package compute_test

import (
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With a read replica the backend (its application role) signs in to it with IAM authentication as well (the replica
// has its own DbiResourceId), and its environment names the replica as DATABASE_READ_HOST;
// without one, DATABASE_READ_HOST is the primary.
func TestBackendReadsFromTheReplica(t *testing.T) {
	res, err := offline.WithValues(t, "prod", map[string]string{"canalco:dbReadReplica": "true"})
	require.NoError(t, err)
	primary := find(t, res, "aws:rds/instance:Instance", name("prod", "postgres"))
	replica := find(t, res, "aws:rds/instance:Instance", name("prod", "postgres-replica"))
	user := func(db *offline.Resource) string {
		return "arn:aws:rds-db:us-east-1:" + offline.AccountOf("prod") + ":dbuser:" + out(db, "resourceId") + "/canalco_app"
	}
	role := find(t, res, roleType, name("prod", "app"))
	var connect []string
	for _, p := range res.OfType(rolePolicyType) {
		if p.Str("role") == role.Str("name") {
			for _, s := range parsePolicy(t, p.Str("policy")) {
				if s.Sid == "ConnectAsAppUser" {
					connect = s.Resource
				}
			}
		}
	}
	assert.Equal(t, []string{user(primary), user(replica)}, connect)
	script := userData(t, find(t, res, templateType, name("prod", "backend")))
	assert.Contains(t, script, "DATABASE_READ_HOST=%s\\n' '"+out(replica, "address")+"'")
	assert.Contains(t, script, "DATABASE_HOST=%s\\n' '"+out(primary, "address")+"'")

	plain := userData(t, find(t, offline.Stack(t, "prod"), templateType, name("prod", "backend")))
	assert.Contains(t, plain, "DATABASE_READ_HOST=%s\\n' 'canalco-prod-postgres.", "without a replica, reads go to the primary")
}
