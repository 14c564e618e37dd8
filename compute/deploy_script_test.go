package compute_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeAWS answers the AWS CLI calls of scripts/deploy-backend.sh from files in $FAKE (the release
// parameter's history, the repository's tags) and logs every call, one per line, to $FAKE/calls.
// A refresh fails while the parameter names $FAIL_RELEASE; migrations fail when $FAIL_MIGRATION
// is set.
const fakeAWS = `#!/bin/bash
set -euo pipefail
printf '%s\n' "$*" >>"$FAKE/calls"
arg() { local want=$1; shift; while (($#)); do [[ "$1" == "$want" ]] && { printf '%s\n' "$2"; return; }; shift; done; }
current() { tail -n 1 "$FAKE/history"; }
case "$1 $2" in
"ssm get-parameter") current ;;
"ssm put-parameter") arg --value "$@" >>"$FAKE/history" ;;
"ssm get-parameter-history") paste -sd '\t' "$FAKE/history" ;;
"ecr describe-images") grep -qx "$(arg --image-ids "$@" | cut -d= -f2)" "$FAKE/tags" ;;
"ecr batch-get-image") echo '{"images":[{"imageManifest":"{\"schemaVersion\":2}","imageManifestMediaType":"application/vnd.oci.image.index.v1+json"}]}' ;;
"ecr put-image") arg --image-tag "$@" >>"$FAKE/tags" ;;
"ecr batch-delete-image") t=$(arg --image-ids "$@" | cut -d= -f2); grep -vx "$t" "$FAKE/tags" >"$FAKE/tags.new" || true; mv "$FAKE/tags.new" "$FAKE/tags" ;;
"ecr list-images") grep '^release-' "$FAKE/tags" | paste -sd '\t' ;;
"autoscaling describe-auto-scaling-groups") echo i-0abc ;;
"ssm describe-instance-information") echo Online ;;
"ssm send-command") echo cmd-1 ;;
"ssm wait") ;;
"ssm get-command-invocation")
	if [[ "$*" == *"--query Status"* ]]; then [[ -n "${FAIL_MIGRATION:-}" ]] && echo Failed || echo Success; else echo output; fi ;;
"autoscaling start-instance-refresh") echo "r-$(wc -l <"$FAKE/history")" ;;
"autoscaling describe-instance-refreshes")
	if [[ "$*" == *"InstanceRefreshId"* ]]; then echo None
	elif [[ "$*" == *"Status, PercentageComplete"* ]]; then
		[[ "$(current)" == "${FAIL_RELEASE:-}" ]] && printf 'Failed\t50\n' || printf 'Successful\t100\n'
	else echo reason; fi ;;
*) echo "fake aws: unexpected $*" >&2; exit 9 ;;
esac
`

const fakePulumi = `#!/bin/bash
case "$*" in
"stack output asgName "*) echo canalco-prod-backend ;;
"stack output ecrRepositoryUrl "*) echo 123456789012.dkr.ecr.us-east-1.amazonaws.com/canalco-prod-backend ;;
"stack output releaseParameter "*) echo /canalco/prod/backend/release ;;
*) echo "fake pulumi: unexpected $*" >&2; exit 9 ;;
esac
`

type release struct {
	dir   string
	calls []string
	err   error
	out   string
}

// runRelease runs scripts/deploy-backend.sh with fake aws and pulumi commands over a parameter
// history and a repository's tags.
func runRelease(t *testing.T, history, tags []string, env []string, args ...string) *release {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	require.NoError(t, os.Mkdir(bin, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bin, "aws"), []byte(fakeAWS), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bin, "pulumi"), []byte(fakePulumi), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "history"), []byte(strings.Join(history, "\n")+"\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tags"), []byte(strings.Join(tags, "\n")+"\n"), 0o644))
	script, err := filepath.Abs("../scripts/deploy-backend.sh")
	require.NoError(t, err)
	cmd := exec.Command(script, args...)
	cmd.Env = append([]string{"PATH=" + bin + ":" + os.Getenv("PATH"), "FAKE=" + dir, "POLL_SECONDS=0", "HOME=" + dir}, env...)
	out, err := cmd.CombinedOutput()
	calls, readErr := os.ReadFile(filepath.Join(dir, "calls"))
	require.NoError(t, readErr, "%s", out)
	return &release{dir: dir, calls: strings.Split(strings.TrimSpace(string(calls)), "\n"), err: err, out: string(out)}
}

func (r *release) file(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, name))
	require.NoError(t, err)
	return strings.Fields(string(b))
}

// index is the position of the first call starting with prefix, or -1.
func (r *release) index(prefix string) int {
	for i, c := range r.calls {
		if strings.HasPrefix(c, prefix) {
			return i
		}
	}
	return -1
}

func TestReleaseMigratesFirstThenSwitchesTheParameter(t *testing.T) {
	if _, err := exec.LookPath("jq"); err != nil {
		t.Skip("jq is not installed")
	}
	r := runRelease(t, []string{"none", "0a1b2c3", "1b2c3d4", "2c3d4e5"},
		[]string{"release-0a1b2c3", "release-1b2c3d4", "release-2c3d4e5", "build-3f2a9c1"}, nil,
		"deploy", "prod", "3f2a9c1")
	require.NoError(t, r.err, r.out)

	migrate, put := r.index("ssm send-command"), r.index("ssm put-parameter")
	require.GreaterOrEqual(t, migrate, 0, r.out)
	assert.Less(t, migrate, put, "the migrations run before any instance runs the new code")
	assert.Contains(t, r.calls[migrate], `sudo /usr/local/bin/canalco-run-migrations 3f2a9c1`)
	assert.Less(t, r.index("ecr put-image"), migrate, "the image is protected before it is used")
	assert.Less(t, put, r.index("autoscaling start-instance-refresh"))
	assert.Contains(t, r.calls[r.index("autoscaling start-instance-refresh")], `"SkipMatching": false`, "the template did not change: every instance is replaced")
	assert.Equal(t, -1, r.index("pulumi"), "a release never runs pulumi up")

	assert.Equal(t, "3f2a9c1", r.file(t, "history")[4])
	tags := r.file(t, "tags")
	assert.Contains(t, tags, "release-3f2a9c1")
	assert.NotContains(t, tags, "build-3f2a9c1", "a lifecycle rule selecting build- would count the release")
	// The last three releases keep release-; the oldest goes back to build- and ages out.
	assert.Subset(t, tags, []string{"release-2c3d4e5", "release-1b2c3d4", "build-0a1b2c3"})
	assert.NotContains(t, tags, "release-0a1b2c3")
	checkCallsAgainstModels(t, r.calls)
}

func TestFailedReleaseGoesBack(t *testing.T) {
	if _, err := exec.LookPath("jq"); err != nil {
		t.Skip("jq is not installed")
	}
	base := []string{"none", "2c3d4e5"}
	tags := []string{"release-2c3d4e5", "build-3f2a9c1"}

	r := runRelease(t, base, tags, []string{"FAIL_MIGRATION=1"}, "deploy", "prod", "3f2a9c1")
	require.Error(t, r.err)
	assert.Equal(t, -1, r.index("ssm put-parameter"), "failed migrations leave the release alone:\n%s", r.out)
	assert.Equal(t, -1, r.index("autoscaling start-instance-refresh"))

	r = runRelease(t, base, tags, []string{"FAIL_RELEASE=3f2a9c1"}, "deploy", "prod", "3f2a9c1")
	require.Error(t, r.err)
	assert.Equal(t, []string{"none", "2c3d4e5", "3f2a9c1", "2c3d4e5"}, r.file(t, "history"), r.out)
	assert.Contains(t, r.out, "rolled back to 2c3d4e5")
	checkCallsAgainstModels(t, r.calls)
}

// checkCallsAgainstModels maps each AWS CLI call to its API operation and checks every option
// against the operation's input members in botocore's service model (the CLI's own commands,
// such as `ssm wait`, have no operation and are skipped).
func checkCallsAgainstModels(t *testing.T, calls []string) {
	t.Helper()
	cliOnly := map[string]bool{"--query": true, "--output": true, "--region": true}
	for _, call := range calls {
		words := strings.Fields(call)
		if len(words) < 2 || words[1] == "wait" {
			continue
		}
		model := offline.LoadAPIModel(t, words[0])
		var op string
		for _, part := range strings.Split(words[1], "-") {
			op += strings.ToUpper(part[:1]) + part[1:]
		}
		o, ok := model.Operations[op]
		require.True(t, ok, "%s: no operation %s", call, op)
		members := map[string]bool{}
		for m := range model.Shapes[o.Input.Shape].Members {
			members[strings.ToLower(m)] = true
		}
		for _, w := range words[2:] {
			if !strings.HasPrefix(w, "--") || cliOnly[w] {
				continue
			}
			assert.True(t, members[strings.ReplaceAll(strings.TrimPrefix(w, "--"), "-", "")], "%s: %s has no member %s", call, op, w)
		}
	}
}
