package monitoring_test

import (
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/require"
)

// replicaOf is the stack's read replica, if it has one.
func replicaOf(st *stack) []string {
	if st.replica == "" {
		return nil
	}
	return []string{st.replica}
}

// withReplica is prod with dbReadReplica on.
func withReplica(t *testing.T) *stack {
	t.Helper()
	res, err := offline.WithValues(t, "prod", map[string]string{"canalco:dbReadReplica": "true"})
	require.NoError(t, err)
	st := fromResult(t, res)
	require.Equal(t, "canalco-prod-postgres-replica", st.replica)
	return st
}

// The replica has its own alarms: lag (what reports see), CPU and free storage (the primary's
// 50 GB), on its identifier; without a replica there are none.
func TestReplicaAlarmsFollowTheReplica(t *testing.T) {
	st := withReplica(t)
	replica := func(*stack) map[string]any { return map[string]any{"DBInstanceIdentifier": st.replica} }
	for name, w := range map[string]want{
		"db-replica-lag":     {"AWS/RDS", "ReplicaLag", "Maximum", replica, 300, 2, "GreaterThanThreshold", value(60), "missing"},
		"db-replica-cpu":     {"AWS/RDS", "CPUUtilization", "Average", replica, 300, 3, "GreaterThanThreshold", value(80), "missing"},
		"db-replica-storage": {"AWS/RDS", "FreeStorageSpace", "Minimum", replica, 300, 6, "LessThanThreshold", value(5368709120), "missing"},
	} {
		a := st.alarms()["canalco-prod-"+name]
		require.NotNil(t, a, name)
		checkAlarm(t, st, a, w)
	}
	for _, name := range offline.Stacks {
		for alarm := range load(t, name).alarms() {
			require.NotContains(t, alarm, "replica", "%s has no replica", name)
		}
	}
}

// The dashboards graph the replica and its lag, and RDS's events of the replica reach the topic.
func TestReplicaOnDashboardsAndEvents(t *testing.T) {
	st := withReplica(t)
	checkDashboardsGraphWhatExists(t, st)
	checkRDSEvents(t, st)
}
