package storage_test

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/storage"
)

var bucketCharset = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`)

// s3NameProblem returns why S3 would refuse a general purpose bucket name, or "".
func s3NameProblem(name string) string {
	switch {
	case len(name) < 3 || len(name) > 63:
		return "must be 3 to 63 characters"
	case !bucketCharset.MatchString(name):
		return "lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit"
	case strings.Contains(name, ".."):
		return "no two adjacent dots"
	case net.ParseIP(name) != nil:
		return "not an IP address"
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return "reserved prefix " + p
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return "reserved suffix " + s
		}
	}
	return ""
}

// TestBucketNamesFollowS3Rules checks every bucket name of every stack.
func TestBucketNamesFollowS3Rules(t *testing.T) {
	for _, stack := range offline.Stacks {
		res := offline.Stack(t, stack)
		for name := range bucketsOf(res) {
			if p := s3NameProblem(name); p != "" {
				t.Errorf("%s: bucket %q: %s", stack, name, p)
			}
		}
	}
}

// TestBucketNameFitsEveryStackAndRegion: the longest stack name the settings accept (10
// characters) in the longest region names still gets a valid name; a prefix that cannot fit
// even abbreviated is refused rather than truncated.
func TestBucketNameFitsEveryStackAndRegion(t *testing.T) {
	purposes := append(append([]string{}, storage.DocumentPurposes...), "frontend", "logs")
	cases := []struct {
		prefix, region string
		want           string // the cotizaciones bucket; "" expects an error
	}{
		{"canalco-staging", "ap-southeast-2", "canalco-staging-cotizaciones-123456789012-ap-southeast-2"},
		{"canalco-abcdefghij", "ap-northeast-3", "canalco-abcdefghij-cotizaciones-123456789012-ap-northeast-3"},
		// A longer project prefix overflows: the purpose is abbreviated, the same way every run.
		{"canalcoplatform-abcdefghij", "ap-southeast-2", "canalcoplatform-abcdefghij-cot-123456789012-ap-southeast-2"},
		{"canalco-platform-of-the-company-x", "ap-southeast-2", ""},
	}
	for _, c := range cases {
		t.Run(c.prefix+"/"+c.region, func(t *testing.T) {
			for _, purpose := range purposes {
				name, err := storage.BucketName(c.prefix, purpose, "123456789012", c.region)
				if c.want == "" {
					if err == nil {
						t.Errorf("%s: accepted %q (%d characters)", purpose, name, len(name))
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", purpose, err)
				}
				if p := s3NameProblem(name); p != "" {
					t.Errorf("%s: %q: %s", purpose, name, p)
				}
				if purpose == "cotizaciones" && name != c.want {
					t.Errorf("cotizaciones: %q, want %q", name, c.want)
				}
			}
		})
	}
}

// nameRule is an AWS limit on the name of a resource type.
type nameRule struct {
	field   string
	max     int
	pattern *regexp.Regexp
}

var nameRules = map[string]nameRule{
	aliasType:           {"name", 256, regexp.MustCompile(`^alias/[a-zA-Z0-9/_-]+$`)},
	oacType:             {"name", 64, regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)},
	functionType:        {"name", 64, regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)},
	headersType:         {"name", 128, regexp.MustCompile(`^[A-Za-z0-9_-]+$`)},
	webACLType:          {"name", 128, regexp.MustCompile(`^[\w-]+$`)},
	deliverySource:      {"name", 60, regexp.MustCompile(`^[\w-]+$`)},
	deliveryDest:        {"name", 60, regexp.MustCompile(`^[\w-]+$`)},
	"aws:iam/role:Role": {"name", 64, regexp.MustCompile(`^[\w+=,.@-]+$`)},
}

// TestNamesWithinServiceLimits checks every name this layer sets against its service's rules,
// with the backup replica (and its role) turned on.
func TestNamesWithinServiceLimits(t *testing.T) {
	results := map[string]*offline.Result{}
	for _, stack := range offline.Stacks {
		results[stack] = offline.Stack(t, stack)
	}
	results["prod+replica"] = withReplica(t)
	for label, res := range results {
		for _, r := range res.Resources {
			rule, ok := nameRules[r.Type]
			if !ok || (res.Ancestor(r, bucketsToken) == nil && res.Ancestor(r, cdnToken) == nil) {
				continue
			}
			if name := r.Str(rule.field); len(name) > rule.max || !rule.pattern.MatchString(name) {
				t.Errorf("%s: %s name %q breaks the limit (%d, %s)", label, r.Type, name, rule.max, rule.pattern)
			}
		}
		for _, r := range res.OfType(webACLType) {
			for i := range r.List("rules") {
				if m := r.Str(fmt.Sprintf("rules.%d.visibilityConfig.metricName", i)); len(m) > 255 || !regexp.MustCompile(`^[\w#:.\-/]+$`).MatchString(m) {
					t.Errorf("%s: WAF metric name %q", label, m)
				}
			}
		}
	}
}
