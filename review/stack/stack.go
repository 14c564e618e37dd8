// Package stack loads a stack for the review tools: its recorded plan and its parsed settings.
package stack

import (
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/settings"
)

// Settings parses the settings of a recorded plan exactly as the program did.
func Settings(res *offline.Result) (*settings.Settings, error) {
	secret := map[string]bool{}
	for _, k := range res.Config.Secrets {
		secret[k] = true
	}
	return settings.Parse(settings.Input{
		Project: res.Config.Project, Stack: res.Config.Stack, Values: res.Config.Values,
		IsSecret: func(k string) bool { return secret[k] },
	})
}

// Load plans the stack whose files are in dir and parses its settings.
func Load(dir, name string) (*offline.Result, *settings.Settings, error) {
	res, err := offline.Run(dir, name)
	if err != nil {
		return nil, nil, err
	}
	s, err := Settings(res)
	return res, s, err
}

// ForTest returns a real stack's plan (shared by the tests of a package) and its settings.
func ForTest(t testing.TB, name string) (*offline.Result, *settings.Settings) {
	t.Helper()
	res := offline.Stack(t, name)
	s, err := Settings(res)
	if err != nil {
		t.Fatal(err)
	}
	return res, s
}
