package diff

import (
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/review/stack"
	"github.com/canalco/infra/settings"
)

func plan(stackName string, resources ...*offline.Resource) *offline.Result {
	return &offline.Result{Config: &offline.Config{Project: "canalco", Stack: stackName}, Resources: resources}
}

func resource(typ, name string, inputs, outputs map[string]any) *offline.Resource {
	return &offline.Resource{Type: typ, Name: name, Custom: true, Inputs: inputs, Outputs: outputs}
}

// Two hand-built stacks: the stack name and generated IDs are normalized away, the CIDR and
// the instance class are real differences, and each stack has one resource of its own.
func TestCompareNormalizesOnlyTheStackName(t *testing.T) {
	a := plan("staging",
		resource("aws:ec2/vpc:Vpc", "canalco-staging-vpc", map[string]any{"cidrBlock": "10.1.0.0/16", "tags": map[string]any{"Name": "canalco-staging-vpc", "Environment": "staging"}},
			map[string]any{"id": "vpc-0aaaaaaaaaaaaaaa1"}),
		resource("aws:ec2/subnet:Subnet", "canalco-staging-private-a", map[string]any{"vpcId": "vpc-0aaaaaaaaaaaaaaa1", "cidrBlock": "10.1.10.0/24"}, nil),
		resource("aws:rds/instance:Instance", "canalco-staging-postgres", map[string]any{"instanceClass": "db.t4g.small", "password": offline.Secret{Value: "a"}}, nil),
		resource("aws:lb/listener:Listener", "canalco-staging-alb-80", map[string]any{"port": 80.0}, nil),
	)
	b := plan("prod",
		resource("aws:ec2/vpc:Vpc", "canalco-prod-vpc", map[string]any{"cidrBlock": "10.0.0.0/16", "tags": map[string]any{"Name": "canalco-prod-vpc", "Environment": "prod"}},
			map[string]any{"id": "vpc-0bbbbbbbbbbbbbbb2"}),
		resource("aws:ec2/subnet:Subnet", "canalco-prod-private-a", map[string]any{"vpcId": "vpc-0bbbbbbbbbbbbbbb2", "cidrBlock": "10.1.10.0/24"}, nil),
		resource("aws:rds/instance:Instance", "canalco-prod-postgres", map[string]any{"instanceClass": "db.t4g.medium", "password": offline.Secret{Value: "b"}}, nil),
		resource("aws:lb/listener:Listener", "canalco-prod-alb-443", map[string]any{"port": 443.0}, nil),
	)
	d := Compare(a, settings.Profile(settings.Staging, "us-east-1"), b, settings.Profile(settings.Prod, "us-east-1"))

	changed := map[string][]Property{}
	for _, c := range d.Changed {
		changed[c.Resource] = c.Properties
	}
	if p := changed["aws:ec2/vpc:Vpc  canalco-{stack}-vpc"]; len(p) != 1 || p[0] != (Property{"cidrBlock", "10.1.0.0/16", "10.0.0.0/16"}) {
		t.Errorf("VPC differences %+v, want only the CIDR", p)
	}
	if p, ok := changed["aws:ec2/subnet:Subnet  canalco-{stack}-private-a"]; ok {
		t.Errorf("the subnets differ only by their VPC's generated ID, yet: %+v", p)
	}
	if p := changed["aws:rds/instance:Instance  canalco-{stack}-postgres"]; len(p) != 1 || p[0].Path != "instanceClass" {
		t.Errorf("database differences %+v, want the class only (secrets compare as [secret])", p)
	}
	if strings.Join(d.OnlyA, ",") != "aws:lb/listener:Listener  canalco-{stack}-alb-80" || strings.Join(d.OnlyB, ",") != "aws:lb/listener:Listener  canalco-{stack}-alb-443" {
		t.Errorf("only in A %v, only in B %v", d.OnlyA, d.OnlyB)
	}
	keys := map[string]Setting{}
	for _, s := range d.Settings {
		keys[s.Key] = s
	}
	if s := keys["canalco:vpcCidr"]; s.A != "10.1.0.0/16" || s.B != "10.0.0.0/16" {
		t.Errorf("vpcCidr setting %+v", s)
	}
	if _, ok := keys["canalco:dbName"]; ok {
		t.Error("a setting equal in both profiles is listed")
	}
}

func TestLineDiffOfScripts(t *testing.T) {
	a := map[string]string{"userData": "set -e\nENV=staging\nrun"}
	b := map[string]string{"userData": "set -e\nENV=prod\nrun"}
	got := compareInputs(a, b)
	if len(got) != 1 || got[0].A != "ENV=staging" || got[0].B != "ENV=prod" {
		t.Errorf("script diff %+v, want the changed line only", got)
	}
}

// A stack compared with itself has no difference; staging and prod differ where the profiles
// do (the VPC CIDR), and prod alone has the CloudFront web ACL.
func TestRealStacks(t *testing.T) {
	rs, ss := stack.ForTest(t, "staging")
	rp, sp := stack.ForTest(t, "prod")
	if d := Compare(rp, sp, rp, sp); len(d.Settings)+len(d.OnlyA)+len(d.OnlyB)+len(d.Changed) > 0 {
		t.Errorf("prod differs from itself: %+v", d)
	}
	d := Compare(rs, ss, rp, sp)
	var out strings.Builder
	d.Write(&out)
	for _, want := range []string{"canalco:vpcCidr", "cidrBlock: 10.1.0.0/16 → 10.0.0.0/16"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("staging → prod diff lacks %q", want)
		}
	}
	// Staging mirrors prod's web ACL, so it is in neither side's list of its own.
	if strings.Contains(strings.Join(append(d.OnlyA, d.OnlyB...), "\n"), "aws:wafv2/webAcl:WebAcl") {
		t.Error("the web ACL is listed as belonging to one stack only")
	}
	if len(d.OnlyA) > len(rs.Resources)/10 {
		t.Errorf("%d of %d staging resources unmatched: names are not normalized", len(d.OnlyA), len(rs.Resources))
	}
}
