package compute

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	// NoRelease is the release parameter's value until the first release: only then does an
	// instance serve the placeholder health page.
	NoRelease = "none"
	// ReleaseTagPrefix marks the images of the running and the recent releases
	// (release-<image tag>); the repository's lifecycle rules never select it.
	ReleaseTagPrefix = "release-"
	// BuildTagPrefix marks pushed images that are not (or no longer) a recent release; the
	// lifecycle policy keeps the newest ecrKeepImages of them.
	BuildTagPrefix = "build-"
	// AppDatabaseUser is the backend's own database role, signing in with IAM authentication.
	AppDatabaseUser = "canalco_app"
)

// releaseParameter is the SSM parameter naming the stack's running backend release (an image
// tag). The program only creates it: scripts/deploy-backend.sh writes each release and the boot
// script reads it, so `pulumi up` never changes what the instances run.
func releaseParameter(ctx *pulumi.Context, a *ComputeArgs, name string, parent pulumi.ResourceOption) (*ssm.Parameter, error) {
	p, err := ssm.NewParameter(ctx, a.Env.Name("backend-release"), &ssm.ParameterArgs{
		Name:        pulumi.String(name),
		Description: pulumi.String("Backend release (image tag) of " + a.Env.Prefix + ", written by scripts/deploy-backend.sh"),
		Type:        pulumi.String("String"),
		Tier:        pulumi.String("Standard"),
		Value:       pulumi.String(NoRelease),
		// SSM refuses a value that is not an image tag short enough for release-<tag>.
		AllowedPattern: pulumi.String(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,119}$`),
		// The value belongs to the release script from the first release on.
	}, parent, pulumi.IgnoreChanges([]string{"value"}))
	if err != nil {
		return nil, fmt.Errorf("release parameter: %w", err)
	}
	return p, nil
}
