package policy

import (
	"fmt"
	"strings"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/review/graph"
)

const (
	typeBucket        = "aws:s3/bucketV2:BucketV2"
	typePAB           = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	typeAccountPAB    = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
	typeBucketPolicy  = "aws:s3/bucketPolicy:BucketPolicy"
	typeBucketLogging = "aws:s3/bucketLoggingV2:BucketLoggingV2"
	typeBucketACL     = "aws:s3/bucketAclV2:BucketAclV2"
	typeOwnership     = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
	typeLifecycle     = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
	typeVersioning    = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	typeEncryption    = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
)

var publicAccessFlags = []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"}

// allBlocked reports which public access flags are not true.
func allBlocked(r *offline.Resource) (bool, string) {
	var off []string
	for _, f := range publicAccessFlags {
		if !r.Bool(f) {
			off = append(off, f)
		}
	}
	return check(len(off) == 0, strings.Join(off, ", ")+" not true")
}

// companion returns the bucket's settings resource of the type, or nil.
func companion(ctx *Context, typ string, bucket *offline.Resource) *offline.Resource {
	if list := ctx.Pointing(typ, "bucket", bucket); len(list) > 0 {
		return list[0]
	}
	return nil
}

// bucketPolicyStatements returns the statements of the bucket's policy resource.
func bucketPolicyStatements(ctx *Context, bucket *offline.Resource) []graph.Statement {
	if p := companion(ctx, typeBucketPolicy, bucket); p != nil {
		return graph.Policy(p.Get("policy"))
	}
	return nil
}

var bucketRules = []Rule{
	{
		ID: "S3.1", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeAccountPAB},
		Title: "S3 general purpose buckets should have block public access settings enabled",
		Fix:   "set all four flags of the account's public access block to true",
		Check: func(r *offline.Resource, _ *Context) (bool, string) { return allBlocked(r) },
	},
	{
		ID: "S3.8", Framework: FSBP, Severity: High, ResourceTypes: []string{typeBucket},
		Title: "S3 general purpose buckets should block public access",
		Fix:   "add an aws.s3.BucketPublicAccessBlock for the bucket with all four flags true",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			pab := companion(ctx, typePAB, r)
			if pab == nil {
				return fail("no public access block")
			}
			return allBlocked(pab)
		},
	},
	{
		ID: "S3.5", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeBucket},
		Title: "S3 general purpose buckets should require requests to use SSL",
		Fix:   "add security.DenyInsecureTransport to the bucket policy",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			for _, st := range bucketPolicyStatements(ctx, r) {
				if st.Effect == "Deny" && st.HasConditionKey("aws:SecureTransport") {
					return pass()
				}
			}
			return fail("the bucket policy does not deny requests without TLS")
		},
	},
	{
		ID: "S3.9", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeBucket},
		Title: "S3 general purpose buckets should have server access logging enabled",
		Fix:   "add an aws.s3.BucketLoggingV2 that sends access logs to the logs bucket",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			l := companion(ctx, typeBucketLogging, r)
			return check(l != nil && l.Str("targetBucket") != "", "server access logging is off")
		},
	},
	{
		ID: "S3.12", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeBucket},
		Title: "ACLs should not be used to manage user access to S3 general purpose buckets",
		Fix:   "add aws.s3.BucketOwnershipControls with objectOwnership BucketOwnerEnforced and no bucket ACL",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			if acl := companion(ctx, typeBucketACL, r); acl != nil {
				return fail(fmt.Sprintf("bucket ACL %q", acl.Str("acl")))
			}
			oc := companion(ctx, typeOwnership, r)
			return check(oc != nil && oc.Str("rule.objectOwnership") == "BucketOwnerEnforced", "object ownership is not BucketOwnerEnforced, so ACLs still apply")
		},
	},
	{
		ID: "S3.13", Framework: FSBP, Severity: Low, ResourceTypes: []string{typeBucket},
		Title: "S3 general purpose buckets should have Lifecycle configurations",
		Fix:   "add an aws.s3.BucketLifecycleConfigurationV2 with at least one Enabled rule",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			if lc := companion(ctx, typeLifecycle, r); lc != nil {
				for i := range lc.List("rules") {
					if lc.Str(fmt.Sprintf("rules.%d.status", i)) == "Enabled" {
						return pass()
					}
				}
			}
			return fail("no enabled lifecycle rule")
		},
	},
	{
		ID: "S3.14", Framework: FSBP, Severity: Low, ResourceTypes: []string{typeBucket},
		Title: "S3 general purpose buckets should have versioning enabled",
		Fix:   "add an aws.s3.BucketVersioningV2 with status Enabled",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			v := companion(ctx, typeVersioning, r)
			return check(v != nil && v.Str("versioningConfiguration.status") == "Enabled", "versioning is not enabled")
		},
	},
	{
		ID: "S3.17", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeBucket},
		Title: "S3 general purpose buckets should be encrypted at rest with AWS KMS keys",
		Fix:   "add an aws.s3.BucketServerSideEncryptionConfigurationV2 with sseAlgorithm aws:kms and the storage key",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			enc := companion(ctx, typeEncryption, r)
			if enc == nil {
				return fail("no encryption configuration (SSE-S3 by default)")
			}
			alg := enc.Str("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm")
			return check(strings.HasPrefix(alg, "aws:kms"), fmt.Sprintf("encrypted with %q, not a KMS key", alg))
		},
	},
}
