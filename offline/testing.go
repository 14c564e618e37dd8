package offline

import (
	"maps"
	"sync"
	"testing"

	"github.com/canalco/infra/env"
)

// Stacks are the project's stacks, each with its Pulumi.<stack>.yaml.
var Stacks = []string{"dev", "staging", "prod"}

var (
	cacheMu sync.Mutex
	cache   = map[string]*Result{}
)

// Stack plans a real stack of this repository for a test, once per test binary: the run is
// deterministic, so every test of a package can share it. It fails the test on any error.
func Stack(t testing.TB, stack string) *Result {
	t.Helper()
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if r, ok := cache[stack]; ok {
		return r
	}
	r, err := Run(Root(t), stack)
	if err != nil {
		t.Fatalf("plan %s: %v", stack, err)
	}
	cache[stack] = r
	return r
}

// AccountOf is the account a real stack's file names (aws:allowedAccountIds): the one the
// offline run answers with, and so the one in its ARNs.
func AccountOf(stack string) string {
	root, err := env.ProjectRoot()
	if err != nil {
		panic(err)
	}
	cfg, err := LoadConfig(root, stack)
	if err != nil {
		panic(err)
	}
	return cfg.Account()
}

// Root finds the repository root (the folder with Pulumi.yaml) from the test's folder.
func Root(t testing.TB) string {
	t.Helper()
	root, err := env.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// StackConfig loads a real stack's configuration with some values changed. It is a copy: the
// stack files stay as they are and other tests see the original.
func StackConfig(t testing.TB, stack string, values map[string]string) *Config {
	t.Helper()
	cfg, err := LoadConfig(Root(t), stack)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Values = maps.Clone(cfg.Values)
	maps.Copy(cfg.Values, values)
	return cfg
}

// WithValues plans a real stack with some values changed; the error is the program's own.
func WithValues(t testing.TB, stack string, values map[string]string) (*Result, error) {
	t.Helper()
	return RunConfig(StackConfig(t, stack, values))
}
