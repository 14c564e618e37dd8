// Package serverless is the platform's asynchronous jobs (four Python Lambdas with their
// queues, topic and schedules) and its transactional email through SES.
package serverless

import (
	"fmt"

	"github.com/canalco/infra/env"
	"github.com/canalco/infra/security"
	"github.com/canalco/infra/settings"
	"github.com/canalco/infra/storage"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ServerlessArgs are the inputs of the serverless layer.
type ServerlessArgs struct {
	Env      env.Env
	Settings settings.Serverless
	Domain   settings.Domain
	// Timezone is the users' IANA time zone, in which the schedules run.
	Timezone string
	// From the storage layer: the data buckets by purpose and their key.
	Buckets       map[string]storage.Bucket
	StorageKeyArn pulumi.StringInput
	// AccessLogBucket receives the artifacts bucket's server access logs, once AccessLogsReady
	// (the log bucket and its policy) exist.
	AccessLogBucket string
	AccessLogsReady pulumi.Resource
	// BackendRoleArn is the backend application's role: it publishes domain events to the topic and
	// sends audit events and report requests to the queues.
	BackendRoleArn pulumi.StringInput
	// AppURL goes into emails as the link to the app.
	AppURL pulumi.StringInput
	// Recovery is what the recovery functions watch and validate.
	Recovery Recovery
	// Rotation is the database's master secret, which the rotation function rotates.
	Rotation Rotation
}

// Serverless is the serverless layer's output.
type Serverless struct {
	pulumi.ResourceState

	AuditQueueURL   pulumi.StringOutput
	ReportsQueueURL pulumi.StringOutput
	EventsTopicArn  pulumi.StringOutput
	// Names known before deployment, for alarms and dashboards.
	FunctionNames        []string
	QueueNames           []string
	DeadLetterQueueNames []string
	ConfigurationSet     string
	// KeyArn encrypts the queues, the topic and the functions' environment.
	KeyArn pulumi.StringOutput
	// EmailEventsTopicArn receives SES bounces, complaints, rejections, delivery delays and
	// rendering failures.
	EmailEventsTopicArn pulumi.StringOutput
	// DNSRecords are the records the email domain needs ("name TYPE value"), written to
	// Route 53 when the domain is in the stack's zone and to be created by hand otherwise.
	DNSRecords pulumi.StringArrayOutput
	// ArtifactsBucket holds every version of the functions' code.
	ArtifactsBucket string
	// RestoreCheckName and RestoreCheckArn are the function that validates the monthly restore
	// test (empty name and no ARN where restore testing is off).
	RestoreCheckName string
	RestoreCheckArn  pulumi.StringOutput
}

// NewServerless creates the serverless layer.
func NewServerless(ctx *pulumi.Context, name string, args *ServerlessArgs, opts ...pulumi.ResourceOption) (*Serverless, error) {
	s := &Serverless{}
	if err := ctx.RegisterComponentResource("canalco:serverless:Serverless", name, s, opts...); err != nil {
		return nil, err
	}
	if err := build(ctx, s, args); err != nil {
		return nil, fmt.Errorf("serverless: %w", err)
	}
	return s, ctx.RegisterResourceOutputs(s, pulumi.Map{
		"auditQueueUrl":       s.AuditQueueURL,
		"reportsQueueUrl":     s.ReportsQueueURL,
		"eventsTopicArn":      s.EventsTopicArn,
		"emailEventsTopicArn": s.EmailEventsTopicArn,
		"keyArn":              s.KeyArn,
		"dnsRecords":          s.DNSRecords,
		"functionNames":       pulumi.ToStringArray(s.FunctionNames),
		"configurationSet":    pulumi.String(s.ConfigurationSet),
		"artifactsBucket":     pulumi.String(s.ArtifactsBucket),
	})
}

// artifactNoncurrentDays is how long a replaced code package stays restorable.
const artifactNoncurrentDays = 90

// layer carries what the parts of the serverless layer share while it is built.
type layer struct {
	ctx    *pulumi.Context
	a      *ServerlessArgs
	parent pulumi.ResourceOption
	arn    arns
	key    *security.Key
}

func build(ctx *pulumi.Context, s *Serverless, a *ServerlessArgs) error {
	e := a.Env
	l := &layer{ctx: ctx, a: a, parent: pulumi.Parent(s), arn: arns{region: e.Region, account: e.AccountID}}
	for _, purpose := range []string{auditBucket, reportsBucket, tempBucket} {
		if _, ok := a.Buckets[purpose]; !ok {
			return fmt.Errorf("the storage layer has no %q bucket", purpose)
		}
	}

	var err error
	if l.key, err = l.newKey(); err != nil {
		return err
	}
	s.KeyArn = l.key.Arn

	artifacts, err := storage.NewPrivateBucket(ctx, storage.PrivateBucketArgs{
		Env:            e,
		Name:           e.Name("artifacts-" + e.AccountID + "-" + e.Region),
		Purpose:        "artifacts",
		KeyArn:         l.key.Arn,
		LogBucket:      a.AccessLogBucket,
		LogsReady:      a.AccessLogsReady,
		NoncurrentDays: artifactNoncurrentDays,
	}, l.parent)
	if err != nil {
		return err
	}
	s.ArtifactsBucket = artifacts.Name

	queues, err := l.newQueues()
	if err != nil {
		return err
	}
	events, err := newTopic(ctx, e, l.key.Arn, eventsTopic, nil, a.BackendRoleArn, l.parent)
	if err != nil {
		return err
	}

	mail, err := newEmail(ctx, e.Name("email"), &emailArgs{
		Env:      e,
		Settings: a.Settings,
		Domain:   a.Domain,
		KeyArn:   l.key.Arn,
	}, l.parent)
	if err != nil {
		return err
	}

	funcs := map[string]*Function{}
	for _, spec := range l.specs() {
		fa := &functionArgs{
			Env:         e,
			Spec:        spec,
			Policy:      l.policy(spec, mail),
			Environment: l.environment(spec, mail),
			KeyArn:      l.key.Arn,
			Code:        artifacts,
			Vpc:         l.vpcConfig(spec),
		}
		if spec.OnFailure != "" {
			fa.OnFailure = queues.byThing[spec.OnFailure].Arn
		}
		f, err := newFunction(ctx, e.Name(spec.Name), fa, l.parent)
		if err != nil {
			return err
		}
		funcs[spec.Name] = f
		s.FunctionNames = append(s.FunctionNames, f.Name)
	}
	if err := l.newDownloadRole(funcs[reportsFunction]); err != nil {
		return err
	}
	if err := l.newTriggers(funcs, queues, events); err != nil {
		return err
	}
	if err := l.rotateSecret(funcs[rotationFunction]); err != nil {
		return err
	}
	if f, ok := funcs[restoreCheckFunction]; ok {
		s.RestoreCheckName, s.RestoreCheckArn = f.Name, f.Arn
	}

	s.AuditQueueURL, s.ReportsQueueURL = queues.byThing[auditQueue].Url, queues.byThing[reportsQueue].Url
	s.QueueNames, s.DeadLetterQueueNames = queues.sources, queues.deadLetter
	s.EventsTopicArn = events.Arn
	s.EmailEventsTopicArn, s.ConfigurationSet, s.DNSRecords = mail.EventsTopicArn, mail.ConfigurationSet, mail.DNSRecords
	return nil
}

// newKey creates the layer's key: queues, topics, schedules, the functions' environment, the
// code bucket and the SMTP secret. The services that write to encrypted queues and topics on
// the account's behalf get its use; everyone else needs it in their own IAM policy.
func (l *layer) newKey() (*security.Key, error) {
	e := l.a.Env
	dataKey := []string{"kms:GenerateDataKey*", "kms:Decrypt"}
	return security.NewKey(l.ctx, e.Name("serverless"), &security.KeyArgs{
		Alias:       e.Name("serverless"),
		Description: "Encrypts the queues, topics, schedules, function settings and code of " + e.Prefix,
		AccountID:   e.AccountID,
		Statements: []security.Statement{
			// No condition keys: these services' KMS calls are not documented to carry
			// aws:SourceAccount, and a condition on a missing key would drop the bounces and
			// dead letters silently. The topic's and queue's policies confine the services.
			// SNS writes failed deliveries to the encrypted notifications DLQ.
			security.ServiceKeyUse("SnsUse", "sns.amazonaws.com", dataKey),
			// SES publishes bounces, complaints and rendering failures to the email-events topic.
			security.ServiceKeyUse("SesUse", "ses.amazonaws.com", dataKey),
			// EventBridge Scheduler keeps the schedules' input encrypted with it.
			security.ServiceKeyUse("SchedulerUse", "scheduler.amazonaws.com", dataKey),
			// The backend publishes and sends through SNS and SQS: any principal of this
			// account that SNS or SQS authorises may use the key through them, and only so.
			{
				Sid:       "AccountUseThroughSnsAndSqs",
				Effect:    "Allow",
				Principal: map[string]any{"AWS": "*"},
				Action:    dataKey,
				Resource:  []string{"*"},
				Condition: map[string]map[string]any{
					"StringEquals": {
						"kms:CallerAccount": e.AccountID,
						"kms:ViaService":    []string{"sns." + e.Region + ".amazonaws.com", "sqs." + e.Region + ".amazonaws.com"},
					},
				},
			},
		},
		Protect: e.Protected,
	}, l.parent)
}

// arns builds the ARNs of resources whose names are known before deployment, so policies can
// name them without waiting for them.
type arns struct{ region, account string }

func (a arns) queue(name string) string {
	return fmt.Sprintf("arn:aws:sqs:%s:%s:%s", a.region, a.account, name)
}

func (a arns) topic(name string) string {
	return fmt.Sprintf("arn:aws:sns:%s:%s:%s", a.region, a.account, name)
}

func (a arns) function(name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", a.region, a.account, name)
}

func (a arns) logGroup(name string) string {
	return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", a.region, a.account, name)
}

// ses is an SES resource: identity/<address or domain>, configuration-set/<name>, template/<name>.
func (a arns) ses(kind, name string) string {
	return fmt.Sprintf("arn:aws:ses:%s:%s:%s/%s", a.region, a.account, kind, name)
}

func bucketArn(name string) string { return "arn:aws:s3:::" + name }
