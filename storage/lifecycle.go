package storage

import (
	"slices"

	"github.com/canalco/infra/settings"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	// abortUploadDays frees the parts of multipart uploads that never completed.
	abortUploadDays = 7
	// noncurrentInstantDays is when an old version of a document leaves S3 Standard for Glacier
	// Instant Retrieval: still readable in milliseconds for a restore, at a sixth of the price.
	noncurrentInstantDays = 30
	// frontendNoncurrentDays keeps old builds long enough to roll back a release by hand.
	frontendNoncurrentDays = 30
	// tmpPrefix holds unfinished uploads of attachments (the backend moves or deletes them).
	tmpPrefix = "tmp/"
	// tmpExpireDays is how long an abandoned temporary attachment survives.
	tmpExpireDays = 1
	// ReportsPrefix holds the generated reports in the reportes bucket (the reports function
	// writes there); they expire after ReportExpireDays: their links last an hour, and a
	// report is built again on request.
	ReportsPrefix    = "reports/"
	ReportExpireDays = 7
	// AuditArchivePrefix holds the audit log's day objects, one per day, written by the
	// clean-up function once the day is over (serverless/functions/README.md, "audit").
	AuditArchivePrefix = "audit/archive/"
	// auditInstantDays is when a day of the audit log leaves S3 Standard for Glacier Instant
	// Retrieval: after its first month a day is rarely reported on, and Instant Retrieval costs
	// about a sixth of Standard ($0.004 against $0.023 per GB-month) while GetObject still reads
	// it in milliseconds (the reports read it) for $0.03 per GB.
	auditInstantDays = 30
	// instantMinimumBytes is Glacier Instant Retrieval's billing minimum: a smaller object is
	// charged as 128 KB, which costs more than keeping it in Standard.
	instantMinimumBytes = 128 * 1024
	// smallObjectsStay is S3's default since 2024, stated: no rule moves an object under
	// 128 KB to another class (dev's small days of audit stay in Standard).
	smallObjectsStay = "all_storage_classes_128K"
)

// reportSources are the buckets the reports function reads, whatever the age of the data: their
// archive class is Glacier Instant Retrieval, which GetObject reads like Standard, where
// Glacier Flexible Retrieval would fail every read with InvalidObjectState until a restore.
var reportSources = []string{"auditoria", "reportes"}

type lifecycleRules = s3.BucketLifecycleConfigurationV2RuleArray

// everything is the filter of a rule that applies to the whole bucket.
func everything() *s3.BucketLifecycleConfigurationV2RuleFilterArgs {
	return &s3.BucketLifecycleConfigurationV2RuleFilterArgs{}
}

func abortUploads() *s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs {
	return &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{DaysAfterInitiation: pulumi.Int(abortUploadDays)}
}

func expireNoncurrent(days int) *s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs {
	return &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{NoncurrentDays: pulumi.Int(days)}
}

// documentLifecycle is the seed's rule for the data buckets: documents move to Glacier after
// glacierAfterDays (one year); a replaced or deleted version stays restorable for
// noncurrentVersionExpireDays, in Glacier Instant Retrieval after its first month when it
// is kept longer than that.
func documentLifecycle(st settings.Storage, purpose string) lifecycleRules {
	archiveClass := "GLACIER"
	if slices.Contains(reportSources, purpose) {
		archiveClass = "GLACIER_IR"
	}
	archive := &s3.BucketLifecycleConfigurationV2RuleArgs{
		Id:     pulumi.String("archive"),
		Status: pulumi.String("Enabled"),
		Filter: everything(),
		Transitions: s3.BucketLifecycleConfigurationV2RuleTransitionArray{&s3.BucketLifecycleConfigurationV2RuleTransitionArgs{
			Days: pulumi.Int(st.GlacierAfterDays), StorageClass: pulumi.String(archiveClass),
		}},
		NoncurrentVersionExpiration:    expireNoncurrent(st.NoncurrentExpireDays),
		AbortIncompleteMultipartUpload: abortUploads(),
		// A delete marker whose versions have all expired only costs a list entry.
		Expiration: &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{ExpiredObjectDeleteMarker: pulumi.Bool(true)},
	}
	// S3 requires a version to expire after it transitions, so short retentions skip the move.
	if st.NoncurrentExpireDays > noncurrentInstantDays {
		archive.NoncurrentVersionTransitions = s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionTransitionArray{&s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionTransitionArgs{
			NoncurrentDays: pulumi.Int(noncurrentInstantDays), StorageClass: pulumi.String("GLACIER_IR"),
		}}
	}
	rules := lifecycleRules{archive}
	if purpose == "reportes" {
		rules = append(rules, expirePrefix("generated-reports", ReportsPrefix, ReportExpireDays, 1))
	}
	if purpose == "auditoria" {
		rules = append(rules, &s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:     pulumi.String("audit-days"),
			Status: pulumi.String("Enabled"),
			Filter: &s3.BucketLifecycleConfigurationV2RuleFilterArgs{And: &s3.BucketLifecycleConfigurationV2RuleFilterAndArgs{
				Prefix: pulumi.String(AuditArchivePrefix), ObjectSizeGreaterThan: pulumi.Int(instantMinimumBytes),
			}},
			Transitions: s3.BucketLifecycleConfigurationV2RuleTransitionArray{&s3.BucketLifecycleConfigurationV2RuleTransitionArgs{
				Days: pulumi.Int(auditInstantDays), StorageClass: pulumi.String("GLACIER_IR"),
			}},
		})
	}
	if purpose == "adjuntos" {
		rules = append(rules, expirePrefix("temporary-uploads", tmpPrefix, tmpExpireDays, tmpExpireDays))
	}
	return rules
}

// logLifecycle deletes access logs after logExpireDays. Log objects are never overwritten,
// so their only noncurrent versions are the ones the expiration itself leaves behind.
func logLifecycle(st settings.Storage) lifecycleRules {
	return lifecycleRules{&s3.BucketLifecycleConfigurationV2RuleArgs{
		Id:                             pulumi.String("expire-logs"),
		Status:                         pulumi.String("Enabled"),
		Filter:                         everything(),
		Expiration:                     &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(st.LogExpireDays)},
		NoncurrentVersionExpiration:    expireNoncurrent(1),
		AbortIncompleteMultipartUpload: abortUploads(),
	}}
}

// frontendLifecycle keeps the current build forever and replaced files for a month.
func frontendLifecycle() lifecycleRules {
	return lifecycleRules{&s3.BucketLifecycleConfigurationV2RuleArgs{
		Id:                             pulumi.String("old-builds"),
		Status:                         pulumi.String("Enabled"),
		Filter:                         everything(),
		NoncurrentVersionExpiration:    expireNoncurrent(frontendNoncurrentDays),
		AbortIncompleteMultipartUpload: abortUploads(),
		Expiration:                     &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{ExpiredObjectDeleteMarker: pulumi.Bool(true)},
	}}
}

// expirePrefix deletes the objects under prefix after days, and their old versions after
// noncurrentDays.
func expirePrefix(id, prefix string, days, noncurrentDays int) *s3.BucketLifecycleConfigurationV2RuleArgs {
	return &s3.BucketLifecycleConfigurationV2RuleArgs{
		Id:                          pulumi.String(id),
		Status:                      pulumi.String("Enabled"),
		Filter:                      &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String(prefix)},
		Expiration:                  &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(days)},
		NoncurrentVersionExpiration: expireNoncurrent(noncurrentDays),
	}
}
