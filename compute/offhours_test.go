package compute_test

import (
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGroupSleepsOutsideOfficeHours: a sleeping stack's group scales to zero at the end of
// office days and back to its own sizes at their start, in the users' time zone; an awake one
// has no scheduled actions.
func TestGroupSleepsOutsideOfficeHours(t *testing.T) {
	for _, c := range []struct {
		name, stack string
		set         map[string]string
		sleeps      bool
	}{
		{"dev", "dev", nil, true},
		{"staging asked to sleep", "staging", map[string]string{"canalco:sleepOutsideOfficeHours": "true", "canalco:dbBackupWindow": "17:00-17:30"}, true},
		{"staging", "staging", nil, false},
		{"prod", "prod", nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := offline.Stack(t, c.stack)
			if c.set != nil {
				var err error
				res, err = offline.WithValues(t, c.stack, c.set)
				require.NoError(t, err)
			}
			actions := res.OfType("aws:autoscaling/schedule:Schedule")
			if !c.sleeps {
				assert.Empty(t, actions)
				return
			}
			groups := res.OfType("aws:autoscaling/group:Group")
			require.Len(t, groups, 1)
			g := groups[0]
			byName := map[string]*offline.Resource{}
			for _, a := range actions {
				byName[strings.TrimPrefix(a.Str("scheduledActionName"), g.Str("name")+"-")] = a
				assert.Equal(t, "America/Bogota", a.Str("timeZone"))
			}
			require.Len(t, byName, 2)
			for _, w := range []struct {
				action, recurrence string
				min, max, desired  float64
			}{
				{"sleep", "0 19 * * 1-5", 0, 0, 0},
				{"wake", "0 7 * * 1-5", g.Num("minSize"), g.Num("maxSize"), g.Num("minSize")},
			} {
				a := byName[w.action]
				require.NotNil(t, a, w.action)
				assert.Equal(t, w.recurrence, a.Str("recurrence"), w.action)
				assert.Equal(t, []float64{w.min, w.max, w.desired}, []float64{a.Num("minSize"), a.Num("maxSize"), a.Num("desiredCapacity")}, w.action)
			}
			assert.Positive(t, byName["wake"].Num("minSize"), "the group wakes with instances")
		})
	}
}
