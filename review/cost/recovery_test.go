package cost

import (
	"testing"

	"github.com/canalco/infra/review/stack"
)

// The monthly restore test: a db.t4g.micro for the hour of the restore and the 2-hour
// validation window, with the live database's 50 GB for those 3 hours, and the backend's
// volume for as long. Dev has no restore test by default.
func TestRestoreTestIsPriced(t *testing.T) {
	res, s := stack.ForTest(t, "prod")
	e := Of(res, s)
	near(t, "restored database", item(t, e, "RDS", "canalco-prod-restore-test-database"), 3*0.016+50*0.115*3/730)
	var gb float64
	for _, lt := range res.OfType("aws:ec2/launchTemplate:LaunchTemplate") {
		gb = lt.Num("blockDeviceMappings.0.ebs.volumeSize")
	}
	if gb == 0 {
		t.Fatal("the backend's launch template has no volume size")
	}
	near(t, "restored volume", item(t, e, "EBS", "canalco-prod-restore-test-volume"), gb*0.08*3/730)

	res, s = stack.ForTest(t, "dev")
	for _, it := range Of(res, s).Items {
		if it.Resource == "canalco-dev-restore-test-database" {
			t.Errorf("dev prices a restore test it does not run: %+v", it)
		}
	}
}
