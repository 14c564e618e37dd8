package cost

import (
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/review/stack"
	"github.com/stretchr/testify/require"
)

// Prod with dbReadReplica: the replica is a single-AZ db.t4g.medium all month on the primary's
// 50 GB, and the master secret is the program's own (one secret, no RDS-managed one).
func TestReplicaIsPriced(t *testing.T) {
	res, err := offline.WithValues(t, "prod", map[string]string{"canalco:dbReadReplica": "true"})
	require.NoError(t, err)
	s, err := stack.Settings(res)
	require.NoError(t, err)
	e := Of(res, s)
	near(t, "replica", item(t, e, "RDS", "canalco-prod-postgres-replica"), 730*0.065)
	near(t, "replica storage", item(t, e, "RDS", "canalco-prod-postgres-replica storage"), 50*0.115)
	for _, it := range e.Items {
		if it.Service == "RDS" && strings.HasPrefix(it.Resource, "canalco-prod-postgres-replica") {
			t.Logf("%-8s %-40s %8.2f  %s", it.Service, it.Resource, it.Monthly, it.Detail)
		}
	}
	near(t, "the master secret", item(t, e, "Secrets Manager", "1 secrets"), 0.40)
}
