package offline_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/canalco/infra/offline"
)

// Every resource type registered in any stack has its row in the replacement table, or is named
// in offline.Unread with the reason: a new type cannot slip into `make plan`'s "update in place".
func TestEveryRegisteredTypeHasAReplacementRow(t *testing.T) {
	registered := map[string]bool{}
	for _, stack := range offline.Stacks {
		for _, r := range offline.Stack(t, stack).Resources {
			if !r.Custom || strings.HasPrefix(r.Type, "pulumi:providers:") || registered[r.Type] {
				continue
			}
			registered[r.Type] = true
			_, row := offline.Replacements[r.Type]
			reason, unread := offline.Unread[r.Type]
			switch {
			case !row && !unread:
				t.Errorf("%s registers %s (%s), which has no row in offline.Replacements: add its forcing inputs and provider file, or its reason to offline.Unread", stack, r.Type, r.Name)
			case row && unread:
				t.Errorf("%s is both in offline.Replacements and in offline.Unread", r.Type)
			case unread:
				t.Logf("%s: not in the table: %s", r.Type, reason)
			}
		}
	}
	for typ := range offline.Replacements {
		if !registered[typ] {
			t.Errorf("offline.Replacements has %s, which no stack registers: remove the row", typ)
		}
	}
	for typ := range offline.Unread {
		if !registered[typ] {
			t.Errorf("offline.Unread names %s, which no stack registers", typ)
		}
	}
	t.Logf("%d registered types: %d in the table, %d unread", len(registered), len(registered)-len(offline.Unread), len(offline.Unread))
}

// Each forcing input of the table is an input of its type in the SDK the program builds with
// (the Args struct of pulumi-aws or pulumi-random, by its pulumi tags): a misspelt or
// snake_case name would never differ, and Diff would call a replacement an update.
func TestReplacementInputsAreSDKInputs(t *testing.T) {
	dirs := map[string]string{}
	for pkg, mod := range map[string]string{"aws": "github.com/pulumi/pulumi-aws/sdk/v6", "random": "github.com/pulumi/pulumi-random/sdk/v4"} {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mod).Output()
		if err != nil {
			t.Fatalf("go list -m %s: %v", mod, err)
		}
		dirs[pkg] = filepath.Join(strings.TrimSpace(string(out)), "go", pkg)
	}
	for typ, row := range offline.Replacements {
		inputs, err := sdkInputs(dirs, typ)
		if err != nil {
			t.Errorf("%s: %v", typ, err)
			continue
		}
		for _, in := range row.Inputs {
			if !inputs[in] {
				t.Errorf("%s: %q is not an input of the type in the SDK (%s)", typ, in, row.Source)
			}
		}
	}
}

// sdkInputs reads the pulumi tags of a type's Args struct: "aws:acm/certificate:Certificate" is
// certificateArgs in go/aws/acm/certificate.go; module "index" is the package's root.
func sdkInputs(dirs map[string]string, typ string) (map[string]bool, error) {
	pkg, rest, _ := strings.Cut(typ, ":")
	mod, file, _ := strings.Cut(strings.Split(rest, ":")[0], "/")
	dir := filepath.Join(dirs[pkg], mod)
	if mod == "index" {
		dir = dirs[pkg]
	}
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, file+".go"), nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	r := []rune(file)
	r[0] = unicode.ToLower(r[0])
	name := string(r) + "Args"
	inputs := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok || ts.Name.Name != name {
			return true
		}
		for _, field := range ts.Type.(*ast.StructType).Fields.List {
			if field.Tag != nil {
				inputs[reflect.StructTag(strings.Trim(field.Tag.Value, "`")).Get("pulumi")] = true
			}
		}
		return false
	})
	return inputs, nil
}

// A change of the VPC's range replaces the VPC (cidrBlock, ForceNew in ec2/vpc_.go) and, through
// it, the subnets: the plan comparison reports it as a replacement, not as an update in place.
func TestTheDiffReplacesTheVPCOnANewRange(t *testing.T) {
	base := offline.Stack(t, "dev")
	after, err := offline.WithValues(t, "dev", map[string]string{"canalco:vpcCidr": "10.3.0.0/16"})
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]offline.Difference{}
	for _, d := range offline.Diff(base, after) {
		found[d.Resource.Type] = d
	}
	if d := found["aws:ec2/vpc:Vpc"]; d.Change != offline.Replace || !slices.Equal(d.Inputs, []string{"cidrBlock"}) {
		t.Errorf("VPC: %s %v, want a replacement by cidrBlock", d.Change, d.Inputs)
	}
	if d := found["aws:ec2/subnet:Subnet"]; d.Change != offline.Replace {
		t.Errorf("subnet: %s %v, want a replacement", d.Change, d.Inputs)
	}
}
