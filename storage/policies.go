package storage

import (
	"fmt"

	"github.com/canalco/infra/env"
	"github.com/canalco/infra/security"
)

// Where each writer puts its logs in the log bucket.
const (
	// AlbLogPrefix is the prefix the load balancer's access logs must use (its AccessLogs.Prefix).
	AlbLogPrefix = "alb"
	// serverAccessLogPrefix holds S3 server access logs, one folder per bucket purpose.
	serverAccessLogPrefix = "s3/"
	// cdnLogPrefix is where CloudWatch's log delivery writes CloudFront's access logs, followed
	// by the account ID: CloudFront's default layout (AWSLogs/<account>/CloudFront/), which
	// the delivery's suffix path (CdnLogSuffixPath) sets explicitly, partitioned by
	// distribution and hour.
	cdnLogPrefix = "AWSLogs/"
)

// CdnLogSuffixPath is the S3 suffix path of the distribution's standard logging (v2)
// delivery, with the variables CloudFront documents for it ("Configure standard logging
// (v2)", send logs to Amazon S3: {DistributionId}, {yyyy}, {MM}, {dd}, {HH}). The log
// bucket's policy admits writes under cdnLogPrefix<account>/CloudFront/ only.
func CdnLogSuffixPath(accountID string) string {
	return cdnLogPrefix + accountID + "/CloudFront/{DistributionId}/{yyyy}/{MM}/{dd}/{HH}"
}

// elbAccountRegions are the regions whose load balancers deliver access logs as a regional
// Elastic Load Balancing account (AWS's list of regions opened before August 2022). Newer
// regions deliver as the logdelivery.elasticloadbalancing.amazonaws.com service.
var elbAccountRegions = map[string]bool{
	"us-east-1": true, "us-east-2": true, "us-west-1": true, "us-west-2": true,
	"af-south-1": true, "ap-east-1": true, "ap-southeast-3": true, "ap-south-1": true,
	"ap-northeast-3": true, "ap-northeast-2": true, "ap-southeast-1": true, "ap-southeast-2": true,
	"ap-northeast-1": true, "ca-central-1": true, "eu-central-1": true, "eu-west-1": true,
	"eu-west-2": true, "eu-south-1": true, "eu-west-3": true, "eu-north-1": true,
	"me-south-1": true, "sa-east-1": true,
}

// cdnLogSource is the name of the CloudWatch delivery source of the distribution's access
// logs; the log bucket's policy admits exactly this source.
func cdnLogSource(e env.Env) string { return e.Name("cdn") }

// logWriters are the log bucket's grants: exactly the three services that write into it.
// elbAccountArn is the region's Elastic Load Balancing account ("" in newer regions). Server
// access logs come from every bucket of the stack (all named <prefix>-...), whichever layer
// created it.
func logWriters(e env.Env, logsArn, elbAccountArn string) []security.Statement {
	alb := security.Statement{
		Sid:       "LoadBalancerAccessLogs",
		Effect:    "Allow",
		Principal: map[string]any{"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
		Action:    []string{"s3:PutObject"},
		Resource:  []string{fmt.Sprintf("%s/%s/AWSLogs/%s/*", logsArn, AlbLogPrefix, e.AccountID)},
	}
	if elbAccountArn != "" {
		alb.Principal = map[string]any{"AWS": elbAccountArn}
	}
	serverAccess := security.Statement{
		Sid:       "S3ServerAccessLogs",
		Effect:    "Allow",
		Principal: map[string]any{"Service": "logging.s3.amazonaws.com"},
		Action:    []string{"s3:PutObject"},
		Resource:  []string{logsArn + "/" + serverAccessLogPrefix + "*"},
		Condition: map[string]map[string]any{
			"StringEquals": {"aws:SourceAccount": e.AccountID},
			"ArnLike":      {"aws:SourceArn": "arn:aws:s3:::" + e.Prefix + "-*"},
		},
	}
	// CloudFront standard logging v2: CloudWatch Logs delivers for the distribution's delivery
	// source in us-east-1, where CloudFront's logging lives.
	cdn := security.Statement{
		Sid:       "CloudFrontAccessLogs",
		Effect:    "Allow",
		Principal: map[string]any{"Service": "delivery.logs.amazonaws.com"},
		Action:    []string{"s3:PutObject"},
		Resource:  []string{fmt.Sprintf("%s/%s%s/CloudFront/*", logsArn, cdnLogPrefix, e.AccountID)},
		Condition: map[string]map[string]any{
			"StringEquals": {"aws:SourceAccount": e.AccountID, "s3:x-amz-acl": "bucket-owner-full-control"},
			"ArnLike":      {"aws:SourceArn": fmt.Sprintf("arn:aws:logs:us-east-1:%s:delivery-source:%s", e.AccountID, cdnLogSource(e))},
		},
	}
	return []security.Statement{alb, serverAccess, cdn}
}

// cloudFrontReads lets CloudFront decrypt the frontend bucket's objects through Origin Access
// Control. AWS's OAC + SSE-KMS key policy conditions only on AWS:SourceArn (CloudFront
// Developer Guide, "Restrict access to an Amazon S3 origin", SSE-KMS). The key exists before
// the distribution, so the grant names the account's distributions rather than this one; the
// encryption context (the bucket ARN, as S3 bucket keys set it) limits it to the frontend
// bucket, never the documents.
func cloudFrontReads(accountID, frontendArn string) security.Statement {
	return security.Statement{
		Sid:       "CloudFrontReadsFrontend",
		Effect:    "Allow",
		Principal: map[string]any{"Service": "cloudfront.amazonaws.com"},
		Action:    []string{"kms:Decrypt"},
		Resource:  []string{"*"},
		Condition: map[string]map[string]any{
			"ArnLike":    {"aws:SourceArn": fmt.Sprintf("arn:aws:cloudfront::%s:distribution/*", accountID)},
			"StringLike": {"kms:EncryptionContext:aws:s3:arn": []string{frontendArn, frontendArn + "/*"}},
		},
	}
}
