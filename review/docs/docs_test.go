// Package docs_test checks that what docs/ and the README name exists: settings, retired
// settings (named only as retired), Pulumi resource types and the layers' component types.
package docs_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/settings"
)

var (
	settingRef   = regexp.MustCompile(`canalco:([a-z][A-Za-z0-9]*)\b`)
	resourceType = regexp.MustCompile(`\baws:[a-z0-9]+/[a-zA-Z0-9]+:[A-Za-z0-9]+\b`)
	component    = regexp.MustCompile(`\bcanalco:[a-z]+:[A-Z][A-Za-z]+\b`)
	backticked   = regexp.MustCompile("`([A-Za-z][A-Za-z0-9]*)(:[^`]*)?`")
)

// pages are the README and every page of docs/ but the generated diagrams, line by line.
func pages(t *testing.T) map[string][]string {
	t.Helper()
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, f := range append(files, "../../README.md") {
		if strings.HasPrefix(filepath.Base(f), "architecture-") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = strings.Split(string(data), "\n")
	}
	return out
}

func TestDocsNameOnlyWhatExists(t *testing.T) {
	keys := map[string]bool{}
	for _, k := range settings.Keys() {
		keys[k.Name] = true
	}
	retired := settings.Retired()
	types := map[string]bool{}
	for _, stack := range offline.Stacks {
		for _, r := range offline.Stack(t, stack).Resources {
			types[r.Type] = true
		}
	}
	// Types a stack registers only with a setting its file leaves off.
	extra, err := offline.WithValues(t, "prod", map[string]string{"canalco:backupCopyRegion": "us-west-2", "canalco:backupReplicationRegion": "us-west-2", "canalco:dbBackupReplicationRegion": "us-west-2"})
	if err == nil {
		for _, r := range extra.Resources {
			types[r.Type] = true
		}
	}
	layers := map[string]bool{"canalco:compute": true, "canalco:data": true, "canalco:delivery": true, "canalco:monitoring": true,
		"canalco:network": true, "canalco:serverless": true, "canalco:storage": true}
	for page, lines := range pages(t) {
		for n, line := range lines {
			at := func() string { return page + " line " + strconv.Itoa(n+1) }
			for _, m := range component.FindAllString(line, -1) {
				if !types[m] {
					t.Errorf("%s names the component type %s, which no stack registers", at(), m)
				}
			}
			for _, m := range resourceType.FindAllString(line, -1) {
				if !types[m] {
					t.Errorf("%s names the resource type %s, which no stack registers", at(), m)
				}
			}
			for _, m := range settingRef.FindAllStringSubmatch(line, -1) {
				name := m[1]
				switch {
				case keys[name] || layers["canalco:"+name] || component.MatchString(line[strings.Index(line, m[0]):]):
				case slices.Contains(retired, name):
					if !retiredContext(line) {
						t.Errorf("%s names the retired setting %s as if it were one", at(), name)
					}
				default:
					t.Errorf("%s names canalco:%s, which is not a setting", at(), name)
				}
			}
			for _, m := range backticked.FindAllStringSubmatch(line, -1) {
				if slices.Contains(retired, m[1]) && !retiredContext(line) {
					t.Errorf("%s names the retired setting %s as if it were one", at(), m[1])
				}
			}
		}
	}
}

// retiredContext: the line says the setting is gone.
func retiredContext(line string) bool {
	l := strings.ToLower(line)
	return strings.Contains(l, "retired") || strings.Contains(l, "no longer") || strings.Contains(l, "refused")
}
