package compute_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bootFunction is a shell function of the rendered boot script, as the instance runs it.
func bootFunction(t *testing.T, script, fn string) string {
	t.Helper()
	start := strings.Index(script, "\n"+fn+"() {\n")
	require.GreaterOrEqual(t, start, 0, "the boot script defines %s", fn)
	end := strings.Index(script[start:], "\n}\n")
	require.Greater(t, end, 0)
	return script[start+1 : start+end+3]
}

// waitForDatabase runs the boot script's database_host with the given bound, against a fake
// AWS CLI that answers the parameter only from its writes-th call on (0: never written) with
// host, and port as the database's port. It returns the output, the log and whether it
// succeeded.
func waitForDatabase(t *testing.T, minutes, writes int, host string, port int) (string, string, bool) {
	t.Helper()
	script := userData(t, find(t, offline.Stack(t, "prod"), templateType, name("prod", "backend")))
	dir := t.TempDir()
	// Like the CLI: the parameter's value on stdout, or ParameterNotFound and exit 254.
	aws := `#!/bin/bash
n=$(( $(cat "$0.calls" 2>/dev/null || echo 0) + 1 ))
echo "$n" >"$0.calls"
if [[ "` + strconv.Itoa(writes) + `" != 0 && $n -ge ` + strconv.Itoa(writes) + ` && "$*" == *"--name /canalco/prod/database/endpoint"* ]]; then
	echo '` + host + `'
	exit 0
fi
echo "An error occurred (ParameterNotFound) when calling the GetParameter operation" >&2
exit 254
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "aws"), []byte(aws), 0o755))
	harness := "set -euo pipefail\nREGION=us-east-1\nDATABASE_PORT=" + strconv.Itoa(port) +
		"\nDATABASE_WAIT_MINUTES=" + strconv.Itoa(minutes) + "\nDATABASE_POLL_SECONDS=0.2\n" +
		bootFunction(t, script, "log") + bootFunction(t, script, "database_host") +
		`database_host /canalco/prod/database/endpoint` + "\n"
	cmd := exec.Command("bash", "-c", harness)
	cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), stderr.String(), err == nil
}

// A first boot comes before the database exists: the boot waits for its parameter, then for
// its port, and goes on with the host once the database answers.
func TestBootWaitsForTheDatabase(t *testing.T) {
	db, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer db.Close()
	go func() {
		for {
			c, err := db.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := db.Addr().(*net.TCPAddr).Port

	host, log, ok := waitForDatabase(t, 1, 3, "127.0.0.1", port)
	assert.True(t, ok, log)
	assert.Equal(t, "127.0.0.1", host)
	assert.Equal(t, 2, strings.Count(log, "waiting for the database (/canalco/prod/database/endpoint: 'not written yet', port "+strconv.Itoa(port)+")"), log)
}

// Past the bound the boot fails with one clear line, whether the parameter was never written
// or the database never answers on its port; the group then replaces the instance.
func TestBootGivesUpOnTheDatabaseAfterTheBound(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := closed.Addr().(*net.TCPAddr).Port
	closed.Close()

	for name, writes := range map[string]int{"never written": 0, "never answers": 1} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			host, log, ok := waitForDatabase(t, 0, writes, "127.0.0.1", port)
			assert.False(t, ok)
			assert.Empty(t, host)
			assert.Less(t, time.Since(start), 30*time.Second)
			want := "canalco-boot: database not ready after 0 minutes (/canalco/prod/database/endpoint: '', port " + strconv.Itoa(port) + "): giving up"
			if writes > 0 {
				want = strings.Replace(want, "''", "'127.0.0.1'", 1)
			}
			assert.Contains(t, log, want)
		})
	}
}
