package policy

import (
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/review/stack"
)

// The protected stacks must pass the whole pack; dev may fail the rules that apply to it, which
// the test logs so the plan's figures can be checked against it.
func TestStacksHaveNoFailures(t *testing.T) {
	for _, name := range offline.Stacks {
		t.Run(name, func(t *testing.T) {
			rep := Evaluate(stack.ForTest(t, name))
			if rep.Passed == 0 {
				t.Fatal("no rule evaluated a resource")
			}
			for _, f := range rep.Failures {
				line := f.Rule.ID + " " + f.Resource.Type + " " + f.Resource.Name + ": " + f.Message
				if name == "dev" {
					t.Log("dev fails " + line)
				} else {
					t.Error(line)
				}
			}
			for _, f := range rep.Excepted {
				t.Logf("excepted %s %s: %s", f.Rule.ID, f.Resource.Name, f.Reason)
			}
		})
	}
}

// Exceptions are accepted per environment: the seed's port everywhere, dev's missing domain
// only in dev.
func TestExceptionsFollowTheStack(t *testing.T) {
	excepted := func(name, rule string) bool {
		for _, f := range Evaluate(stack.ForTest(t, name)).Excepted {
			if f.Rule.ID == rule {
				return true
			}
		}
		return false
	}
	if len(offline.Stack(t, "prod").OfType(typeDB)) > 0 && !excepted("prod", "RDS.23") {
		t.Error("prod's database on 5432 is not reported as an accepted RDS.23 exception")
	}
	if len(offline.Stack(t, "prod").OfType(typeDistribution)) > 0 && excepted("prod", "CloudFront.7") {
		t.Error("prod has a custom domain, yet CloudFront.7 is excepted")
	}
}
