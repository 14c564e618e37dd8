package serverless

import (
	"strconv"

	"github.com/canalco/infra/security"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// LinkTTLSeconds is how long an emailed report link works. A presigned URL stops working when
// the credentials that signed it expire (S3 User Guide, "Download and upload objects with
// presigned URLs"), and Lambda states no lifetime for a function's own credentials. So the
// reports function assumes the download role for each link and signs with credentials whose
// expiry STS states; a role assumed by a role lasts at most one hour (IAM User Guide, "Role
// chaining"), which is the longest promise the email can keep.
const LinkTTLSeconds = 3600

// downloadRole is the role whose credentials sign the report links: it can read generated
// reports and nothing else, so a leaked link can open no other object.
const downloadRole = "report-links"

// linkSessionPrefix starts the session name of every link (serverless/functions/reports/handler.py).
const linkSessionPrefix = "report-link-"

func (a arns) role(name string) string { return "arn:aws:iam::" + a.account + ":role/" + name }

// newDownloadRole creates the download role, trusted by the reports function's role only.
func (l *layer) newDownloadRole(reports *Function) error {
	e := l.a.Env
	name := e.Name(downloadRole)
	role, err := iam.NewRole(l.ctx, name, &iam.RoleArgs{
		Name:               pulumi.String(name),
		Description:        pulumi.String("Signs the report links that " + reports.Name + " emails"),
		MaxSessionDuration: pulumi.Int(LinkTTLSeconds),
		AssumeRolePolicy: reports.RoleArn.ApplyT(func(arn string) string {
			return security.Document(security.Statement{
				Sid: "ReportsFunction", Effect: "Allow", Action: []string{"sts:AssumeRole"},
				Principal: map[string]any{"AWS": arn},
				// The handler names every session report-link-<random>: CloudTrail shows each
				// link's session, and nothing else of that role may sign in here.
				Condition: map[string]map[string]any{"StringLike": {"sts:RoleSessionName": linkSessionPrefix + "*"}},
			})
		}).(pulumi.StringOutput),
	}, pulumi.Parent(reports))
	if err != nil {
		return err
	}
	reportsObjects := bucketArn(l.a.Buckets[reportsBucket].Name) + "/" + ReportsPrefix + "*"
	_, err = iam.NewRolePolicy(l.ctx, name, &iam.RolePolicyArgs{
		Name: pulumi.String("read-reports"),
		Role: role.ID(),
		Policy: l.a.StorageKeyArn.ToStringOutput().ApplyT(func(key string) string {
			return security.Document(
				security.Allow("ReadReports", []string{"s3:GetObject"}, []string{reportsObjects}),
				// The reports are SSE-KMS: a download decrypts with the storage key.
				security.Allow("StorageKey", []string{"kms:Decrypt"}, []string{key}),
			)
		}).(pulumi.StringOutput),
	}, pulumi.Parent(reports))
	return err
}

// linkEnvironment is what the reports function needs to sign links.
func (l *layer) linkEnvironment() []string {
	return []string{"DOWNLOAD_ROLE_ARN", l.arn.role(l.a.Env.Name(downloadRole)), "LINK_TTL_SECONDS", strconv.Itoa(LinkTTLSeconds)}
}
