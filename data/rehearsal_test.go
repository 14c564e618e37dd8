package data_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The yearly rehearsal's dry run, over staging's state as the program registers it (the offline
// plan's URNs, as `pulumi stack export` would give them): the runbook's steps in order, the
// import by identifier under the same parent and protected, and the end-to-end RTO line.
func TestTheRehearsalDryRunFollowsTheRunbook(t *testing.T) {
	if _, err := exec.LookPath("jq"); err != nil {
		t.Skip("jq is not installed")
	}
	res := offline.Stack(t, "staging")
	dbs := res.OfType("aws:rds/instance:Instance")
	require.Len(t, dbs, 1)
	db := dbs[0]
	var resources []map[string]any
	for _, r := range res.Resources {
		resources = append(resources, map[string]any{"urn": r.URN, "type": r.Type, "parent": r.Parent, "outputs": map[string]any{"identifier": r.Str("identifier")}})
	}
	export, err := json.Marshal(map[string]any{"deployment": map[string]any{"resources": resources}})
	require.NoError(t, err)

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "export.json"), export, 0o644))
	// Only `pulumi stack export` may run in a dry run; anything else, or aws, fails the test.
	fake := "#!/bin/bash\n[[ \"$1 $2\" == \"stack export\" ]] && exec cat \"$FAKE/export.json\"\necho \"unexpected: $0 $*\" >&2; exit 9\n"
	for _, tool := range []string{"pulumi", "aws"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, tool), []byte(fake), 0o755))
	}
	script, err := filepath.Abs("../scripts/dr-rehearsal.sh")
	require.NoError(t, err)
	run := func(args ...string) (string, error) {
		cmd := exec.Command(script, args...)
		cmd.Env = []string{"PATH=" + dir + ":" + os.Getenv("PATH"), "FAKE=" + dir, "HOME=" + dir}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	out, err := run("--dry-run", "staging")
	require.NoError(t, err, out)
	order := []string{
		"restore to the latest restorable time", "managed master secret", "rename the live instance to canalco-staging-postgres-old",
		"rename the restore to canalco-staging-postgres", "pulumi state unprotect " + db.URN, "pulumi state delete " + db.URN,
		"pulumi import aws:rds/instance:Instance canalco-staging-postgres canalco-staging-postgres --stack staging --parent database=" + db.Parent + " --protect",
		"preview: no replacement", "pulumi up --stack staging", "end-to-end RTO",
	}
	at := 0
	for _, want := range order {
		i := strings.Index(out[at:], want)
		if !assert.GreaterOrEqual(t, i, 0, "%q missing or out of order in:\n%s", want, out) {
			return
		}
		at += i
	}
	assert.Contains(t, out, "dry run: nothing was changed")

	out, err = run("--dry-run", "prod")
	assert.Error(t, err)
	assert.Contains(t, out, "never on prod")
}
