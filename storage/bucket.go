package storage

import (
	"fmt"

	"github.com/canalco/infra/security"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// bucketSpec is what differs between the platform's buckets. Everything else every bucket
// gets from newBucket, so that no bucket can be created without it.
type bucketSpec struct {
	name    string
	purpose string
	// kmsKeyArn encrypts new objects with SSE-KMS and a bucket key; nil means SSE-S3, for the
	// log bucket whose writers (ALB, S3 server access logging) only support SSE-S3.
	kmsKeyArn pulumi.StringInput
	// logTarget receives the bucket's server access logs under s3/<purpose>/; nil only for
	// buckets that cannot log into the log bucket (itself, and a replica in another region).
	logTarget pulumi.StringInput
	// logReady is what must exist before S3 may deliver to logTarget (its bucket policy).
	logReady  pulumi.Resource
	lifecycle s3.BucketLifecycleConfigurationV2RuleArray
	// statements are granted beside the TLS-only rule. Without policy the caller writes the
	// bucket policy itself (the frontend bucket, whose policy names the distribution).
	statements []security.Statement
	policy     bool
	// keep protects the bucket and its versioning in protected stacks (data and evidence).
	keep []pulumi.ResourceOption
	// forceDestroy lets `pulumi destroy` empty the bucket: only where nothing is kept (dev).
	forceDestroy bool
}

// bucket is a created bucket with the parts other resources wait for.
type bucket struct {
	Bucket
	id         pulumi.IDOutput
	versioning *s3.BucketVersioningV2
	encryption *s3.BucketServerSideEncryptionConfigurationV2
	access     *s3.BucketPublicAccessBlock
	policy     *s3.BucketPolicy
}

// newBucket creates a bucket with every protection the platform requires. opts go to every
// resource (parent, and a provider for another region).
func newBucket(ctx *pulumi.Context, spec bucketSpec, opts ...pulumi.ResourceOption) (*bucket, error) {
	name := spec.name
	wrap := func(what string, err error) error { return fmt.Errorf("bucket %s: %s: %w", name, what, err) }
	with := func(extra ...pulumi.ResourceOption) []pulumi.ResourceOption {
		return append(append([]pulumi.ResourceOption{}, opts...), extra...)
	}

	res, err := s3.NewBucketV2(ctx, name, &s3.BucketV2Args{
		Bucket:       pulumi.String(name),
		ForceDestroy: pulumi.Bool(spec.forceDestroy),
	}, with(spec.keep...)...)
	if err != nil {
		return nil, wrap("bucket", err)
	}
	b := &bucket{Bucket: Bucket{Name: name, Arn: res.Arn, RegionalDomainName: res.BucketRegionalDomainName}, id: res.ID()}

	// S3.8 (and S3.1/S3.2/S3.3 for this bucket): no ACL or policy can make it public.
	b.access, err = s3.NewBucketPublicAccessBlock(ctx, name, &s3.BucketPublicAccessBlockArgs{
		Bucket:                b.id,
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, with()...)
	if err != nil {
		return nil, wrap("public access block", err)
	}

	// S3.12: ACLs disabled; only the bucket policy and IAM grant access.
	if _, err = s3.NewBucketOwnershipControls(ctx, name, &s3.BucketOwnershipControlsArgs{
		Bucket: b.id,
		Rule:   &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, with()...); err != nil {
		return nil, wrap("ownership", err)
	}

	// S3.17: SSE-KMS with a bucket key (one KMS call per bucket key, not per object) where
	// the writers allow it; SSE-S3 otherwise.
	sse := &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{SseAlgorithm: pulumi.String("AES256")}
	if spec.kmsKeyArn != nil {
		sse = &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{SseAlgorithm: pulumi.String("aws:kms"), KmsMasterKeyId: spec.kmsKeyArn}
	}
	if b.encryption, err = s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name, &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: b.id,
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{&s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: sse,
			BucketKeyEnabled:                   pulumi.Bool(spec.kmsKeyArn != nil),
		}},
	}, with()...); err != nil {
		return nil, wrap("encryption", err)
	}

	// S3.14: every overwrite and delete keeps the previous version.
	b.versioning, err = s3.NewBucketVersioningV2(ctx, name, &s3.BucketVersioningV2Args{
		Bucket:                  b.id,
		VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}, with(spec.keep...)...)
	if err != nil {
		return nil, wrap("versioning", err)
	}

	// S3.13 / S3.10: lifecycle rules, noncurrent versions included.
	if _, err = s3.NewBucketLifecycleConfigurationV2(ctx, name, &s3.BucketLifecycleConfigurationV2Args{
		Bucket:                             b.id,
		Rules:                              spec.lifecycle,
		TransitionDefaultMinimumObjectSize: pulumi.String(smallObjectsStay),
	}, with(pulumi.DependsOn([]pulumi.Resource{b.versioning}))...); err != nil {
		return nil, wrap("lifecycle", err)
	}

	// S3.9: server access logs.
	if spec.logTarget != nil {
		if _, err = s3.NewBucketLoggingV2(ctx, name, &s3.BucketLoggingV2Args{
			Bucket:       b.id,
			TargetBucket: spec.logTarget,
			TargetPrefix: pulumi.String(accessLogPrefix(spec.purpose)),
		}, with(pulumi.DependsOn([]pulumi.Resource{spec.logReady}))...); err != nil {
			return nil, wrap("access logging", err)
		}
	}

	if spec.policy {
		arn := "arn:aws:s3:::" + name
		b.policy, err = bucketPolicy(ctx, name, b, pulumi.String(bucketDocument(arn, spec.statements...)), with()...)
		if err != nil {
			return nil, wrap("policy", err)
		}
	}
	return b, nil
}

// bucketPolicy writes a bucket's policy once its public access block is in place (S3 rejects
// concurrent changes to one bucket's access settings).
func bucketPolicy(ctx *pulumi.Context, name string, b *bucket, document pulumi.StringInput, opts ...pulumi.ResourceOption) (*s3.BucketPolicy, error) {
	return s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{
		Bucket: b.id,
		Policy: document,
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{b.access}))...)
}

// bucketDocument is a bucket policy: S3.5, no request without TLS, then the grants.
func bucketDocument(arn string, grants ...security.Statement) string {
	return security.Document(append([]security.Statement{security.DenyInsecureTransport("s3", []string{arn, arn + "/*"})}, grants...)...)
}

// accessLogPrefix is where a bucket's server access logs land in the log bucket.
func accessLogPrefix(purpose string) string { return serverAccessLogPrefix + purpose + "/" }
