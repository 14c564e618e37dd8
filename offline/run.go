// Package offline runs the program the way `pulumi up` would, without AWS or the Pulumi CLI:
// it loads the real project and stack files, runs platform.Deploy against mocks, and records
// every resource with its inputs, parent, dependencies and options. Tests and the plan tool
// are built on it.
package offline

import (
	"encoding/json"
	"os"
	"sort"
	"sync"

	"github.com/canalco/infra/platform"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// runMu serializes runs: the engine hands config to a program through process environment.
var runMu sync.Mutex

// Run plans the stack whose files are in dir. A config the CLI refuses stops it before the
// program starts, as `pulumi up` does: the result then holds no resources.
func Run(dir, stack string) (*Result, error) {
	cfg, err := LoadConfig(dir, stack)
	if err != nil {
		return &Result{byURN: map[string]*Resource{}}, err
	}
	return RunConfig(cfg)
}

// RunConfig plans a stack from an explicit configuration. The result holds whatever was
// registered before an error, so tests can prove that bad settings register nothing.
func RunConfig(cfg *Config) (*Result, error) {
	runMu.Lock()
	defer runMu.Unlock()
	restore := setEnv(cfg)
	defer restore()

	m := &mocks{region: cfg.Values["aws:region"], account: cfg.Credentials}
	if m.account == "" {
		m.account = cfg.Account()
	}
	err := pulumi.RunErr(platform.Deploy, pulumi.WithMocks(cfg.Project, cfg.Stack, m))

	res := &Result{Config: cfg, Resources: m.seen, Calls: m.calls, byURN: map[string]*Resource{}}
	sort.SliceStable(res.Resources, func(i, j int) bool { return res.Resources[i].Name < res.Resources[j].Name })
	for _, r := range res.Resources {
		r.URN = urn(res, r)
		res.byURN[r.URN] = r
	}
	return res, err
}

// urn rebuilds the resource's URN exactly as the engine (and its mock) does.
func urn(res *Result, r *Resource) string {
	parentType := tokens.Type("")
	if p := resource.URN(r.Parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(res.Config.Stack), tokens.PackageName(res.Config.Project), parentType, tokens.Type(r.Type), r.Name))
}

func setEnv(cfg *Config) func() {
	values, _ := json.Marshal(cfg.Values)
	secrets, _ := json.Marshal(cfg.Secrets)
	old := map[string]*string{}
	for k, v := range map[string]string{pulumi.EnvConfig: string(values), pulumi.EnvConfigSecretKeys: string(secrets)} {
		if prev, ok := os.LookupEnv(k); ok {
			old[k] = &prev
		} else {
			old[k] = nil
		}
		os.Setenv(k, v)
	}
	return func() {
		for k, v := range old {
			if v == nil {
				os.Unsetenv(k)
			} else {
				os.Setenv(k, *v)
			}
		}
	}
}
