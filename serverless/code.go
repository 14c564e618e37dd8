package serverless

import (
	"crypto/sha256"
	"encoding/base64"
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
