package serverless

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/canalco/infra/security"
	"github.com/canalco/infra/storage"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The storage layer's buckets the functions use, by purpose.
const (
	auditBucket   = "auditoria"
	reportsBucket = "reportes"
	tempBucket    = "adjuntos"
)

// Key prefixes inside those buckets (the handlers' contract, serverless/functions/README.md).
const (
	AuditPrefix   = "audit/"
	ReportsPrefix = storage.ReportsPrefix
	ExportsPrefix = "exports/"
	TempPrefix    = "tmp/"
)

// Job settings passed to the functions.
const (
	MetricNamespace = "Canalco/Business"
	TempMaxAgeHours = 24
)

// exportReports are the reports built from the backend's exports (the third, audit, reads the
// audit log).
var exportReports = []string{"requisitions", "orders"}

// XRayActions send traces. X-Ray has no resource-level permissions for them: the one place a
// function's policy names Resource "*".
var XRayActions = []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}

// queueConsumer is what an SQS event source mapping needs of the function's role.
var queueConsumer = []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}

// policy is a function's inline policy: exactly the queues, objects, templates and keys its
// handler uses (serverless/functions/README.md, "IAM").
func (l *layer) policy(spec functionSpec, mail *Email) pulumi.StringOutput {
	return pulumi.All(l.key.Arn, l.a.StorageKeyArn, mail.SMTPSecretArn, l.a.Rotation.SecretArn, l.a.Rotation.KeyArn).ApplyT(func(v []any) string {
		st := l.statements(spec, mail, v[0].(string), v[1].(string), v[2].(string))
		if spec.Name == rotationFunction {
			st = append(st, l.rotationStatements(v[3].(string), v[4].(string))...)
		}
		return security.Document(st...)
	}).(pulumi.StringOutput)
}

func (l *layer) statements(spec functionSpec, mail *Email, key, storageKey, smtpSecret string) []security.Statement {
	e := l.a.Env
	name := e.Name(spec.Name)
	st := []security.Statement{
		// The log group exists already: no logs:CreateLogGroup.
		security.Allow("Logs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, []string{l.arn.logGroup(LogGroupName(name)) + ":*"}),
		security.Allow("Traces", XRayActions, []string{"*"}),
	}
	// Decrypt: the environment, the messages of the encrypted queues and the SMTP secret.
	keyActions := []string{"kms:Decrypt"}
	if spec.OnFailure != "" {
		st = append(st, security.Allow("OnFailure", []string{"sqs:SendMessage"}, []string{l.arn.queue(e.Name(spec.OnFailure))}))
		keyActions = append(keyActions, "kms:GenerateDataKey")
	}
	st = append(st, security.Allow("LayerKey", keyActions, []string{key}))
	for _, src := range sourceQueues {
		if src.Function == spec.Name {
			st = append(st, security.Allow("Queue", queueConsumer, []string{l.arn.queue(e.Name(src.Thing))}))
		}
	}

	audit := bucketArn(l.a.Buckets[auditBucket].Name)
	reports := bucketArn(l.a.Buckets[reportsBucket].Name)
	temp := bucketArn(l.a.Buckets[tempBucket].Name)
	switch spec.Name {
	case notificationsFunction:
		if l.a.Settings.Transport == "smtp" {
			st = append(st, security.Allow("SmtpSecret", []string{"secretsmanager:GetSecretValue"}, []string{smtpSecret}))
		} else {
			// Every template but the reports function's own.
			st = append(st, l.sendEmail(mail, slices.DeleteFunc(slices.Clone(mail.TemplateNames), func(n string) bool {
				return n == mail.TemplatePrefix+reportTemplate
			})))
		}
	case auditFunction:
		st = append(st,
			security.Allow("WriteAuditLog", []string{"s3:PutObject"}, []string{audit + "/" + AuditPrefix + "*"}),
			security.Allow("StorageKey", []string{"kms:GenerateDataKey"}, []string{storageKey}),
		)
	case cleanupFunction:
		// It folds each past day's objects (live, and archive copies of the former layout)
		// into the day's one archive object.
		live, archive := AuditPrefix+"year=*", AuditPrefix+"archive/*"
		st = append(st,
			listPrefixes("ListTemporary", temp, TempPrefix+"*"),
			listPrefixes("ListAuditLog", audit, live, archive),
			security.Allow("DeleteExpired", []string{"s3:DeleteObject"}, []string{temp + "/" + TempPrefix + "*", audit + "/" + live, audit + "/" + archive}),
			security.Allow("ReadAuditLog", []string{"s3:GetObject"}, []string{audit + "/" + live, audit + "/" + archive}),
			security.Allow("WriteArchive", []string{"s3:PutObject"}, []string{audit + "/" + archive}),
			security.Allow("StorageKey", []string{"kms:Decrypt", "kms:GenerateDataKey"}, []string{storageKey}),
		)
	case recoveryFunction, restoreCheckFunction:
		st = append(st, l.recoveryStatements(spec)...)
	case reportsFunction:
		var exportPrefixes, exportObjects []string
		for _, r := range exportReports {
			exportPrefixes = append(exportPrefixes, ExportsPrefix+r+"/*")
			exportObjects = append(exportObjects, reports+"/"+ExportsPrefix+r+"/*")
		}
		st = append(st,
			listPrefixes("ListExports", reports, exportPrefixes...),
			listPrefixes("ListAuditLog", audit, AuditPrefix+"year=*", AuditPrefix+"archive/*"),
			security.Allow("ReadSources", []string{"s3:GetObject"}, append(exportObjects,
				audit+"/"+AuditPrefix+"year=*", audit+"/"+AuditPrefix+"archive/*")),
			security.Allow("WriteReports", []string{"s3:PutObject"}, []string{reports + "/" + ReportsPrefix + "*"}),
			// The emailed link is signed by the download role (links.go), never by this one.
			security.Allow("SignLinks", []string{"sts:AssumeRole"}, []string{l.arn.role(e.Name(downloadRole))}),
			security.Allow("StorageKey", []string{"kms:Decrypt", "kms:GenerateDataKey"}, []string{storageKey}),
			// Reports always go out through SES, whatever the notifications' transport.
			l.sendEmail(mail, []string{mail.TemplatePrefix + reportTemplate}),
		)
	}
	return st
}

// reportTemplate is the template of the reports function: it names the report, its format and
// when its link stops working.
const reportTemplate = "reporte-generado"

// sendEmail lets a function send, from the stack's sender only, with the configuration set and
// the templates it uses. While an account is in the SES sandbox (every new account, until AWS
// grants production access) SES also authorises each recipient, which must be a verified
// identity of the account: every stack may send to those, so staging and prod can be tested
// before production access. Outside the sandbox the recipient is not authorised at all, and
// ses:FromAddress still pins the sender.
func (l *layer) sendEmail(mail *Email, templates []string) security.Statement {
	resources := []string{
		l.arn.ses("identity", mail.Identity), l.arn.ses("configuration-set", mail.ConfigurationSet),
		l.arn.ses("identity", "*"),
	}
	for _, t := range templates {
		resources = append(resources, l.arn.ses("template", t))
	}
	return security.Statement{
		Sid:       "SendEmail",
		Effect:    "Allow",
		Action:    []string{"ses:SendEmail"}, // SES v2's SendEmail, templated or not
		Resource:  resources,
		Condition: map[string]map[string]any{"StringEquals": {"ses:FromAddress": l.a.Settings.Sender}},
	}
}

// listPrefixes allows listing a bucket under some prefixes only.
func listPrefixes(sid, bucket string, prefixes ...string) security.Statement {
	return security.Statement{
		Sid:       sid,
		Effect:    "Allow",
		Action:    []string{"s3:ListBucket"},
		Resource:  []string{bucket},
		Condition: map[string]map[string]any{"StringLike": {"s3:prefix": prefixes}},
	}
}

// environment is a function's configuration. No secret goes here: the SMTP password is read
// from Secrets Manager by ARN.
func (l *layer) environment(spec functionSpec, mail *Email) pulumi.StringMap {
	a := l.a
	vars := pulumi.StringMap{
		"ENVIRONMENT":      pulumi.String(string(a.Env.Environment)),
		"METRIC_NAMESPACE": pulumi.String(MetricNamespace),
	}
	set := func(kv ...string) {
		for i := 0; i < len(kv); i += 2 {
			vars[kv[i]] = pulumi.String(kv[i+1])
		}
	}
	email := func() {
		set("SENDER", a.Settings.Sender, "CONFIGURATION_SET", mail.ConfigurationSet, "TEMPLATE_PREFIX", mail.TemplatePrefix)
	}
	audit := a.Buckets[auditBucket].Name
	switch spec.Name {
	case notificationsFunction:
		email()
		set("EMAIL_TRANSPORT", a.Settings.Transport)
		// Links in emails must be https on this host; others are replaced by it.
		vars["APP_URL"] = a.AppURL
		if a.Settings.Transport == "smtp" {
			vars["SMTP_SECRET_ARN"] = mail.SMTPSecretArn
		}
	case auditFunction:
		set("AUDIT_BUCKET", audit, "AUDIT_PREFIX", AuditPrefix, "TIMEZONE", a.Timezone)
		vars["KMS_KEY_ARN"] = a.StorageKeyArn
	case cleanupFunction:
		temp, _ := json.Marshal([]string{a.Buckets[tempBucket].Name + "/" + TempPrefix})
		set("TEMP_PREFIXES", string(temp), "TEMP_MAX_AGE_HOURS", strconv.Itoa(TempMaxAgeHours),
			"AUDIT_BUCKET", audit, "AUDIT_PREFIX", AuditPrefix, "TIMEZONE", a.Timezone)
		vars["KMS_KEY_ARN"] = a.StorageKeyArn
	case recoveryFunction, restoreCheckFunction:
		l.recoveryEnvironment(spec, vars)
	case rotationFunction:
		set("CA_BUNDLE_URL", CABundleURL(a.Env.Region))
	case reportsFunction:
		email()
		// MAX_RECEIVE_COUNT: the last delivery of a request e-mails its failure to the requester.
		set("REPORTS_BUCKET", a.Buckets[reportsBucket].Name, "REPORTS_PREFIX", ReportsPrefix, "EXPORTS_PREFIX", ExportsPrefix,
			"AUDIT_BUCKET", audit, "AUDIT_PREFIX", AuditPrefix, "TIMEZONE", a.Timezone, "MAX_RECEIVE_COUNT", strconv.Itoa(MaxReceiveCount))
		set(l.linkEnvironment()...)
		vars["KMS_KEY_ARN"] = a.StorageKeyArn
	}
	return vars
}
