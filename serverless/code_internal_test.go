package serverless

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// project lays out a project with one function folder and runs the test from its serverless/
// folder, as the offline harness does.
func project(t *testing.T, files map[string]string) {
	t.Helper()
	root := t.TempDir()
	files["Pulumi.yaml"] = "name: canalco\n"
	for name, text := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "serverless"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(root, "serverless"))
}

// The package is the folder's source, found from wherever the program runs; its hash follows
// the source and nothing else.
func TestPackageFollowsTheSourceOnly(t *testing.T) {
	project(t, map[string]string{
		"serverless/functions/demo/handler.py":                          "def handler(event, context):\n    return 1\n",
		"serverless/functions/demo/lib/util.py":                         "X = 1\n",
		"serverless/functions/demo/__pycache__/handler.cpython-313.pyc": "compiled",
		"serverless/functions/demo/stale.pyc":                           "compiled",
	})
	first, err := packageFunction("demo")
	if err != nil {
		t.Fatal(err)
	}
	if first.Dir != filepath.Join("functions", "demo") {
		t.Errorf("dir %q, want functions/demo relative to the working directory", first.Dir)
	}
	if !slices.Equal(first.Files, []string{"handler.py", "lib/util.py"}) {
		t.Errorf("files %v, want the sources only", first.Files)
	}

	if err := os.WriteFile(filepath.Join("functions", "demo", "__pycache__", "util.cpython-313.pyc"), []byte("more"), 0o644); err != nil {
		t.Fatal(err)
	}
	again, err := packageFunction("demo")
	if err != nil {
		t.Fatal(err)
	}
	if again.Hash != first.Hash {
		t.Error("a bytecode cache changed the package")
	}

	if err := os.WriteFile(filepath.Join("functions", "demo", "handler.py"), []byte("def handler(event, context):\n    return 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	changed, err := packageFunction("demo")
	if err != nil {
		t.Fatal(err)
	}
	if changed.Hash == first.Hash {
		t.Error("a code change left the hash (and the deployment) unchanged")
	}
}

func TestPackageNeedsAHandler(t *testing.T) {
	project(t, map[string]string{"serverless/functions/demo/main.py": "pass\n"})
	if _, err := packageFunction("demo"); err == nil || !strings.Contains(err.Error(), "handler.py") {
		t.Errorf("error %v, want one about handler.py", err)
	}
	if _, err := packageFunction("missing"); err == nil {
		t.Error("a missing folder packaged")
	}
}

// The real functions package from the repository, whichever folder the program runs in.
func TestRealFunctionsPackage(t *testing.T) {
	for _, spec := range functionSpecs {
		p, err := packageFunction(spec.Name)
		if err != nil {
			t.Fatal(err)
		}
		if p.Dir != filepath.Join("functions", spec.Name) || !slices.Contains(p.Files, "handler.py") {
			t.Errorf("%s: %+v", spec.Name, p)
		}
	}
}

// Under the engine the layer must be built from the function's current requirements and left
// as built; offline the requirements alone identify it; no requirements, no layer.
func TestLayerNeedsAFreshBuildToDeploy(t *testing.T) {
	const req = "xlsxwriter==3.3.1\n"
	zip := "PK\x05\x06" + strings.Repeat("\x00", 18) // an empty zip
	manifest := func(reqText, zipText string) string {
		r, z := sha256.Sum256([]byte(reqText)), sha256.Sum256([]byte(zipText))
		return `{"requirements_sha256": "` + hex.EncodeToString(r[:]) + `", "zip_sha256": "` + hex.EncodeToString(z[:]) + `"}`
	}
	cases := []struct {
		name    string
		files   map[string]string
		deploy  bool
		wantErr string
		built   bool
	}{
		{"offline without the build", map[string]string{}, false, "", false},
		{"deploy without the build", map[string]string{}, true, "is not built: run `make lambdas` before `pulumi up`", false},
		{"deploy with the build", map[string]string{"build/layers/demo.zip": zip, "build/layers/demo.json": manifest(req, zip)}, true, "", true},
		{"deploy with a stale build", map[string]string{"build/layers/demo.zip": zip, "build/layers/demo.json": manifest("xlsxwriter==3.0.0\n", zip)}, true, "built from other requirements", false},
		{"deploy with a changed zip", map[string]string{"build/layers/demo.zip": zip + "x", "build/layers/demo.json": manifest(req, zip)}, true, "changed after it was built", false},
		{"deploy without a manifest", map[string]string{"build/layers/demo.zip": zip}, true, "no readable build manifest", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.files["serverless/functions/demo/handler.py"] = ""
			c.files["serverless/functions/demo/requirements.txt"] = req
			project(t, c.files)
			l, err := packageLayer("demo", c.deploy)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := sha256.Sum256([]byte(req))
			if c.built {
				want = sha256.Sum256([]byte(zip))
			}
			if l.Built != c.built || l.Hash != base64.StdEncoding.EncodeToString(want[:]) || l.Zip != filepath.Join("..", "build", "layers", "demo.zip") {
				t.Errorf("layer %+v", l)
			}
		})
	}
	project(t, map[string]string{"serverless/functions/plain/handler.py": ""})
	if l, err := packageLayer("plain", true); l != nil || err != nil {
		t.Errorf("a function without requirements got %+v, %v", l, err)
	}
}
