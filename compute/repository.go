package compute

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecr"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// repository is the stack's backend image repository, canalco-<stack>-backend.
func repository(ctx *pulumi.Context, a *ComputeArgs, parent pulumi.ResourceOption) (*ecr.Repository, error) {
	name := a.Env.Name("backend")
	repo, err := ecr.NewRepository(ctx, name, &ecr.RepositoryArgs{
		Name: pulumi.String(name),
		// ECR.2: a tag names one image forever, so a deployed tag always means the same code
		// and a rollback to it is exact.
		ImageTagMutability: pulumi.String("IMMUTABLE"),
		// ECR.1: every pushed image is scanned for known vulnerabilities.
		ImageScanningConfiguration: &ecr.RepositoryImageScanningConfigurationArgs{ScanOnPush: pulumi.Bool(true)},
		// Encrypted with KMS (the account's aws/ecr key): pulls need no key grant on the role.
		EncryptionConfigurations: ecr.RepositoryEncryptionConfigurationArray{
			&ecr.RepositoryEncryptionConfigurationArgs{EncryptionType: pulumi.String("KMS")},
		},
		// The images are the releases a rollback goes back to: protected stacks keep them.
		ForceDelete: pulumi.Bool(!a.Env.Protected),
	}, append([]pulumi.ResourceOption{parent}, a.Env.Keep()...)...)
	if err != nil {
		return nil, fmt.Errorf("repository: %w", err)
	}
	// ECR.3: a lifecycle policy bounds the repository.
	if _, err := ecr.NewLifecyclePolicy(ctx, name, &ecr.LifecyclePolicyArgs{
		Repository: repo.Name,
		Policy:     pulumi.String(lifecyclePolicy(a.Settings.KeepImages)),
	}, parent); err != nil {
		return nil, fmt.Errorf("repository lifecycle: %w", err)
	}
	return repo, nil
}

type lifecycleRule struct {
	RulePriority int    `json:"rulePriority"`
	Description  string `json:"description"`
	Selection    struct {
		TagStatus     string   `json:"tagStatus"`
		TagPrefixList []string `json:"tagPrefixList,omitempty"`
		CountType     string   `json:"countType"`
		CountUnit     string   `json:"countUnit,omitempty"`
		CountNumber   int      `json:"countNumber"`
	} `json:"selection"`
	Action struct {
		Type string `json:"type"`
	} `json:"action"`
}

// lifecyclePolicy expires untagged leftovers (interrupted pushes, replaced manifests) after a
// day and keeps the newest keep builds (build-<sha>). No rule selects "any" image: ECR selects
// an image whose tags match a rule's prefix, whatever its other tags, so the release script takes
// the build- tag off the images it releases (they carry release-<sha> only) and gives it back
// when a release is no longer one a rollback goes to ("Lifecycle policy evaluation rules",
// Amazon ECR User Guide).
func lifecyclePolicy(keep int) string {
	untagged := lifecycleRule{RulePriority: 1, Description: "Untagged layers of interrupted pushes"}
	untagged.Selection.TagStatus, untagged.Selection.CountType = "untagged", "sinceImagePushed"
	untagged.Selection.CountUnit, untagged.Selection.CountNumber = "days", 1
	builds := lifecycleRule{RulePriority: 2, Description: fmt.Sprintf("Keep the newest %d unreleased builds", keep)}
	builds.Selection.TagStatus, builds.Selection.TagPrefixList = "tagged", []string{BuildTagPrefix}
	builds.Selection.CountType, builds.Selection.CountNumber = "imageCountMoreThan", keep
	for _, r := range []*lifecycleRule{&untagged, &builds} {
		r.Action.Type = "expire"
	}
	b, err := json.Marshal(map[string][]lifecycleRule{"rules": {untagged, builds}})
	if err != nil {
		panic(err) // plain structs only
	}
	return string(b)
}
