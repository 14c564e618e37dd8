package serverless

import (
	"github.com/canalco/infra/security"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// artifactNoncurrentDays is how long a replaced code package stays restorable.
const artifactNoncurrentDays = 90

// privateBucketArgs describe a private, versioned, KMS-encrypted bucket.
type privateBucketArgs struct {
	Name   string
	KeyArn pulumi.StringInput
	// AccessLogBucket receives the server access logs under AccessLogPrefix, once LogsReady
	// (the log bucket's policy) exist.
	AccessLogBucket string
	AccessLogPrefix string
	LogsReady       []pulumi.Resource
	// NoncurrentDays expires replaced object versions.
	NoncurrentDays int
	// Protected stacks keep the bucket (and its history) through `pulumi destroy`.
	Protected bool
}

// privateBucket is a bucket with the storage layer's protections. It stays small and
// self-contained so that it can give way to a shared helper of the storage package.
type privateBucket struct {
	pulumi.ResourceState

	Name string
	ID   pulumi.StringOutput
	// Ready are the bucket's settings: objects written before them would be unversioned or
	// encrypted with the default key.
	Ready []pulumi.Resource
}

func newPrivateBucket(ctx *pulumi.Context, name string, a *privateBucketArgs, opts ...pulumi.ResourceOption) (*privateBucket, error) {
	b := &privateBucket{Name: a.Name}
	if err := ctx.RegisterComponentResource("canalco:serverless:PrivateBucket", name, b, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(b)
	keep := []pulumi.ResourceOption{parent}
	if a.Protected {
		keep = append(keep, pulumi.Protect(true), pulumi.RetainOnDelete(true))
	}
	bucket, err := s3.NewBucketV2(ctx, name, &s3.BucketV2Args{
		Bucket: pulumi.String(a.Name),
		// Unprotected stacks (dev) must be able to go away with their objects.
		ForceDestroy: pulumi.Bool(!a.Protected),
	}, keep...)
	if err != nil {
		return nil, err
	}
	b.ID = bucket.Bucket
	// S3.8 (and S3.1 for this bucket): no public access of any kind.
	pab, err := s3.NewBucketPublicAccessBlock(ctx, name, &s3.BucketPublicAccessBlockArgs{
		Bucket:                bucket.ID(),
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, parent)
	if err != nil {
		return nil, err
	}
	// S3.12: ACLs disabled; the account owns every object.
	ownership, err := s3.NewBucketOwnershipControls(ctx, name, &s3.BucketOwnershipControlsArgs{
		Bucket: bucket.ID(),
		Rule:   &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, parent)
	if err != nil {
		return nil, err
	}
	// S3.17: SSE-KMS with the layer's key; bucket keys keep the KMS request count low.
	encryption, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name, &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{&s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
				SseAlgorithm:   pulumi.String("aws:kms"),
				KmsMasterKeyId: a.KeyArn,
			},
			BucketKeyEnabled: pulumi.Bool(true),
		}},
	}, parent)
	if err != nil {
		return nil, err
	}
	// S3.14: every object version is kept until the lifecycle rule expires it.
	versioning, err := s3.NewBucketVersioningV2(ctx, name, &s3.BucketVersioningV2Args{
		Bucket:                  bucket.ID(),
		VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}, keep...)
	if err != nil {
		return nil, err
	}
	// S3.13: a lifecycle configuration bounds what old versions and failed uploads cost.
	if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, name, &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketLifecycleConfigurationV2RuleArray{&s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:                          pulumi.String("expire-noncurrent-versions"),
			Status:                      pulumi.String("Enabled"),
			Filter:                      &s3.BucketLifecycleConfigurationV2RuleFilterArgs{},
			NoncurrentVersionExpiration: &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{NoncurrentDays: pulumi.Int(a.NoncurrentDays)},
			AbortIncompleteMultipartUpload: &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{
				DaysAfterInitiation: pulumi.Int(7),
			},
		}},
	}, parent, pulumi.DependsOn([]pulumi.Resource{versioning})); err != nil {
		return nil, err
	}
	// S3.5: requests without TLS are refused. Written after the public access block so that
	// S3 never sees a policy on a bucket whose public access settings are still open.
	if _, err := s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{
		Bucket: bucket.ID(),
		Policy: pulumi.String(security.Document(security.DenyInsecureTransport("s3", []string{bucketArn(a.Name), bucketArn(a.Name) + "/*"}))),
	}, parent, pulumi.DependsOn([]pulumi.Resource{pab})); err != nil {
		return nil, err
	}
	// S3.9: server access logs go to the platform's log bucket.
	if a.AccessLogBucket != "" {
		if _, err := s3.NewBucketLoggingV2(ctx, name, &s3.BucketLoggingV2Args{
			Bucket:       bucket.ID(),
			TargetBucket: pulumi.String(a.AccessLogBucket),
			TargetPrefix: pulumi.String(a.AccessLogPrefix),
		}, parent, pulumi.DependsOn(a.LogsReady)); err != nil {
			return nil, err
		}
	}
	b.Ready = []pulumi.Resource{pab, ownership, encryption, versioning}
	return b, ctx.RegisterResourceOutputs(b, pulumi.Map{"bucket": bucket.Bucket})
}
