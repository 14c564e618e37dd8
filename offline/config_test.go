package offline_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every real stack file passes the CLI's own config validation (pkg/v3/workspace), and the
// project's defaults reach the program as the CLI merges them.
func TestStackFilesPassTheCLIConfigValidation(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			cfg, err := offline.LoadConfig(offline.Root(t), stack)
			require.NoError(t, err)
			assert.Equal(t, "0", cfg.Values["canalco:asgMaxSize"], "integer default")
			assert.Equal(t, "", cfg.Values["canalco:chatWebhookUrl"], "a secret key's empty default")
			assert.Empty(t, cfg.Secrets)
		})
	}
}

// Each case is a config `pulumi up` refuses before the program starts. The harness must refuse
// it with the CLI's own message (cmd/pulumi/operations/up.go wraps it in "validating stack
// config") and register nothing.
func TestTheCLIConfigValidationRefusesBadConfig(t *testing.T) {
	root := offline.Root(t)
	project := read(t, filepath.Join(root, "Pulumi.yaml"))
	stack := read(t, filepath.Join(root, "Pulumi.dev.yaml"))
	cases := []struct {
		name           string
		project, stack string
		want           string
	}{
		{"wrong type", project, stack + "  canalco:asgMaxSize: many\n",
			"validating stack config: Stack 'dev' with configuration key 'asgMaxSize' must be of type 'integer'"},
		{"text for a list", project, strings.Replace(stack, "  canalco:corsExtraOrigins:\n    - http://localhost:5173\n", "  canalco:corsExtraOrigins: http://localhost:5173\n", 1),
			"validating stack config: Stack 'dev' with configuration key 'corsExtraOrigins' must be of type 'array<string>'"},
		// How Pulumi.yaml declared secret keys before: `secret: true` beside a default the CLI
		// merges in as plain text, so every stack failed.
		{"secret with a plaintext default", declareSecret(t, project, "chatWebhookUrl"), stack,
			"validating stack config: Stack 'dev' with configuration key 'chatWebhookUrl' must be encrypted as it's secret"},
		{"secret in plain text", declareSecret(t, project, "smtpClientSecret"), stack + "  canalco:smtpClientSecret: hunter2\n",
			"validating stack config: Stack 'dev' with configuration key 'smtpClientSecret' must be encrypted as it's secret"},
		{"missing required key", withoutDefault(t, project, "githubRepository"), strings.Replace(stack, "  canalco:githubRepository: canalco/infraestructura\n", "", 1),
			"validating stack config: Stack 'dev' is missing configuration value 'githubRepository'"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.NotEqual(t, project+stack, c.project+c.stack, "the case changes nothing")
			dir := t.TempDir()
			write(t, filepath.Join(dir, "Pulumi.yaml"), c.project)
			write(t, filepath.Join(dir, "Pulumi.dev.yaml"), c.stack)
			res, err := offline.Run(dir, "dev")
			require.Error(t, err)
			assert.Equal(t, c.want, err.Error())
			assert.Empty(t, res.Resources, "the program must not start")
		})
	}
}

// declareSecret marks a key of the project file `secret: true`.
func declareSecret(t *testing.T, project, key string) string {
	t.Helper()
	decl := "\n  " + key + ":\n    type: string\n"
	require.Contains(t, project, decl)
	return strings.Replace(project, decl, decl+"    secret: true\n", 1)
}

// withoutDefault removes a string key's default, which makes the key required.
func withoutDefault(t *testing.T, project, key string) string {
	t.Helper()
	i := strings.Index(project, "\n  "+key+":\n")
	require.GreaterOrEqual(t, i, 0)
	j := i + strings.Index(project[i:], `    default: ""`+"\n")
	return project[:j] + project[j+len(`    default: ""`+"\n"):]
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func write(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}
