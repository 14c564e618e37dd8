package storage_test

import (
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/security"
)

// Resource types this layer registers.
const (
	bucketType      = "aws:s3/bucketV2:BucketV2"
	accessBlockType = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	ownershipType   = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
	encryptionType  = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	versioningType  = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	loggingType     = "aws:s3/bucketLoggingV2:BucketLoggingV2"
	lifecycleType   = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
	policyType      = "aws:s3/bucketPolicy:BucketPolicy"
	corsType        = "aws:s3/bucketCorsConfigurationV2:BucketCorsConfigurationV2"
	replicationType = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
	distType        = "aws:cloudfront/distribution:Distribution"
	oacType         = "aws:cloudfront/originAccessControl:OriginAccessControl"
	functionType    = "aws:cloudfront/function:Function"
	headersType     = "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy"
	certType        = "aws:acm/certificate:Certificate"
	validationType  = "aws:acm/certificateValidation:CertificateValidation"
	recordType      = "aws:route53/record:Record"
	webACLType      = "aws:wafv2/webAcl:WebAcl"
	keyType         = "aws:kms/key:Key"
	aliasType       = "aws:kms/alias:Alias"
	providerType    = "pulumi:providers:aws"
	deliverySource  = "aws:cloudwatch/logDeliverySource:LogDeliverySource"
	deliveryDest    = "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination"
	deliveryType    = "aws:cloudwatch/logDelivery:LogDelivery"
	bucketsToken    = "canalco:storage:Buckets"
	cdnToken        = "canalco:storage:CDN"
)

// on returns the resources of a type whose bucket input is the named bucket.
func on(res *offline.Result, token, bucket string) []*offline.Resource {
	var out []*offline.Resource
	for _, r := range res.OfType(token) {
		if r.Str("bucket") == bucket {
			out = append(out, r)
		}
	}
	return out
}

// one returns the single resource of a type on a bucket, failing the test otherwise.
func one(t *testing.T, res *offline.Result, token, bucket string) *offline.Resource {
	t.Helper()
	rs := on(res, token, bucket)
	if len(rs) != 1 {
		t.Fatalf("%s: %d resources of %s, want 1", bucket, len(rs), token)
	}
	return rs[0]
}

// bucketsOf returns the stack's buckets by name.
func bucketsOf(res *offline.Result) map[string]*offline.Resource {
	out := map[string]*offline.Resource{}
	for _, b := range res.OfType(bucketType) {
		out[b.Str("bucket")] = b
	}
	return out
}

// single returns the only resource of a type in the stack.
func single(t *testing.T, res *offline.Result, token string) *offline.Resource {
	t.Helper()
	rs := res.OfType(token)
	if len(rs) != 1 {
		t.Fatalf("%d resources of %s, want 1", len(rs), token)
	}
	return rs[0]
}

func parsePolicy(t *testing.T, doc string) *security.Parsed {
	t.Helper()
	p, err := security.ParseDocument(doc)
	if err != nil {
		t.Fatalf("policy %q: %v", doc, err)
	}
	return p
}

// provider returns the provider resource a resource is bound to.
func provider(res *offline.Result, r *offline.Resource) *offline.Resource {
	urn := r.Provider
	for i := len(urn) - 1; i >= 0; i-- {
		if urn[i] == ':' && i >= 1 && urn[i-1] == ':' {
			urn = urn[:i-1]
			break
		}
	}
	return res.ByURN(urn)
}
