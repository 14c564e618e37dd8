package data_test

import (
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withReplica plans a real stack, as its file sets it (dev sleeping), with dbReadReplica on.
func withReplica(t *testing.T, stack string, more map[string]string) *database {
	values := map[string]string{"canalco:dbReadReplica": "true"}
	for k, v := range more {
		values[k] = v
	}
	return load(t, withConfig(t, stack, values), stack)
}

// The replica: same engine (taken from its source), the database subnets and security group,
// encrypted with the data key (RDS encrypts a same-region replica with its source's key and
// refuses another: CreateDBInstanceReadReplica, KmsKeyId), IAM authentication, the primary's
// class by default, and its host published where the backend reads its configuration.
func TestReadReplica(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			db := withReplica(t, stack, nil)
			want := profiles[stack]
			replica := find(t, db.res, instanceType, prefix(stack)+"-postgres-replica")
			require.NotNil(t, db.res.Ancestor(replica, componentType))
			sharedSettings(t, db, replica, want)
			assert.Equal(t, db.primary.Str("identifier"), replica.Str("replicateSourceDb"))
			assert.Nil(t, replica.Get("kmsKeyId"), "the source's key, the data key")
			assert.Equal(t, db.arn(db.key), db.primary.Str("kmsKeyId"))
			for _, inherited := range []string{"engine", "engineVersion", "username", "password", "dbName", "manageMasterUserPassword"} {
				assert.Nil(t, replica.Get(inherited), "%s comes from the source", inherited)
			}
			assert.Equal(t, db.primary.Str("dbSubnetGroupName"), replica.Str("dbSubnetGroupName"), "the database subnets")
			assert.Equal(t, false, replica.Get("multiAz"))
			assert.Equal(t, 0.0, replica.Num("backupRetentionPeriod"))
			assert.Equal(t, true, replica.Get("skipFinalSnapshot"), "RDS takes no final snapshot of a replica")
			assert.False(t, replica.Protect, "the replica holds nothing the primary does not")
			for _, kind := range []string{"postgresql", "upgrade"} {
				assert.NotNil(t, db.logGroup("/aws/rds/instance/"+prefix(stack)+"-postgres-replica/"+kind))
			}
			read := find(t, db.res, "aws:ssm/parameter:Parameter", prefix(stack)+"-database-read-endpoint")
			assert.Equal(t, "/canalco/"+stack+"/database/read-endpoint", read.Str("name"))
			assert.Equal(t, replica.Outputs["address"], read.Str("insecureValue"))
			assert.Nil(t, replica.Get("blueGreenUpdate"), "a Blue/Green deployment of the primary carries its replicas")
		})
	}
}

func TestReplicaClassIsSettable(t *testing.T) {
	db := withReplica(t, "prod", map[string]string{"canalco:dbReplicaInstanceClass": "db.r7g.large"})
	assert.Equal(t, "db.r7g.large", find(t, db.res, instanceType, "canalco-prod-postgres-replica").Str("instanceClass"))
	assert.Equal(t, "db.t4g.medium", db.primary.Str("instanceClass"))
}

// Without a replica, reads go to the primary: the parameter names it.
func TestReadEndpointWithoutReplicaIsThePrimary(t *testing.T) {
	eachStack(t, func(t *testing.T, db *database, _ profile) {
		read := find(t, db.res, "aws:ssm/parameter:Parameter", prefix(db.stack)+"-database-read-endpoint")
		assert.Equal(t, db.primary.Outputs["address"], read.Str("insecureValue"))
	})
}
