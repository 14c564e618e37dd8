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
// parameter's history, the repository's tags, the database's status, the group's size) and logs
// every call, one per line, to $FAKE/calls. A refresh fails while the parameter names
// $FAIL_RELEASE; migrations fail when $FAIL_MIGRATION is set. The database moves as RDS
// documents ("Stopping an Amazon RDS DB instance temporarily", RDS user guide): stopping, then
// stopped; start-db-instance only from stopped, to starting; the waiter returns once available.
// The group has no InService instance while its desired capacity is 0, and RDS refuses an update
// of a stopped database (InvalidDBInstanceState).
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
"rds describe-db-instances") s=$(cat "$FAKE/db"); [[ "$s" == stopping ]] && echo stopped >"$FAKE/db"; echo "$s" ;;
"rds start-db-instance") [[ "$(cat "$FAKE/db")" == stopped ]] || { echo "InvalidDBInstanceState" >&2; exit 254; }; echo starting >"$FAKE/db" ;;
"rds wait") [[ "$(cat "$FAKE/db")" != stopped ]] || exit 255; echo available >"$FAKE/db" ;;
"autoscaling describe-auto-scaling-groups")
	if [[ "$*" == *DesiredCapacity* ]]; then cat "$FAKE/desired"
	elif [[ "$(cat "$FAKE/desired")" != 0 ]]; then echo i-0abc; fi ;;
"autoscaling describe-scheduled-actions") printf '1\t2\t1\n' ;;
"autoscaling update-auto-scaling-group") arg --desired-capacity "$@" >"$FAKE/desired" ;;
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
printf 'pulumi %s\n' "$*" >>"$FAKE/calls"
case "$*" in
"up "*) [[ "$(cat "$FAKE/db")" == available ]] || { echo "modifying the stopped database: InvalidDBInstanceState" >&2; exit 1; } ;;
"stack output dbEndpoint "*) echo canalco-prod-postgres.c9akciq32.us-east-1.rds.amazonaws.com ;;
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
	// Awake unless the test says otherwise (DB=stopped, DESIRED=0 in env).
	state := map[string]string{"db": "available", "desired": "2"}
	for _, e := range env {
		if k, v, ok := strings.Cut(e, "="); ok && (k == "DB" || k == "DESIRED") {
			state[strings.ToLower(k)] = v
		}
	}
	for name, v := range state {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o644))
	}
	script, err := filepath.Abs("../scripts/deploy-backend.sh")
	require.NoError(t, err)
	cmd := exec.Command(script, args...)
	cmd.Env = append([]string{"PATH=" + bin + ":" + os.Getenv("PATH"), "FAKE=" + dir, "POLL_SECONDS=0", "INSTANCE_TIMEOUT=5", "HOME=" + dir}, env...)
	out, err := cmd.CombinedOutput()
	calls, readErr := os.ReadFile(filepath.Join(dir, "calls"))
	if !os.IsNotExist(readErr) { // a script that stops before its first call leaves none
		require.NoError(t, readErr, "%s", out)
	}
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
	assert.Equal(t, -1, r.index("pulumi up"), "a release never runs pulumi up")
	assert.Equal(t, -1, r.index("rds start-db-instance"), "an awake stack is left as it is")
	assert.Equal(t, -1, r.index("autoscaling update-auto-scaling-group"))

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

// A release at 02:00 in Bogotá finds dev asleep: the database stopped, the group at zero. It
// starts the database, waits for it, brings the group to its office-hours size, then migrates
// on the instance that boots; the sleep schedule puts dev back to sleep later.
func TestAReleaseWakesASleepingStack(t *testing.T) {
	if _, err := exec.LookPath("jq"); err != nil {
		t.Skip("jq is not installed")
	}
	for _, db := range []string{"stopped", "stopping"} {
		r := runRelease(t, []string{"none", "2c3d4e5"}, []string{"release-2c3d4e5", "build-3f2a9c1"}, []string{"DB=" + db, "DESIRED=0"},
			"deploy", "dev", "3f2a9c1")
		require.NoError(t, r.err, r.out)
		start, wait, scale, migrate := r.index("rds start-db-instance"), r.index("rds wait db-instance-available"), r.index("autoscaling update-auto-scaling-group"), r.index("ssm send-command")
		require.GreaterOrEqual(t, start, 0, r.out)
		assert.Less(t, start, wait)
		assert.Less(t, wait, scale, "the instances boot against an available database")
		assert.Less(t, scale, migrate, "the migrations run on an instance of the woken group")
		assert.Contains(t, r.calls[scale], "--min-size 1 --max-size 2 --desired-capacity 1")
		assert.Equal(t, "available", r.file(t, "db")[0])
		assert.Equal(t, "3f2a9c1", r.file(t, "history")[2])
		checkCallsAgainstModels(t, r.calls)
	}
	// A rollback wakes it too, and runs no migrations.
	r := runRelease(t, []string{"none", "2c3d4e5", "3f2a9c1"}, []string{"release-2c3d4e5", "release-3f2a9c1"}, []string{"DB=stopped", "DESIRED=0"},
		"rollback", "dev", "2c3d4e5")
	require.NoError(t, r.err, r.out)
	assert.GreaterOrEqual(t, r.index("rds start-db-instance"), 0)
	assert.Equal(t, -1, r.index("ssm send-command"), "a rollback never runs the old image's migrations")
	assert.Equal(t, "2c3d4e5", r.file(t, "history")[3])
}

// `pulumi up` of a change to dev's database at night: RDS refuses to modify a stopped instance,
// so the update starts it first; without the wake the same update fails.
func TestAnUpdateWakesASleepingDatabaseFirst(t *testing.T) {
	r := runRelease(t, []string{"none"}, nil, []string{"DB=stopped", "DESIRED=0"}, "up", "dev")
	require.NoError(t, r.err, r.out)
	start, up := r.index("rds start-db-instance"), r.index("pulumi up")
	require.GreaterOrEqual(t, start, 0, r.out)
	assert.Less(t, r.index("rds wait db-instance-available"), up)
	assert.Less(t, start, up)
	checkCallsAgainstModels(t, r.calls)

	// The fake is strict: the same update on the stopped database, without the wake, fails.
	cmd := exec.Command(filepath.Join(r.dir, "bin", "pulumi"), "up", "--yes", "--stack", "dev")
	require.NoError(t, os.WriteFile(filepath.Join(r.dir, "db"), []byte("stopped\n"), 0o644))
	cmd.Env = append(os.Environ(), "FAKE="+r.dir)
	assert.Error(t, cmd.Run())
}

// The push needs skopeo (it copies both platforms of the OCI archive); without it the script
// says so before touching anything.
func TestPushNeedsSkopeo(t *testing.T) {
	if _, err := exec.LookPath("skopeo"); err == nil {
		t.Skip("skopeo is installed here: the check cannot be seen")
	}
	archive := filepath.Join(t.TempDir(), "backend-image.tar")
	require.NoError(t, os.WriteFile(archive, []byte("oci"), 0o644))
	r := runRelease(t, []string{"none"}, nil, nil, "push", "dev", "3f2a9c1", archive)
	require.Error(t, r.err)
	assert.Contains(t, r.out, "skopeo is not installed")
}

// checkCallsAgainstModels maps each AWS CLI call to its API operation and checks every option
// against the operation's input members in botocore's service model (the CLI's own commands,
// such as `ssm wait`, have no operation and are skipped).
func checkCallsAgainstModels(t *testing.T, calls []string) {
	t.Helper()
	cliOnly := map[string]bool{"--query": true, "--output": true, "--region": true}
	for _, call := range calls {
		words := strings.Fields(call)
		if len(words) < 2 || words[0] == "pulumi" || words[1] == "wait" {
			continue
		}
		model := offline.LoadAPIModel(t, words[0])
		var op string
		for _, part := range strings.Split(words[1], "-") {
			op += strings.ToUpper(part[:1]) + part[1:]
		}
		// The CLI's words lose the API's capitals (db-instances for DBInstances).
		for name := range model.Operations {
			if strings.EqualFold(name, op) {
				op = name
			}
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
