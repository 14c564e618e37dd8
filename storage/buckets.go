// Package storage holds the platform's S3 buckets and the CloudFront distribution in front of
// the web app and the API.
package storage

import (
	"fmt"

	"github.com/canalco/infra/env"
	"github.com/canalco/infra/security"
	"github.com/canalco/infra/settings"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Bucket names a bucket for the other layers.
type Bucket struct {
	// Name is known before deployment: canalco-<stack>-<purpose>-<account>-<region>.
	Name string
	Arn  pulumi.StringOutput
	// RegionalDomainName is the bucket's S3 endpoint, for CloudFront origins.
	RegionalDomainName pulumi.StringOutput
}

// BucketsArgs are the inputs of the buckets component.
type BucketsArgs struct {
	Env      env.Env
	Settings settings.Storage
}

// Buckets is the platform's buckets.
type Buckets struct {
	pulumi.ResourceState

	// Documents are the data buckets by purpose: cotizaciones, facturas, adjuntos, backups,
	// auditoria, reportes.
	Documents map[string]Bucket
	Frontend  Bucket
	// Logs receives S3 server access logs, ALB access logs (under AlbLogPrefix) and
	// CloudFront logs.
	Logs Bucket
	// LogsPolicy admits the log deliveries to the log bucket: whatever writes logs there (the
	// load balancer, CloudFront, S3 access logging) waits for it, not for this whole component,
	// whose children may still be registering when another layer starts.
	LogsPolicy *s3.BucketPolicy
	// KeyArn is the KMS key of the data buckets (SSE-KMS with bucket keys).
	KeyArn pulumi.StringOutput
	// BackupReplica is the cross-region copy of the backups bucket; empty Name when off.
	BackupReplica Bucket

	// For the CDN component of this package: the frontend bucket's policy and the CORS rules
	// name the distribution.
	created map[string]*bucket
}

// DocumentArns lists the data buckets' ARNs, for IAM policies.
func (b *Buckets) DocumentArns() pulumi.StringArray {
	var out pulumi.StringArray
	for _, purpose := range DocumentPurposes {
		out = append(out, b.Documents[purpose].Arn)
	}
	return out
}

// DocumentPurposes are the data buckets, in a stable order: the seed's four, the audit
// function's JSON-lines log (auditoria) and generated reports and exports (reportes).
var DocumentPurposes = []string{"cotizaciones", "facturas", "adjuntos", "backups", "auditoria", "reportes"}

// BrowserPurposes are the data buckets the browser reads and writes directly with presigned
// URLs; only these get CORS rules.
var BrowserPurposes = []string{"cotizaciones", "adjuntos"}

// NewBuckets creates the storage key, the log bucket, the data buckets, the frontend bucket
// and, when set, the backups replica.
func NewBuckets(ctx *pulumi.Context, name string, args *BucketsArgs, opts ...pulumi.ResourceOption) (*Buckets, error) {
	b := &Buckets{Documents: map[string]Bucket{}, created: map[string]*bucket{}}
	if err := ctx.RegisterComponentResource("canalco:storage:Buckets", name, b, opts...); err != nil {
		return nil, err
	}
	if err := b.build(ctx, args); err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	return b, ctx.RegisterResourceOutputs(b, pulumi.Map{
		"frontendBucket": pulumi.String(b.Frontend.Name),
		"logBucket":      pulumi.String(b.Logs.Name),
		"keyArn":         b.KeyArn,
	})
}

func (b *Buckets) build(ctx *pulumi.Context, args *BucketsArgs) error {
	e, st := args.Env, args.Settings
	names := map[string]string{}
	for _, purpose := range append(append([]string{}, DocumentPurposes...), "frontend", "logs") {
		n, err := BucketName(e.Prefix, purpose, e.AccountID, e.Region)
		if err != nil {
			return err
		}
		names[purpose] = n
	}
	arn := func(purpose string) string { return "arn:aws:s3:::" + names[purpose] }
	parent := pulumi.Parent(b)

	key, err := security.NewKey(ctx, e.Name("storage"), &security.KeyArgs{
		Alias:       e.Name("storage"),
		Description: "Encrypts the document and frontend buckets of " + e.Prefix,
		AccountID:   e.AccountID,
		Statements:  []security.Statement{cloudFrontReads(e.AccountID, arn("frontend"))},
		Protect:     e.Protected,
	}, parent)
	if err != nil {
		return err
	}
	b.KeyArn = key.Arn

	// The log bucket is evidence: kept like the data. SSE-S3 because the load balancer and
	// S3 server access logging deliver only to SSE-S3 buckets.
	elbAccount := ""
	if elbAccountRegions[e.Region] {
		account, err := elb.GetServiceAccount(ctx, &elb.GetServiceAccountArgs{Region: pulumi.StringRef(e.Region)}, parent)
		if err != nil {
			return fmt.Errorf("load balancer log account: %w", err)
		}
		elbAccount = account.Arn
	}
	logs, err := newBucket(ctx, bucketSpec{
		name: names["logs"], purpose: "logs",
		lifecycle:  logLifecycle(st),
		statements: logWriters(e, arn("logs"), elbAccount),
		policy:     true,
		keep:       e.Keep(), forceDestroy: !e.Protected,
	}, parent)
	if err != nil {
		return err
	}
	b.Logs, b.LogsPolicy = logs.Bucket, logs.policy

	logged := func(purpose string) bucketSpec {
		return bucketSpec{
			name: names[purpose], purpose: purpose,
			kmsKeyArn: key.Arn,
			logTarget: logs.id, logReady: logs.policy,
			forceDestroy: !e.Protected,
		}
	}
	for _, purpose := range DocumentPurposes {
		spec := logged(purpose)
		spec.lifecycle, spec.policy, spec.keep = documentLifecycle(st, purpose), true, e.Keep()
		if b.created[purpose], err = newBucket(ctx, spec, parent); err != nil {
			return err
		}
		b.Documents[purpose] = b.created[purpose].Bucket
	}

	// The frontend is rebuilt on every release, but it is the live site: a rename or a destroy
	// must not take it down, so protected stacks keep it like the data. Its policy names the
	// distribution, so the CDN component writes it.
	spec := logged("frontend")
	spec.lifecycle, spec.keep = frontendLifecycle(), e.Keep()
	if b.created["frontend"], err = newBucket(ctx, spec, parent); err != nil {
		return err
	}
	b.Frontend = b.created["frontend"].Bucket

	if st.BackupReplicationRegion != "" {
		return b.replicateBackups(ctx, args, b.created["backups"], key)
	}
	return nil
}
