package storage

import (
	"github.com/canalco/infra/env"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// PrivateBucketArgs describe a bucket another layer keeps for itself, such as the Lambda code
// packages: it gets every protection of the platform's own buckets.
type PrivateBucketArgs struct {
	Env     env.Env
	Name    string
	Purpose string
	KeyArn  pulumi.StringInput
	// LogBucket receives the server access logs under s3/<purpose>/ once LogsReady exist.
	LogBucket string
	LogsReady pulumi.Resource
	// NoncurrentDays expires replaced object versions.
	NoncurrentDays int
}

// PrivateBucket is a created private bucket.
type PrivateBucket struct {
	Name string
	ID   pulumi.StringOutput
	// Ready are the settings objects must not be written before: without them an object would
	// be unversioned or encrypted with another key.
	Ready []pulumi.Resource
}

// NewPrivateBucket creates a private, versioned, KMS-encrypted, TLS-only, logged bucket whose
// replaced versions expire after NoncurrentDays. opts go to every resource (the parent).
func NewPrivateBucket(ctx *pulumi.Context, a PrivateBucketArgs, opts ...pulumi.ResourceOption) (*PrivateBucket, error) {
	b, err := newBucket(ctx, bucketSpec{
		name:      a.Name,
		purpose:   a.Purpose,
		kmsKeyArn: a.KeyArn,
		logTarget: pulumi.String(a.LogBucket),
		logReady:  a.LogsReady,
		lifecycle: lifecycleRules{&s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:                             pulumi.String("expire-noncurrent-versions"),
			Status:                         pulumi.String("Enabled"),
			Filter:                         everything(),
			NoncurrentVersionExpiration:    expireNoncurrent(a.NoncurrentDays),
			AbortIncompleteMultipartUpload: abortUploads(),
		}},
		policy:       true,
		keep:         a.Env.Keep(),
		forceDestroy: !a.Env.Protected,
	}, opts...)
	if err != nil {
		return nil, err
	}
	return &PrivateBucket{Name: a.Name, ID: b.id.ToStringOutput(), Ready: []pulumi.Resource{b.access, b.encryption, b.versioning, b.policy}}, nil
}
