package offline

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
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
}

// LoadConfig reads Pulumi.yaml and Pulumi.<stack>.yaml from dir the way the CLI does: the
// project's declared defaults fill every key the stack omits, and secure values are blinded.
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
	c := &Config{Project: project.Name.String(), Stack: stack, Values: map[string]string{}}
	dec := config.NewBlindingDecrypter()
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
	for name, t := range project.Config {
		full := name
		if !strings.Contains(name, ":") {
			full = c.Project + ":" + name
		}
		if _, set := c.Values[full]; set || t.Default == nil {
			continue
		}
		s, err := defaultString(t.Default)
		if err != nil {
			return nil, fmt.Errorf("offline: default of %s: %w", full, err)
		}
		c.Values[full] = s
	}
	sort.Strings(c.Secrets)
	return c, nil
}

// defaultString renders a project default as the CLI passes it: scalars as text, lists as JSON.
func defaultString(v any) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case bool:
		return strconv.FormatBool(t), nil
	case int:
		return strconv.Itoa(t), nil
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), nil
	default:
		b, err := json.Marshal(t)
		return string(b), err
	}
}
