package main

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
)

// A database name change, as a pull request would make it, shows as a replacement of data with
// the forcing input and the provider's file; a retention change as an update of the plan only.
func TestPrintShowsReplacementsFirst(t *testing.T) {
	before := offline.Stack(t, "prod")
	after, err := offline.WithValues(t, "prod", map[string]string{"canalco:dbName": "canalco_app", "canalco:ebsSnapshotRetentionDays": "90"})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	Print(&out, offline.Diff(before, after))
	text := out.String()
	first := strings.SplitN(text, "\n", 2)[0]
	for _, want := range []string{"replace", "aws:rds/instance:Instance", "canalco-prod-postgres", "(dbName; terraform-provider-aws internal/service/rds/instance.go)", "HOLDS DATA"} {
		if !strings.Contains(first, want) {
			t.Errorf("first line %q lacks %q", first, want)
		}
	}
	if !strings.Contains(text, "update  aws:backup/plan:Plan") || strings.Contains(text, "VaultLockConfiguration") {
		t.Errorf("want the backup plan updated and the vault lock untouched:\n%s", text)
	}
}

// The ref's program runs in a worktree: against the checked-out commit itself nothing changes
// except what the working tree changed.
func TestPlanAtARef(t *testing.T) {
	if out, err := exec.Command("git", "rev-parse", "--verify", "HEAD").CombinedOutput(); err != nil {
		t.Skipf("no git history here: %s", out)
	}
	if testing.Short() {
		t.Skip("builds the ref's program")
	}
	rs, err := planAt("HEAD", "dev")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) < 100 {
		t.Fatalf("%d resources at HEAD, want the whole dev stack", len(rs))
	}
}
