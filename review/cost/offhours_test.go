package cost

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/canalco/infra/review/stack"
)

// TestAwakeHours: a sleeping stack pays for its backend instances and its database only in
// office hours (office days × hours, in AWS's 730-hour month); an awake one all month.
func TestAwakeHours(t *testing.T) {
	for _, c := range []struct {
		stack string
		hours float64
	}{
		{"dev", 261}, // 5 days × 12 h × 730 / 168
		{"staging", HoursPerMonth},
		{"prod", HoursPerMonth},
	} {
		t.Run(c.stack, func(t *testing.T) {
			res, s := stack.ForTest(t, c.stack)
			if got := s.Compute.Office.AwakeHoursPerMonth(); math.Round(got) != c.hours {
				t.Fatalf("awake hours %.2f, want %.0f", got, c.hours)
			}
			e := Of(res, s)
			hours := fmt.Sprintf(" %.0f h ", c.hours)
			asgs := res.OfType("aws:autoscaling/group:Group")
			if len(asgs) != 1 {
				t.Fatalf("%d Auto Scaling groups", len(asgs))
			}
			dbs := res.OfType("aws:rds/instance:Instance")
			if len(dbs) == 0 {
				t.Fatal("no database")
			}
			for _, want := range []struct{ service, resource string }{{"EC2", asgs[0].Name}, {"RDS", dbs[0].Name}} {
				found := false
				for _, it := range e.Items {
					if it.Service != want.service || it.Resource != want.resource {
						continue
					}
					found = true
					if !strings.Contains(it.Detail, hours) {
						t.Errorf("%s %s: %q does not count%sa month", it.Service, it.Resource, it.Detail, hours)
					}
				}
				if !found {
					t.Errorf("no %s item for %s", want.service, want.resource)
				}
			}
		})
	}
}
