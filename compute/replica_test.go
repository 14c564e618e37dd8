package compute_test

import (
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With a read replica the backend (its application role) signs in to it with IAM authentication as well (the replica
// has its own DbiResourceId), and its boot reads DATABASE_READ_HOST from the read endpoint
// parameter, which names the replica; without one, the primary.
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
	assert.Contains(t, script, "readonly DATABASE_READ_PARAMETER='/canalco/prod/database/read-endpoint'")
	assert.Contains(t, script, `DATABASE_READ_HOST=$(database_host "$DATABASE_READ_PARAMETER")`)
	assert.Contains(t, script, `printf 'DATABASE_READ_HOST=%s\n' "$DATABASE_READ_HOST"`)
	read := find(t, res, parameterType, name("prod", "database-read-endpoint"))
	assert.Equal(t, "/canalco/prod/database/read-endpoint", read.Str("name"))
	assert.Equal(t, out(replica, "address"), read.Str("insecureValue"))

	plain := offline.Stack(t, "prod")
	assert.Equal(t, out(find(t, plain, "aws:rds/instance:Instance", name("prod", "postgres")), "address"),
		find(t, plain, parameterType, name("prod", "database-read-endpoint")).Str("insecureValue"), "without a replica, reads go to the primary")
	assert.Equal(t, userData(t, find(t, plain, templateType, name("prod", "backend"))), script, "the replica changes no launch template")
}
