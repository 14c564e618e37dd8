package serverless_test

import (
	"testing"

	"github.com/canalco/infra/offline"
)

// on returns the resource of a type configuring the bucket.
func on(t *testing.T, res *offline.Result, token, bucket string) *offline.Resource {
	t.Helper()
	for _, r := range layer(res, token) {
		if r.Str("bucket") == bucket {
			return r
		}
	}
	t.Fatalf("%s has no %s", bucket, token)
	return nil
}

// The code bucket has the data buckets' protections: private, TLS only, SSE-KMS, versioned,
// noncurrent versions expired, access logged.
func TestArtifactsBucketIsPrivateVersionedAndEncrypted(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			name := prefix(stack) + "-artifacts-" + offline.AccountOf(stack) + "-us-east-1"
			b := on(t, res, bucketType, name)
			if b.Bool("forceDestroy") != (stack == "dev") {
				t.Errorf("forceDestroy %v: only dev may delete its code history", b.Bool("forceDestroy"))
			}
			pab := on(t, res, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", name)
			for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
				if !pab.Bool(k) {
					t.Errorf("S3.8: %s off", k)
				}
			}
			if on(t, res, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", name).Str("rule.objectOwnership") != "BucketOwnerEnforced" {
				t.Error("S3.12: ACLs enabled")
			}
			sse := on(t, res, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", name)
			if sse.Str("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm") != "aws:kms" ||
				sse.Str("rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId") != layerKeyArn(t, res, stack) || !sse.Bool("rules.0.bucketKeyEnabled") {
				t.Errorf("S3.17: encryption %v", sse.Get("rules"))
			}
			if on(t, res, "aws:s3/bucketVersioningV2:BucketVersioningV2", name).Str("versioningConfiguration.status") != "Enabled" {
				t.Error("S3.14: not versioned")
			}
			rule := on(t, res, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", name)
			if rule.Str("rules.0.status") != "Enabled" || rule.Num("rules.0.noncurrentVersionExpiration.noncurrentDays") != 90 {
				t.Errorf("S3.13: lifecycle %v", rule.Get("rules"))
			}
			deny := sid(t, document(t, on(t, res, "aws:s3/bucketPolicy:BucketPolicy", name).Str("policy")), "DenyInsecureTransport")
			if deny.Effect != "Deny" || len(deny.Resource) != 2 || deny.Condition["Bool"]["aws:SecureTransport"] != "false" {
				t.Errorf("S3.5: %+v", deny)
			}
			logging := on(t, res, "aws:s3/bucketLoggingV2:BucketLoggingV2", name)
			if logging.Str("targetBucket") != prefix(stack)+"-logs-"+offline.AccountOf(stack)+"-us-east-1" || logging.Str("targetPrefix") != "s3/artifacts/" {
				t.Errorf("S3.9: logging to %q %q", logging.Str("targetBucket"), logging.Str("targetPrefix"))
			}
			// Code uploaded before versioning and encryption would be unversioned or use the
			// default key.
			for _, f := range functions {
				obj := named(t, res, objectType, prefix(stack)+"-"+f.folder)
				for _, token := range []string{"aws:s3/bucketVersioningV2:BucketVersioningV2", "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"} {
					if !obj.DependsOn(on(t, res, token, name).URN) {
						t.Errorf("%s is uploaded before %s", f.folder, token)
					}
				}
			}
		})
	}
}

// Protected stacks keep what holds data or is hard to recreate: the key, the code history,
// the queues' messages, the logs and the verified identity.
func TestProtectedStacksKeepStatefulResources(t *testing.T) {
	stateful := []string{keyType, bucketType, "aws:s3/bucketVersioningV2:BucketVersioningV2", queueType, logGroupType, identityType}
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			protected := stack != "dev"
			for _, token := range stateful {
				rs := layer(res, token)
				if len(rs) == 0 {
					t.Errorf("no %s", token)
				}
				for _, r := range rs {
					if r.Protect != protected || r.RetainOnDelete != protected {
						t.Errorf("%s %s: protect %v retain %v, want %v", token, r.Name, r.Protect, r.RetainOnDelete, protected)
					}
				}
			}
		})
	}
}
