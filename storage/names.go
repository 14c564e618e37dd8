package storage

import "fmt"

// maxBucketName is S3's limit on bucket names.
const maxBucketName = 63

// shortPurposes are the abbreviations a bucket name falls back to when the full purpose
// would pass S3's 63 characters (a long stack name in a long region name). Fixed, so that a
// name never changes between runs.
var shortPurposes = map[string]string{
	"cotizaciones": "cot",
	"facturas":     "fac",
	"adjuntos":     "adj",
	"backups":      "bak",
	"auditoria":    "aud",
	"reportes":     "rep",
	"frontend":     "web",
	"logs":         "log",
}

// BucketName is the global, predictable name of a bucket:
// <prefix>-<purpose>-<account>-<region>, where the account and region make it unique across
// AWS and the purpose says what it holds. The purpose is abbreviated only when the full name
// would not fit.
func BucketName(prefix, purpose, accountID, region string) (string, error) {
	name := fmt.Sprintf("%s-%s-%s-%s", prefix, purpose, accountID, region)
	if len(name) <= maxBucketName {
		return name, nil
	}
	if short, ok := shortPurposes[purpose]; ok {
		name = fmt.Sprintf("%s-%s-%s-%s", prefix, short, accountID, region)
	}
	if len(name) > maxBucketName {
		return "", fmt.Errorf("bucket name %s is %d characters, S3 allows %d: use a shorter stack name", name, len(name), maxBucketName)
	}
	return name, nil
}
