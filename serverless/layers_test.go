package serverless_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/serverless"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const layerVersionType = "aws:lambda/layerVersion:LayerVersion"

// A function with requirements.txt gets its own layer for the functions' runtime and
// architecture, uploaded beside the code and attached to that function only.
func TestFunctionsWithRequirementsGetALayer(t *testing.T) {
	reqs, err := filepath.Glob(filepath.Join(offline.Root(t), "serverless", "functions", "*", "requirements.txt"))
	if err != nil || len(reqs) == 0 {
		t.Fatalf("no function has requirements.txt (%v)", err)
	}
	withDeps := map[string]bool{}
	for _, r := range reqs {
		withDeps[filepath.Base(filepath.Dir(r))] = true
	}
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			p := "canalco-" + stack
			arns := map[string]any{}
			for _, l := range layer(res, layerVersionType) {
				fn := strings.TrimSuffix(strings.TrimPrefix(l.Str("layerName"), p+"-"), "-deps")
				if !withDeps[fn] || l.Str("layerName") != p+"-"+fn+"-deps" || !slices.Equal(l.Strings("compatibleRuntimes"), []string{"python3.13"}) ||
					!slices.Equal(l.Strings("compatibleArchitectures"), []string{"arm64"}) || l.Str("s3Key") != "layers/"+fn+".zip" || l.Str("sourceCodeHash") == "" {
					t.Errorf("layer %v", l.Inputs)
				}
				arns[fn] = l.Outputs["arn"]
			}
			if _, ok := arns["reports"]; !ok {
				t.Errorf("the reports function has no layer")
			}
			for _, f := range layer(res, functionType) {
				fn := strings.TrimPrefix(f.Str("name"), p+"-")
				got := f.Strings("layers")
				if withDeps[fn] != (len(got) == 1 && got[0] == arns[fn]) || (!withDeps[fn] && len(got) != 0) {
					t.Errorf("%s layers %v", f.Str("name"), got)
				}
			}
		})
	}
}

// Under the real engine (it passes its address in PULUMI_MONITOR) a missing build stops the
// program with the command to run, never an empty layer.
func TestDeployWithoutTheBuildNamesTheCommand(t *testing.T) {
	t.Setenv(pulumi.EnvMonitor, "127.0.0.1:1")
	if _, err := os.Stat(filepath.Join(offline.Root(t), serverless.LayersDir, "reports.zip")); err == nil {
		t.Skip("a local `make lambdas` build exists; this test needs a checkout without one")
	}
	_, err := offline.WithValues(t, "dev", nil)
	if err == nil || !strings.Contains(err.Error(), "run `make lambdas` before `pulumi up`") {
		t.Fatalf("error %v, want one naming make lambdas", err)
	}
}

// The role that signs report links is assumed by the reports function alone, for one hour at
// most, and reads generated reports and nothing else.
func TestReportLinksRole(t *testing.T) {
	res := offline.Stack(t, "prod")
	role := named(t, res, roleType, "canalco-prod-report-links")
	fn := named(t, res, roleType, "canalco-prod-reports")
	trust := document(t, role.Str("assumeRolePolicy"))
	if len(trust) != 1 || trust[0].Principal["AWS"] != fn.Outputs["arn"] || trust[0].Condition["StringLike"]["sts:RoleSessionName"] != "report-link-*" {
		t.Errorf("trust %+v", trust)
	}
	if role.Num("maxSessionDuration") != 3600 {
		t.Errorf("max session %v", role.Num("maxSessionDuration"))
	}
	doc := document(t, named(t, res, rolePolicyType, "canalco-prod-report-links").Str("policy"))
	read := sid(t, doc, "ReadReports")
	if len(doc) != 2 || len(read.Action) != 1 || read.Action[0] != "s3:GetObject" || len(read.Resource) != 1 ||
		read.Resource[0] != "arn:aws:s3:::canalco-prod-reportes-"+offline.AccountOf("prod")+"-us-east-1/reports/*" {
		t.Errorf("download policy %+v", doc)
	}
	var env map[string]any
	for _, f := range layer(res, functionType) {
		if f.Str("name") == "canalco-prod-reports" {
			env, _ = f.Get("environment.variables").(map[string]any)
		}
	}
	if env["DOWNLOAD_ROLE_ARN"] != role.Outputs["arn"] || env["LINK_TTL_SECONDS"] != "3600" {
		t.Errorf("reports environment %v", env)
	}
}
