package policy

import (
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/review/graph"
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

// The read replica and the master secret pass the pack in every stack that may run them:
// encryption (RDS.3 through the source's key, Canalco.3), no public access (RDS.2), deletion
// protection where the stack is protected (RDS.8), IAM authentication (RDS.10), rotation
// (SecretsManager.1 and .4).
func TestReplicaStacksHaveNoFailures(t *testing.T) {
	for _, name := range offline.Stacks {
		t.Run(name, func(t *testing.T) {
			res, err := offline.WithValues(t, name, map[string]string{"canalco:dbReadReplica": "true"})
			if err != nil {
				t.Fatal(err)
			}
			s, err := stack.Settings(res)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range Evaluate(res, s).Failures {
				t.Error(f.Rule.ID + " " + f.Resource.Type + " " + f.Resource.Name + ": " + f.Message)
			}
			// Each rule, run on the replica or the secret itself, passes.
			ctx := &Context{Index: graph.New(res), Settings: s}
			targets := map[string]string{"RDS.2": "postgres-replica", "RDS.3": "postgres-replica", "RDS.10": "postgres-replica",
				"Canalco.3": "postgres", "SecretsManager.1": "postgres-master", "SecretsManager.4": "postgres-master"}
			if name != "dev" {
				targets["RDS.8"] = "postgres-replica"
			}
			for _, rule := range Rules() {
				thing, ok := targets[rule.ID]
				if !ok {
					continue
				}
				var r *offline.Resource
				for _, typ := range rule.ResourceTypes {
					if r == nil {
						r = res.Named(typ, "canalco-"+name+"-"+thing)
					}
				}
				if r == nil {
					t.Errorf("%s: no canalco-%s-%s", rule.ID, name, thing)
					continue
				}
				if ok, msg := rule.Check(r, ctx); !ok {
					t.Errorf("%s %s: %s", rule.ID, r.Name, msg)
				}
				delete(targets, rule.ID)
			}
			if len(targets) > 0 {
				t.Errorf("rules not found: %v", targets)
			}
		})
	}
}
