package cost

import (
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/review/stack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every stack with dbReadReplica: the replica is a single-AZ instance of the primary's class
// all month on the primary's storage, and the master secret is the program's own (one secret,
// no RDS-managed one). Dev sleeps, but RDS can stop neither an instance that has a read replica
// nor the replica, so its database is priced all month too, not for its 261 office hours, and
// the assumptions say why.
func TestReplicaIsPriced(t *testing.T) {
	for _, c := range []struct {
		stack                 string
		hourly, gb, primaryMo float64
	}{
		{"dev", 0.016, 20, 730 * 0.016},
		{"staging", 0.065, 50, 730 * 0.065 * 2},
		{"prod", 0.065, 50, 730 * 0.065 * 2},
	} {
		t.Run(c.stack, func(t *testing.T) {
			res, err := offline.WithValues(t, c.stack, map[string]string{"canalco:dbReadReplica": "true"})
			require.NoError(t, err)
			s, err := stack.Settings(res)
			require.NoError(t, err)
			e := Of(res, s)
			name := "canalco-" + c.stack + "-postgres"
			near(t, "replica", item(t, e, "RDS", name+"-replica"), 730*c.hourly)
			near(t, "replica storage", item(t, e, "RDS", name+"-replica storage"), c.gb*0.115)
			near(t, "primary", item(t, e, "RDS", name), c.primaryMo)
			for _, it := range e.Items {
				if it.Service == "RDS" && strings.HasPrefix(it.Resource, name) && !strings.HasSuffix(it.Resource, " storage") {
					assert.Contains(t, it.Detail+" ", " 730 h ", "%s runs all month", it.Resource)
					t.Logf("%-8s %-40s %8.2f  %s", it.Service, it.Resource, it.Monthly, it.Detail)
				}
			}
			near(t, "the master secret", item(t, e, "Secrets Manager", "1 secrets"), 0.40)
			if c.stack == "dev" {
				near(t, "the backend still sleeps", item(t, e, "EC2", "canalco-dev-backend"), 730.0*60/168*0.0168)
				assert.Contains(t, strings.Join(e.Assumptions, "\n"), "runs its instances 261 h a month")
				assert.Contains(t, strings.Join(e.Assumptions, "\n"), "and so do the database and its read replica")
			}
		})
	}
}
