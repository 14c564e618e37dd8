package offline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"

	pkgworkspace "github.com/pulumi/pulumi/pkg/v3/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
	"github.com/pulumi/pulumi/sdk/v3/go/common/esc"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

// Config is a stack's configuration as the Pulumi CLI would hand it to the program.
type Config struct {
	Project string
	Stack   string
	// Values is keyed namespace:name, with project defaults applied.
	Values map[string]string
	// Secrets lists the keys set with --secret; their values are blinded.
	Secrets []string
	// Credentials is the account the run's AWS credentials belong to: the stack's own
	// (aws:allowedAccountIds) when empty, another one to prove the program refuses it.
	Credentials string
}

// Account is the account the stack file names in aws:allowedAccountIds ("" if none).
func (c *Config) Account() string {
	var ids []string
	if json.Unmarshal([]byte(c.Values["aws:allowedAccountIds"]), &ids) != nil || len(ids) == 0 {
		return ""
	}
	return ids[0]
}

// LoadConfig reads Pulumi.yaml and Pulumi.<stack>.yaml from dir and merges and validates them
// with the CLI's own code (pkg/v3/workspace, the call `pulumi up` and `pulumi preview` make
// before they start the program): project defaults, declared types, secret keys and required
// keys. The error is the CLI's, worded as `pulumi up` prints it.
//
// There is no KMS here, so secure values go through the blinding decrypter, the one the CLI's
// `pulumi config` uses to list a stack without its secrets provider: validation reads whether
// a value is secure from its ciphertext, and the "[secret]" stand-in passes the type check of
// a string key exactly as a real secret does (settings keeps every secret key a string).
func LoadConfig(dir, stack string) (*Config, error) {
	project, err := workspace.LoadProject(filepath.Join(dir, "Pulumi.yaml"))
	if err != nil {
		return nil, fmt.Errorf("offline: %w", err)
	}
	sink := diag.DefaultSink(io.Discard, io.Discard, diag.FormatOptions{Color: colors.Never})
	ps, err := workspace.LoadProjectStack(sink, project, filepath.Join(dir, "Pulumi."+stack+".yaml"))
	if err != nil {
		return nil, fmt.Errorf("offline: stack %s: %w", stack, err)
	}
	if ps.Environment != nil {
		// Opening a Pulumi ESC environment needs Pulumi Cloud.
		return nil, fmt.Errorf("offline: stack %s imports an ESC environment, which cannot be opened offline", stack)
	}
	dec := config.NewBlindingDecrypter()
	if err := pkgworkspace.ValidateStackConfigAndApplyProjectConfig(
		context.Background(), stack, project, esc.Value{}, ps.Config, config.NopEncrypter, dec); err != nil {
		return nil, fmt.Errorf("validating stack config: %w", err)
	}
	c := &Config{Project: project.Name.String(), Stack: stack, Values: map[string]string{}}
	for key, v := range ps.Config {
		s, err := v.Value(dec)
		if err != nil {
			return nil, fmt.Errorf("offline: %s: %w", key, err)
		}
		name := key.Namespace() + ":" + key.Name()
		c.Values[name] = s
		if v.Secure() {
			c.Secrets = append(c.Secrets, name)
		}
	}
	sort.Strings(c.Secrets)
	return c, nil
}
