package storage_test

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/security"
	"github.com/canalco/infra/storage"
)

// purposeOf is the purpose part of one of this stack's bucket names (canalco-<stack>).
func purposeOf(name, prefix string) string {
	rest := strings.TrimPrefix(name, prefix+"-")
	return rest[:strings.Index(rest, "-"+offline.AccountOf(strings.TrimPrefix(prefix, "canalco-"))+"-")]
}

// TestEveryBucketIsProtected walks every bucket of every stack, whichever layer made it, so a
// new bucket cannot skip a protection: public access block, ACLs disabled, encryption,
// versioning, a TLS-only policy, access logging into the log bucket and a lifecycle.
func TestEveryBucketIsProtected(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			prefix := "canalco-" + stack
			logs := fmt.Sprintf("%s-logs-%s-us-east-1", prefix, offline.AccountOf(stack))
			buckets := bucketsOf(res)
			if len(buckets) < len(storage.DocumentPurposes)+2 {
				t.Fatalf("%d buckets, want at least the %d data buckets, frontend and logs", len(buckets), len(storage.DocumentPurposes))
			}
			for name := range buckets {
				checkBucket(t, res, name, name != logs, logs)
			}
		})
	}
}

// checkBucket checks one bucket's protections; logged says it must log into logs.
func checkBucket(t *testing.T, res *offline.Result, name string, logged bool, logs string) {
	t.Helper()
	arn := "arn:aws:s3:::" + name
	pab := one(t, res, accessBlockType, name)
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		if !pab.Bool(k) {
			t.Errorf("%s: public access block %s is not true", name, k)
		}
	}
	if got := one(t, res, ownershipType, name).Str("rule.objectOwnership"); got != "BucketOwnerEnforced" {
		t.Errorf("%s: object ownership %q, want BucketOwnerEnforced (ACLs disabled)", name, got)
	}
	if got := one(t, res, versioningType, name).Str("versioningConfiguration.status"); got != "Enabled" {
		t.Errorf("%s: versioning %q", name, got)
	}
	sse := one(t, res, encryptionType, name)
	algorithm := sse.Str("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm")
	switch {
	case name == logs && algorithm != "AES256":
		t.Errorf("%s: encryption %q, want AES256 (load balancer logs need SSE-S3)", name, algorithm)
	case name != logs && (algorithm != "aws:kms" || !strings.HasPrefix(sse.Str("rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId"), "arn:aws:kms:") || !sse.Bool("rules.0.bucketKeyEnabled")):
		t.Errorf("%s: encryption %q with key %q, want aws:kms with a bucket key", name, algorithm, sse.Str("rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId"))
	}
	doc := parsePolicy(t, one(t, res, policyType, name).Str("policy"))
	deny := doc.Sid("DenyInsecureTransport")
	if deny == nil || deny.Effect != "Deny" || security.Strings(deny.Condition["Bool"]["aws:SecureTransport"])[0] != "false" ||
		!slices.Equal(deny.Resource, []string{arn, arn + "/*"}) || !slices.Equal(deny.Action, []string{"s3:*"}) {
		t.Errorf("%s: no TLS-only statement covering the bucket and its objects: %+v", name, deny)
	}
	for _, s := range doc.Statement {
		if s.Effect == "Allow" && (s.Principal["AWS"] == "*" || s.Principal["Service"] == nil && s.Principal["AWS"] == nil) {
			t.Errorf("%s: statement %s allows anyone", name, s.Sid)
		}
	}
	loggings := on(res, loggingType, name)
	switch {
	case logged && (len(loggings) != 1 || loggings[0].Str("targetBucket") != logs || !strings.HasPrefix(loggings[0].Str("targetPrefix"), "s3/")):
		t.Errorf("%s: server access logs do not go to %s under s3/", name, logs)
	case !logged && len(loggings) != 0:
		t.Errorf("%s: logs into %s", name, loggings[0].Str("targetBucket"))
	}
	rules := one(t, res, lifecycleType, name).List("rules")
	if len(rules) == 0 {
		t.Fatalf("%s: lifecycle without rules", name)
	}
	aborts := false
	for i := range rules {
		if n := one(t, res, lifecycleType, name).Num(fmt.Sprintf("rules.%d.abortIncompleteMultipartUpload.daysAfterInitiation", i)); n > 0 && n <= 7 {
			aborts = true
		}
	}
	if !aborts {
		t.Errorf("%s: no rule aborts incomplete multipart uploads within 7 days", name)
	}
}

// TestLifecycleDays checks the retention of each kind of bucket per environment.
func TestLifecycleDays(t *testing.T) {
	cases := []struct {
		stack                        string
		noncurrentDays, logDays      float64
		noncurrentToInstantRetrieval bool
	}{
		{"dev", 30, 30, false},
		{"staging", 90, 90, true},
		{"prod", 365, 365, true},
	}
	for _, c := range cases {
		t.Run(c.stack, func(t *testing.T) {
			res := offline.Stack(t, c.stack)
			prefix := "canalco-" + c.stack
			for name := range bucketsOf(res) {
				if !strings.HasPrefix(name, prefix+"-") || len(on(res, lifecycleType, name)) != 1 {
					continue
				}
				lc := one(t, res, lifecycleType, name)
				purpose := purposeOf(name, prefix)
				switch {
				case slices.Contains(storage.DocumentPurposes, purpose):
					// What the reports function reads must stay readable by GetObject: Glacier
					// Flexible Retrieval answers InvalidObjectState until a restore (S3 API
					// Reference, GetObject), Instant Retrieval answers like Standard.
					class := "GLACIER"
					if purpose == "auditoria" || purpose == "reportes" {
						class = "GLACIER_IR"
					}
					if lc.Str("rules.0.transitions.0.storageClass") != class || lc.Num("rules.0.transitions.0.days") != 365 {
						t.Errorf("%s: current versions go to %s after %v days, want %s after 365 (seed)", name, lc.Str("rules.0.transitions.0.storageClass"), lc.Num("rules.0.transitions.0.days"), class)
					}
					if got := lc.Num("rules.0.noncurrentVersionExpiration.noncurrentDays"); got != c.noncurrentDays {
						t.Errorf("%s: old versions expire after %v days, want %v", name, got, c.noncurrentDays)
					}
					moves := lc.Str("rules.0.noncurrentVersionTransitions.0.storageClass") == "GLACIER_IR" && lc.Num("rules.0.noncurrentVersionTransitions.0.noncurrentDays") == 30
					if moves != c.noncurrentToInstantRetrieval {
						t.Errorf("%s: old versions to Glacier Instant Retrieval at 30 days = %v, want %v", name, moves, c.noncurrentToInstantRetrieval)
					}
					tmp := len(lc.List("rules")) == 2 && lc.Str("rules.1.filter.prefix") == "tmp/" && lc.Num("rules.1.expiration.days") == 1
					if tmp != (purpose == "adjuntos") {
						t.Errorf("%s: tmp/ expires after a day = %v, want only on adjuntos", name, tmp)
					}
					// Generated reports expire; the exports beside them do not.
					reports := len(lc.List("rules")) == 2 && lc.Str("rules.1.filter.prefix") == storage.ReportsPrefix &&
						lc.Num("rules.1.expiration.days") == storage.ReportExpireDays && lc.Num("rules.1.noncurrentVersionExpiration.noncurrentDays") == 1
					if reports != (purpose == "reportes") {
						t.Errorf("%s: reports/ expires after %d days = %v, want only on reportes", name, storage.ReportExpireDays, reports)
					}
				case purpose == "logs":
					if got := lc.Num("rules.0.expiration.days"); got != c.logDays {
						t.Errorf("%s: logs expire after %v days, want %v", name, got, c.logDays)
					}
				case purpose == "frontend":
					if got := lc.Num("rules.0.noncurrentVersionExpiration.noncurrentDays"); got != 30 || len(lc.List("rules.0.transitions")) != 0 {
						t.Errorf("%s: replaced files expire after %v days (want 30), and nothing is archived", name, got)
					}
				}
			}
		})
	}
}

// TestStatefulBucketsAreKept: in staging and prod the data buckets, the log bucket, the frontend
// bucket (the live site) and the storage key survive a rename or `pulumi destroy` and cannot be
// emptied by it; dev can be torn down.
func TestStatefulBucketsAreKept(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			protected := stack != "dev"
			prefix := "canalco-" + stack
			for name, b := range bucketsOf(res) {
				if res.Ancestor(b, bucketsToken) == nil {
					continue
				}
				kept := protected
				if b.Protect != kept || b.RetainOnDelete != kept {
					t.Errorf("%s: protect %v retain %v, want %v", name, b.Protect, b.RetainOnDelete, kept)
				}
				if v := one(t, res, versioningType, name); v.Protect != kept {
					t.Errorf("%s: versioning protect %v, want %v", name, v.Protect, kept)
				}
				if b.Bool("forceDestroy") == protected {
					t.Errorf("%s: forceDestroy %v in %s", name, b.Bool("forceDestroy"), stack)
				}
			}
			key := res.Named(keyType, prefix+"-storage")
			if key == nil || key.Protect != protected || key.RetainOnDelete != protected {
				t.Errorf("storage key: %+v, want protected = %v", key, protected)
			}
		})
	}
}

// TestLogBucketGrantsOnlyLogWriters: the log bucket admits exactly the load balancer, S3 server
// access logging from this stack's buckets and CloudFront's log delivery, each to its prefix.
func TestLogBucketGrantsOnlyLogWriters(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			b, _ := lookupBuckets(t, res, stack)
			logsArn := "arn:aws:s3:::" + b["logs"]
			doc := parsePolicy(t, one(t, res, policyType, b["logs"]).Str("policy"))
			var allows []string
			for _, s := range doc.Statement {
				if s.Effect == "Allow" {
					allows = append(allows, s.Sid)
					if !slices.Equal(s.Action, []string{"s3:PutObject"}) {
						t.Errorf("%s grants %v, want only s3:PutObject", s.Sid, s.Action)
					}
				}
			}
			if want := []string{"LoadBalancerAccessLogs", "S3ServerAccessLogs", "CloudFrontAccessLogs"}; !slices.Equal(allows, want) {
				t.Fatalf("grants %v, want %v", allows, want)
			}
			alb := doc.Sid("LoadBalancerAccessLogs")
			if alb.Principal["AWS"] != "arn:aws:iam::127311923021:root" || alb.Resource[0] != logsArn+"/"+storage.AlbLogPrefix+"/AWSLogs/"+offline.AccountOf(stack)+"/*" {
				t.Errorf("load balancer grant: %+v, want us-east-1's ELB account on alb/AWSLogs/<account>/*", alb)
			}
			for _, lb := range res.OfType("aws:lb/loadBalancer:LoadBalancer") {
				if lb.Bool("accessLogs.enabled") && (lb.Str("accessLogs.bucket") != b["logs"] || lb.Str("accessLogs.prefix") != storage.AlbLogPrefix) {
					t.Errorf("load balancer %s logs to %s/%s, outside the grant", lb.Name, lb.Str("accessLogs.bucket"), lb.Str("accessLogs.prefix"))
				}
			}
			// Every bucket of the stack that logs here, whichever layer made it, is admitted.
			s3 := doc.Sid("S3ServerAccessLogs")
			pattern := security.Strings(s3.Condition["ArnLike"]["aws:SourceArn"])
			if s3.Principal["Service"] != "logging.s3.amazonaws.com" || s3.Resource[0] != logsArn+"/s3/*" || len(pattern) != 1 || s3.Condition["StringEquals"]["aws:SourceAccount"] != offline.AccountOf(stack) {
				t.Fatalf("server access logging grant: %+v, want logging.s3 on s3/* from this account's buckets", s3)
			}
			for _, l := range res.OfType(loggingType) {
				if l.Str("targetBucket") != b["logs"] {
					continue
				}
				if ok, _ := path.Match(pattern[0], "arn:aws:s3:::"+l.Str("bucket")); !ok || !strings.HasPrefix(l.Str("targetPrefix"), "s3/") {
					t.Errorf("%s logs to %s%s, which the grant (%s on s3/*) refuses", l.Str("bucket"), b["logs"], l.Str("targetPrefix"), pattern[0])
				}
			}
			cdn := doc.Sid("CloudFrontAccessLogs")
			source := single(t, res, deliverySource)
			wantSource := fmt.Sprintf("arn:aws:logs:us-east-1:%s:delivery-source:%s", offline.AccountOf(stack), source.Str("name"))
			if cdn.Principal["Service"] != "delivery.logs.amazonaws.com" || cdn.Condition["ArnLike"]["aws:SourceArn"] != wantSource ||
				len(cdn.Resource) != 1 || cdn.Condition["StringEquals"]["s3:x-amz-acl"] != "bucket-owner-full-control" {
				t.Errorf("CloudFront log grant: %+v, want delivery.logs from %s", cdn, wantSource)
			}
			// What CloudFront writes (the delivery's explicit suffix path, with the variables
			// of "Configure standard logging (v2)" filled in) is what the grant admits.
			suffix := single(t, res, deliveryType).Str("s3DeliveryConfigurations.0.suffixPath")
			if suffix == "" {
				t.Fatal("the CloudFront log delivery leaves its S3 path to the default")
			}
			written := strings.NewReplacer("{DistributionId}", "E2QWRUHEXAMPLE", "{yyyy}", "2026", "{MM}", "12", "{dd}", "02", "{HH}", "13").Replace(suffix)
			if strings.Contains(written, "{") {
				t.Errorf("suffix path %q uses a variable CloudFront does not document", suffix)
			}
			object := logsArn + "/" + written + "/E2QWRUHEXAMPLE.2026-12-02-13.abcd1234.gz"
			if !iamGlob(cdn.Resource[0], object) {
				t.Errorf("CloudFront writes %s, which the grant (%s) refuses", object, cdn.Resource[0])
			}
		})
	}
}

// iamGlob matches s against an IAM resource pattern: * is any run of characters, slashes
// included, and ? one character.
func iamGlob(pattern, s string) bool {
	re := strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern))
	return regexp.MustCompile("^" + re + "$").MatchString(s)
}

// lookupBuckets returns the storage layer's bucket names by purpose, checking each exists.
func lookupBuckets(t *testing.T, res *offline.Result, stack string) (map[string]string, map[string]*offline.Resource) {
	t.Helper()
	names, resources := map[string]string{}, map[string]*offline.Resource{}
	for _, purpose := range append(append([]string{}, storage.DocumentPurposes...), "frontend", "logs") {
		name, err := storage.BucketName("canalco-"+stack, purpose, offline.AccountOf(stack), "us-east-1")
		if err != nil {
			t.Fatal(err)
		}
		b := bucketsOf(res)[name]
		if b == nil || res.Ancestor(b, bucketsToken) == nil {
			t.Fatalf("no %s bucket %s in the storage layer", purpose, name)
		}
		names[purpose], resources[purpose] = name, b
	}
	return names, resources
}

// TestStorageKeyLetsCloudFrontReadOnlyTheFrontend: CloudFront may decrypt with the storage key
// only for this account's distributions and only objects of the frontend bucket.
func TestStorageKeyLetsCloudFrontReadOnlyTheFrontend(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			b, _ := lookupBuckets(t, res, stack)
			key := res.Named(keyType, "canalco-"+stack+"-storage")
			if key == nil || !key.Bool("enableKeyRotation") {
				t.Fatalf("storage key missing or without rotation")
			}
			doc := parsePolicy(t, key.Str("policy"))
			cf := doc.Sid("CloudFrontReadsFrontend")
			frontend := "arn:aws:s3:::" + b["frontend"]
			if cf == nil || !slices.Equal(cf.Action, []string{"kms:Decrypt"}) ||
				cf.Condition["ArnLike"]["aws:SourceArn"] != "arn:aws:cloudfront::"+offline.AccountOf(stack)+":distribution/*" ||
				!slices.Equal(security.Strings(cf.Condition["StringLike"]["kms:EncryptionContext:aws:s3:arn"]), []string{frontend, frontend + "/*"}) {
				t.Errorf("CloudFront key grant: %+v", cf)
			}
			alias := res.Named(aliasType, "canalco-"+stack+"-storage")
			if alias == nil || alias.Str("name") != "alias/canalco-"+stack+"-storage" {
				t.Errorf("storage key alias: %+v", alias)
			}
		})
	}
}

// TestAuditDaysTakeTheCheapestClass: a day of the audit log leaves Standard for Glacier Instant
// Retrieval after a month only when it is over Instant Retrieval's 128 KB billing minimum (S3
// User Guide, "Constraints and considerations for transitions"); no rule of any bucket moves a
// smaller object.
func TestAuditDaysTakeTheCheapestClass(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			for _, lc := range res.OfType(lifecycleType) {
				if got := lc.Str("transitionDefaultMinimumObjectSize"); got != "all_storage_classes_128K" {
					t.Errorf("%s: transitionDefaultMinimumObjectSize %q, want all_storage_classes_128K", lc.Str("bucket"), got)
				}
			}
			audit := one(t, res, lifecycleType, "canalco-"+stack+"-auditoria-"+offline.AccountOf(stack)+"-us-east-1")
			var found bool
			for i := range audit.List("rules") {
				rule := func(path string) string { return audit.Str(fmt.Sprintf("rules.%d.%s", i, path)) }
				if rule("id") != "audit-days" {
					continue
				}
				found = true
				n := func(path string) float64 { return audit.Num(fmt.Sprintf("rules.%d.%s", i, path)) }
				if rule("filter.and.prefix") != storage.AuditArchivePrefix || n("filter.and.objectSizeGreaterThan") != 128*1024 ||
					rule("transitions.0.storageClass") != "GLACIER_IR" || n("transitions.0.days") != 30 {
					t.Errorf("audit-days: prefix %q, over %v bytes, to %s after %v days; want %s, 131072, GLACIER_IR, 30",
						rule("filter.and.prefix"), n("filter.and.objectSizeGreaterThan"), rule("transitions.0.storageClass"),
						n("transitions.0.days"), storage.AuditArchivePrefix)
				}
			}
			if !found {
				t.Error("the audit bucket has no audit-days rule")
			}
		})
	}
}
