package serverless

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/canalco/infra/env"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/archive"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/asset"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// FunctionsDir is where the functions' source folders live, from the project root.
const FunctionsDir = "serverless/functions"

// SharedDir holds the modules every function packages beside its handler (logging, metrics).
const SharedDir = "shared"

// codePackage is a function's deployment package.
type codePackage struct {
	// Dir is the source folder, relative to the program's working directory.
	Dir string
	// Files are the names in the zip: the function folder's files and the shared modules.
	Files   []string
	Archive pulumi.Archive
	// Hash is the base64 SHA-256 of the zip, as Lambda reports it in CodeSha256.
	Hash string
}

// packageFunction packages a function's folder. Only the source goes in: bytecode caches that
// a local test run leaves behind would change the package from one machine to another.
func packageFunction(folder string) (*codePackage, error) {
	root, err := env.ProjectRoot()
	if err != nil {
		return nil, err
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Rel(wd, filepath.Join(root, FunctionsDir, folder))
	if err != nil {
		return nil, err
	}
	p := &codePackage{Dir: dir}
	sources := map[string]string{} // name in the zip -> path on disk
	// The function's own folder, then the modules every function shares, at the zip's root.
	for _, src := range []string{dir, filepath.Join(filepath.Dir(dir), SharedDir)} {
		err = filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
			switch {
			case os.IsNotExist(err) && path == src && src != dir:
				return filepath.SkipDir // no shared modules
			case err != nil:
				return err
			case d.IsDir() && d.Name() == "__pycache__":
				return filepath.SkipDir
			case d.Type().IsRegular() && !strings.HasSuffix(d.Name(), ".pyc"):
				rel, err := filepath.Rel(src, path)
				sources[filepath.ToSlash(rel)] = path
				return err
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("package %s: %w", folder, err)
		}
	}
	p.Files = slices.Sorted(maps.Keys(sources))
	if !slices.Contains(p.Files, "handler.py") {
		return nil, fmt.Errorf("package %s: %s has no handler.py", folder, dir)
	}

	// The same files feed the archive Pulumi uploads and the zip hashed here, which Pulumi
	// builds the same way (sorted names, fixed timestamps).
	assets, members := map[string]any{}, map[string]any{}
	for file, path := range sources {
		assets[file] = pulumi.NewFileAsset(path)
		if members[file], err = asset.FromPath(path); err != nil {
			return nil, err
		}
	}
	p.Archive = pulumi.NewAssetArchive(assets)
	zipped, err := archive.FromAssets(members)
	if err != nil {
		return nil, err
	}
	data, err := zipped.Bytes(archive.ZIPArchive)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	p.Hash = base64.StdEncoding.EncodeToString(sum[:])
	return p, nil
}

// LayersDir is where `make lambdas` (scripts/build_layers.py) writes each function's
// dependency layer, <function>.zip, and its manifest, <function>.json, from the project root.
const LayersDir = "build/layers"

// RequirementsFile pins a function's third-party packages; a function with one gets a layer.
const RequirementsFile = "requirements.txt"

// buildCommand is what an operator runs when a layer is missing or stale.
const buildCommand = "make lambdas"

// layerPackage is a function's dependency layer.
type layerPackage struct {
	// Zip is the built layer, relative to the program's working directory.
	Zip string
	// Hash identifies the layer: the base64 SHA-256 of the zip when it is built, else of the
	// requirements (offline, where nothing is uploaded).
	Hash string
	// Built is false only under the offline harness, which plans without the build.
	Built bool
}

// layerManifest is what the build records beside each zip.
type layerManifest struct {
	Requirements string `json:"requirements_sha256"`
	Zip          string `json:"zip_sha256"`
}

// engineAttached tells a real `pulumi up` or `pulumi preview` (the engine passes its address)
// from the offline harness and the tests, which run the program under mocks without it.
func engineAttached() bool { return os.Getenv(pulumi.EnvMonitor) != "" }

// packageLayer finds the function's built layer; nil when the function has no requirements.
// Under the engine the build must exist and match the requirements (the engine uploads the
// zip, and an empty or stale layer would only fail when the function imports it); offline the
// requirements alone identify the layer.
func packageLayer(folder string, requireBuild bool) (*layerPackage, error) {
	root, err := env.ProjectRoot()
	if err != nil {
		return nil, err
	}
	requirements, err := os.ReadFile(filepath.Join(root, FunctionsDir, folder, RequirementsFile))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", folder, err)
	}
	reqSum := sha256.Sum256(requirements)
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	zipPath, err := filepath.Rel(wd, filepath.Join(root, LayersDir, folder+".zip"))
	if err != nil {
		return nil, err
	}
	l := &layerPackage{Zip: zipPath, Hash: base64.StdEncoding.EncodeToString(reqSum[:])}
	if !requireBuild {
		return l, nil
	}
	fix := fmt.Sprintf("run `%s` before `pulumi up`", buildCommand)
	data, err := os.ReadFile(zipPath)
	if os.IsNotExist(err) {
		return nil, fmt.Errorf("layer %s: %s is not built: %s", folder, zipPath, fix)
	}
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", folder, err)
	}
	var m layerManifest
	raw, err := os.ReadFile(strings.TrimSuffix(zipPath, ".zip") + ".json")
	if err == nil {
		err = json.Unmarshal(raw, &m)
	}
	zipSum := sha256.Sum256(data)
	switch {
	case err != nil:
		return nil, fmt.Errorf("layer %s: no readable build manifest (%v): %s", folder, err, fix)
	case m.Requirements != hex.EncodeToString(reqSum[:]):
		return nil, fmt.Errorf("layer %s: %s was built from other requirements than %s: %s", folder, zipPath, RequirementsFile, fix)
	case m.Zip != hex.EncodeToString(zipSum[:]):
		return nil, fmt.Errorf("layer %s: %s changed after it was built: %s", folder, zipPath, fix)
	}
	l.Hash, l.Built = base64.StdEncoding.EncodeToString(zipSum[:]), true
	return l, nil
}
