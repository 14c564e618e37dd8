package report

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/review/graph"
	"github.com/canalco/infra/review/stack"
)

func TestPlanOfEveryStack(t *testing.T) {
	for _, name := range offline.Stacks {
		res, s := stack.ForTest(t, name)
		var a, b bytes.Buffer
		Plan(&a, res, s)
		Plan(&b, res, s)
		out := a.String()
		if out != b.String() {
			t.Errorf("%s: two plans of the same stack differ", name)
		}
		for _, want := range []string{
			"Stack " + name + "  environment " + name + "  region us-east-1\n",
			"== Resources ==\n", "== Counts by type ==\n", "== Security ==\n", "== Cost ==\n",
			"aws:ec2/vpc:Vpc  canalco-" + name + "-vpc  cidr=" + s.Network.VpcCidr,
			"az=us-east-1a",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("%s plan lacks %q", name, want)
			}
		}
		if !regexp.MustCompile(`(?m)^Security summary: \d+ passed, \d+ failed, \d+ excepted$`).MatchString(out) {
			t.Errorf("%s: no security summary line", name)
		}
		if !regexp.MustCompile(`(?m)^Total: \$\d+\.\d\d / month; goal \$\d+`).MatchString(out) {
			t.Errorf("%s: no cost total", name)
		}
		// Components are indented under their parent.
		if !regexp.MustCompile(`(?m)^canalco:network:Network  canalco-` + name + `\n  aws:`).MatchString(out) {
			t.Errorf("%s: the network component's children are not indented under it", name)
		}
	}
}

func TestKeySettings(t *testing.T) {
	sg := &offline.Resource{Type: "aws:ec2/securityGroup:SecurityGroup", Name: "canalco-dev-rds", Custom: true,
		Inputs: map[string]any{"name": "canalco-dev-rds"}, Outputs: map[string]any{"id": "sg-0rds"}}
	rule := &offline.Resource{Type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", Name: "in", Custom: true,
		Inputs: map[string]any{"fromPort": 5432.0, "toPort": 5432.0, "referencedSecurityGroupId": "sg-0rds"}}
	db := &offline.Resource{Type: "aws:rds/instance:Instance", Name: "db", Custom: true,
		Inputs: map[string]any{"instanceClass": "db.t4g.micro", "multiAz": false, "engine": "postgres"}}
	other := &offline.Resource{Type: "aws:ec2/route:Route", Name: "r", Custom: true, Inputs: map[string]any{"destinationCidrBlock": "0.0.0.0/0"}}
	x := graph.New(&offline.Result{Resources: []*offline.Resource{sg, rule, db, other}})
	for _, c := range []struct {
		r    *offline.Resource
		want string
	}{
		{rule, "port=5432 from=sg:canalco-dev-rds"},
		{db, "class=db.t4g.micro engine=postgres multiAz=false"},
		{other, ""},
	} {
		if got := keys(c.r, x); got != c.want {
			t.Errorf("%s: %q, want %q", c.r.Type, got, c.want)
		}
	}
}

// BenchmarkPlanProd measures what `make plan STACK=prod` does after the build: run the program
// under mocks, evaluate the policy pack, price the stack and render the text.
func BenchmarkPlanProd(b *testing.B) {
	root := offline.Root(b)
	b.ReportAllocs()
	for b.Loop() {
		res, s, err := stack.Load(root, "prod")
		if err != nil {
			b.Fatal(err)
		}
		Plan(io.Discard, res, s)
	}
}
