package compute_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// embedded is the script the boot script writes with a quoted here-document <<'MARK'.
func embedded(t *testing.T, script, mark string) string {
	t.Helper()
	start := strings.Index(script, "<<'"+mark+"'\n")
	end := strings.Index(script, "\n"+mark+"\n")
	require.True(t, start > 0 && end > start, "the %s script is embedded", mark)
	return script[start+len("<<'"+mark+"'\n") : end+1]
}

// The backend container runs off the host network and gets AWS credentials only from the files
// the host writes, before it starts; neither container the boot or a release starts uses the
// host's network, where the metadata service (and the instance role) answers.
func TestContainersAreOffTheHostNetwork(t *testing.T) {
	eachStack(t, func(t *testing.T, l *layer, _ profile) {
		script := userData(t, l.lt)
		assert.NotContains(t, script, "--network", "Docker's default bridge for every container")
		assert.NotContains(t, script, "--net=")
		run := script[strings.Index(script, "docker run --detach --name canalco-backend"):]
		run = run[:strings.Index(run, `"$IMAGE"`)]
		for _, want := range []string{
			`--publish "$PORT:$PORT"`,
			`--volume "$CREDENTIALS_DIR:$CREDENTIALS_DIR:ro"`,
			`--volume "$AWS_CONFIG:$AWS_CONFIG:ro"`,
			`--env AWS_CONFIG_FILE="$AWS_CONFIG" --env AWS_SDK_LOAD_CONFIG=1 --env AWS_EC2_METADATA_DISABLED=true`,
			`--group-add "$credentials_gid"`,
		} {
			assert.Contains(t, run, want)
		}
		for _, want := range []string{
			"readonly CREDENTIALS_DIR='/run/canalco/aws'",
			"readonly AWS_CONFIG='/etc/canalco/aws-config'",
			`printf '[default]\nregion = %s\ncredential_process = cat %s/credentials.json\n' "$REGION" "$CREDENTIALS_DIR" >"$AWS_CONFIG"`,
			"readonly APP_ROLE_ARN='" + out(l.app, "arn") + "'",
			// Every 15 minutes, and at boot before Docker restarts the container.
			"OnCalendar=*:0/15",
			"Before=docker.service",
			"ExecStart=/usr/local/bin/canalco-app-credentials $INSTANCE_ID",
			"systemctl enable canalco-app-credentials.service",
			"systemctl enable --now canalco-app-credentials.timer",
		} {
			assert.Contains(t, script, want)
		}
		// The first credentials are written before the container starts.
		first := strings.Index(script, `retry 5 /usr/local/bin/canalco-app-credentials "$INSTANCE_ID"`)
		require.Positive(t, first)
		assert.Less(t, first, strings.Index(script, "docker run --detach --name canalco-backend"))
	})
}

// The host's credentials script, run as the timer runs it against an AWS CLI that answers
// sts assume-role as STS does, writes the credential_process document, readable by the group
// only; botocore (the machine's, current) then loads it from the config the container gets as
// refreshable credentials, which it refreshes before their Expiration (boto3 Developer Guide,
// "Credentials", credential_process).
func TestCredentialsScriptFeedsBotocore(t *testing.T) {
	for _, tool := range []string{"jq", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	if err := exec.Command("python3", "-c", "import botocore").Run(); err != nil {
		t.Skip("python3 has no botocore")
	}
	l := load(t, "prod")
	group, err := exec.Command("id", "-gn").Output()
	require.NoError(t, err)
	dir, bin := t.TempDir(), t.TempDir()
	credentials := filepath.Join(dir, "aws")
	script := embedded(t, userData(t, l.lt), "CREDENTIALS")
	script = strings.NewReplacer(
		"readonly DIR='/run/canalco/aws'", "readonly DIR='"+credentials+"'",
		"readonly GROUP='canalco-app'", "readonly GROUP='"+strings.TrimSpace(string(group))+"'",
	).Replace(script)
	require.NoError(t, os.WriteFile(filepath.Join(bin, "canalco-app-credentials"), []byte(script), 0o700))
	// STS's AssumeRole answer as the AWS CLI prints it.
	fake := `#!/bin/bash
printf '%s\n' "$*" >>"$CALLS"
cat <<JSON
{"Credentials": {"AccessKeyId": "ASIAEXAMPLE$N", "SecretAccessKey": "secret$N", "SessionToken": "token$N",
 "Expiration": "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%S+00:00)"},
 "AssumedRoleUser": {"AssumedRoleId": "AROAEXAMPLE:i-0abc", "Arn": "arn:aws:sts::777788889999:assumed-role/canalco-prod-app/i-0abc"}}
JSON
`
	require.NoError(t, os.WriteFile(filepath.Join(bin, "aws"), []byte(fake), 0o755))
	calls := filepath.Join(dir, "calls")
	refresh := func(n string) {
		cmd := exec.Command(filepath.Join(bin, "canalco-app-credentials"), "i-0abc")
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "CALLS="+calls, "N="+n)
		outp, err := cmd.CombinedOutput()
		require.NoError(t, err, string(outp))
	}
	refresh("1")
	refresh("2") // the timer's next run replaces the file

	logged, err := os.ReadFile(calls)
	require.NoError(t, err)
	assert.Contains(t, string(logged), "sts assume-role --region us-east-1 --role-arn "+out(l.app, "arn")+" --role-session-name i-0abc --duration-seconds 3600")
	file := filepath.Join(credentials, "credentials.json")
	info, err := os.Stat(file)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), info.Mode().Perm())
	dirInfo, err := os.Stat(credentials)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o750), dirInfo.Mode().Perm())
	leftovers, err := filepath.Glob(filepath.Join(credentials, ".credentials.*"))
	require.NoError(t, err)
	assert.Empty(t, leftovers, "the temporary file is renamed into place")
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(raw, &doc))
	assert.Equal(t, 1.0, doc["Version"])
	assert.Equal(t, "ASIAEXAMPLE2", doc["AccessKeyId"])
	for _, k := range []string{"SecretAccessKey", "SessionToken", "Expiration"} {
		assert.NotEmpty(t, doc[k], k)
	}
	assert.Len(t, doc, 5, "the credential_process fields only")

	// The config the boot script writes, as the container reads it.
	boot := userData(t, l.lt)
	line := regexp.MustCompile(`printf '(\[default\][^']*)' "\$REGION" "\$CREDENTIALS_DIR"`).FindStringSubmatch(boot)
	require.NotNil(t, line)
	config := filepath.Join(dir, "aws-config")
	printf := exec.Command("bash", "-c", `printf "$1" us-east-1 "$2" >"$3"`, "-", line[1], credentials, config)
	require.NoError(t, printf.Run())
	py := exec.Command("python3", "-c", `
import botocore.session
c = botocore.session.Session().get_credentials()
print(type(c).__name__, c.method, c.get_frozen_credentials().access_key)
`)
	py.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "AWS_CONFIG_FILE=" + config, "AWS_SDK_LOAD_CONFIG=1",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none")}
	got, err := py.CombinedOutput()
	require.NoError(t, err, string(got))
	assert.Equal(t, "RefreshableCredentials custom-process ASIAEXAMPLE2", strings.TrimSpace(string(got)))
}
