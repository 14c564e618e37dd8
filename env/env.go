// Package env is what every layer knows about the stack it is deployed in. It sits beside the
// layers, not under platform: the layers import it, and it imports no layer.
package env

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/canalco/infra/logs"
	"github.com/canalco/infra/settings"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Env describes the stack to a layer.
type Env struct {
	// Prefix starts every AWS name: canalco-<stack>.
	Prefix      string
	Environment settings.Environment
	Region      string
	AccountID   string
	// Protected stacks keep their data: deletion protection, final snapshots, Pulumi protect.
	Protected bool
	// Logs is how every log group of the stack is kept and encrypted.
	Logs logs.Settings
	// Tags are the platform's tags (Project, Environment, ManagedBy, CostCenter): the
	// providers' default tags, and what a layer sets itself where default tags do not reach
	// (instances an Auto Scaling group launches, recovery points).
	Tags map[string]string
	// USEast1 is a provider for the resources AWS only accepts in us-east-1 (CloudFront
	// certificates, its WAF web ACL).
	USEast1 pulumi.ProviderResource
}

// Name is the AWS name of a thing: canalco-<stack>-<thing>.
func (e Env) Name(thing string) string { return e.Prefix + "-" + thing }

// RegionProvider is a provider for another region with the stack's default tags, for the
// optional copies a layer keeps there (backups, replicas), in the stack's account only.
func (e Env) RegionProvider(ctx *pulumi.Context, name, region string, opts ...pulumi.ResourceOption) (*aws.Provider, error) {
	return aws.NewProvider(ctx, name, &aws.ProviderArgs{
		Region:      pulumi.String(region),
		DefaultTags: &aws.ProviderDefaultTagsArgs{Tags: pulumi.ToStringMap(e.Tags)},
		// Explicit providers do not read aws:allowedAccountIds from the stack: the stack's one account.
		AllowedAccountIds: pulumi.ToStringArray([]string{e.AccountID}),
	}, opts...)
}

// Keep returns the options for a resource whose loss would lose users' data: in protected
// stacks Pulumi refuses to delete it and leaves it in the account if it leaves the program.
func (e Env) Keep() []pulumi.ResourceOption {
	if !e.Protected {
		return nil
	}
	return []pulumi.ResourceOption{pulumi.Protect(true), pulumi.RetainOnDelete(true)}
}

// ProjectRoot is the folder with Pulumi.yaml: the working directory under `pulumi up`, a parent
// of it when tests run the program from their package's folder.
func ProjectRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "Pulumi.yaml")); err == nil {
			return dir, nil
		}
	}
	return "", errors.New("no Pulumi.yaml in the working directory or above it")
}
