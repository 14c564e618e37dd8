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

// withReplica is a real stack, as its file sets it (dev sleeping), with dbReadReplica on.
func withReplica(t *testing.T, name string) *stack {
	t.Helper()
	res, err := offline.WithValues(t, name, map[string]string{"canalco:dbReadReplica": "true"})
	require.NoError(t, err)
	st := fromResult(t, res)
	require.Equal(t, "canalco-"+name+"-postgres-replica", st.replica)
	return st
}

// The replica has its own alarms in every stack: lag (what reports see), CPU and free storage
// (10% of the primary's allocated storage, which the replica has too), on its identifier;
// without a replica there are none.
func TestReplicaAlarmsFollowTheReplica(t *testing.T) {
	for _, name := range offline.Stacks {
		t.Run(name, func(t *testing.T) {
			st := withReplica(t, name)
			replica := func(*stack) map[string]any { return map[string]any{"DBInstanceIdentifier": st.replica} }
			freeBytes := float64(st.s.Database.AllocatedGb) * 1024 * 1024 * 1024 / 10
			for alarm, w := range map[string]want{
				"db-replica-lag":     {"AWS/RDS", "ReplicaLag", "Maximum", replica, 300, 2, "GreaterThanThreshold", value(60), "missing"},
				"db-replica-cpu":     {"AWS/RDS", "CPUUtilization", "Average", replica, 300, 3, "GreaterThanThreshold", value(80), "missing"},
				"db-replica-storage": {"AWS/RDS", "FreeStorageSpace", "Minimum", replica, 300, 6, "LessThanThreshold", value(freeBytes), "missing"},
			} {
				a := st.alarms()["canalco-"+name+"-"+alarm]
				require.NotNil(t, a, alarm)
				checkAlarm(t, st, a, w)
			}
			for alarm := range load(t, name).alarms() {
				require.NotContains(t, alarm, "replica", "%s has no replica", name)
			}
		})
	}
}

// The dashboards graph the replica and its lag, and RDS's events of the replica reach the topic.
func TestReplicaOnDashboardsAndEvents(t *testing.T) {
	st := withReplica(t, "prod")
	checkDashboardsGraphWhatExists(t, st)
	checkRDSEvents(t, st)
}
