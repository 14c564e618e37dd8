package serverless

import (
	"embed"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/canalco/infra/env"
	"github.com/canalco/infra/security"
	"github.com/canalco/infra/settings"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ses"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sesv2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// EmailEventTypes are the SES events the configuration set publishes to the email-events topic:
// what needs a person's attention. Deliveries and sends are left to SES's own metrics. A
// rendering failure is an email SES accepted and then dropped because its template data
// lacked a variable: the send call itself succeeded.
var EmailEventTypes = []string{"BOUNCE", "COMPLAINT", "REJECT", "DELIVERY_DELAY", "RENDERING_FAILURE"}

// EmailMetricEventTypes are the events the configuration set also counts as CloudWatch metrics
// (namespace AWS/SES, metric RenderingFailure), which an alarm watches.
var EmailMetricEventTypes = []string{"RENDERING_FAILURE"}

// EmailMetricDimension is the CloudWatch dimension of the configuration set's metrics: SES's
// auto-tag ses:configuration-set, whose value is the configuration set's name (SES Developer
// Guide, "Set up a CloudWatch event destination for event publishing").
const EmailMetricDimension = "ses:configuration-set"

// SuppressedReasons put an address on the suppression list (seed: "Supresión de bounces
// automática").
var SuppressedReasons = []string{"BOUNCE", "COMPLAINT"}

// MailFromSubdomain is the custom MAIL FROM domain under the email domain: bounces return
// there, and its SPF record is SES's alone, apart from the domain's own SPF.
const MailFromSubdomain = "mail"

// dnsTTL is short so that a wrong record can be fixed quickly.
const dnsTTL = 300

//go:embed templates/*.json
var templateFiles embed.FS

// Template is an SES email template: Handlebars subject, HTML and text parts.
type Template struct {
	Subject string `json:"subject"`
	HTML    string `json:"html"`
	Text    string `json:"text"`
}

// Templates are the templates of serverless/templates, by name (the file name without .json).
func Templates() (map[string]Template, error) {
	entries, err := templateFiles.ReadDir("templates")
	if err != nil {
		return nil, err
	}
	out := map[string]Template{}
	for _, entry := range entries {
		data, err := templateFiles.ReadFile(path.Join("templates", entry.Name()))
		if err != nil {
			return nil, err
		}
		var t Template
		if err := json.Unmarshal(data, &t); err != nil || t.Subject == "" || t.HTML == "" || t.Text == "" {
			return nil, fmt.Errorf("template %s: want subject, html and text (%v)", entry.Name(), err)
		}
		out[strings.TrimSuffix(entry.Name(), ".json")] = t
	}
	return out, nil
}

// emailArgs describe the stack's email.
type emailArgs struct {
	Env      env.Env
	Settings settings.Serverless
	Domain   settings.Domain
	KeyArn   pulumi.StringInput
}

// Email is SES for the stack: the sending identity, its DNS, the configuration set, the
// templates, and the SMTP secret when the notifications go through Microsoft 365.
type Email struct {
	pulumi.ResourceState

	// Identity is the verified domain, or the sender address in a stack without a domain.
	Identity         string
	ConfigurationSet string
	// TemplatePrefix starts every template name: canalco-<stack>-.
	TemplatePrefix string
	TemplateNames  []string
	EventsTopicArn pulumi.StringOutput
	DNSRecords     pulumi.StringArrayOutput
	// SMTPSecretArn is set when Settings.Transport is smtp.
	SMTPSecretArn pulumi.StringOutput
}

// dnsRecord is one record the identity needs.
type dnsRecord struct {
	logical     string
	name, value pulumi.StringOutput
	kind        string
}

func newEmail(ctx *pulumi.Context, name string, a *emailArgs, opts ...pulumi.ResourceOption) (*Email, error) {
	m := &Email{ConfigurationSet: a.Env.Prefix, TemplatePrefix: a.Env.Prefix + "-"}
	if err := ctx.RegisterComponentResource("canalco:serverless:Email", name, m, opts...); err != nil {
		return nil, err
	}
	if err := m.build(ctx, name, a); err != nil {
		return nil, fmt.Errorf("email: %w", err)
	}
	return m, ctx.RegisterResourceOutputs(m, pulumi.Map{"eventsTopicArn": m.EventsTopicArn, "dnsRecords": m.DNSRecords})
}

func (m *Email) build(ctx *pulumi.Context, name string, a *emailArgs) error {
	e, sv := a.Env, a.Settings
	parent := pulumi.Parent(m)
	keep := append([]pulumi.ResourceOption{parent}, e.Keep()...)
	arn := arns{region: e.Region, account: e.AccountID}

	topic, err := newTopic(ctx, e, a.KeyArn, emailEventsTopic, []security.Statement{{
		Sid:       "SesPublishes",
		Effect:    "Allow",
		Principal: map[string]any{"Service": "ses.amazonaws.com"},
		Action:    []string{"sns:Publish"},
		Resource:  []string{arn.topic(e.Name(emailEventsTopic))},
		Condition: map[string]map[string]any{"StringEquals": {
			"aws:SourceAccount": e.AccountID,
			"aws:SourceArn":     arn.ses("configuration-set", m.ConfigurationSet),
		}},
	}}, nil, parent)
	if err != nil {
		return err
	}
	m.EventsTopicArn = topic.Arn

	configSet, err := sesv2.NewConfigurationSet(ctx, name, &sesv2.ConfigurationSetArgs{
		ConfigurationSetName: pulumi.String(m.ConfigurationSet),
		// Mail is only handed to receiving servers over TLS.
		DeliveryOptions:    &sesv2.ConfigurationSetDeliveryOptionsArgs{TlsPolicy: pulumi.String("REQUIRE")},
		ReputationOptions:  &sesv2.ConfigurationSetReputationOptionsArgs{ReputationMetricsEnabled: pulumi.Bool(true)},
		SendingOptions:     &sesv2.ConfigurationSetSendingOptionsArgs{SendingEnabled: pulumi.Bool(true)},
		SuppressionOptions: &sesv2.ConfigurationSetSuppressionOptionsArgs{SuppressedReasons: pulumi.ToStringArray(SuppressedReasons)},
	}, parent)
	if err != nil {
		return err
	}
	if _, err := sesv2.NewConfigurationSetEventDestination(ctx, name, &sesv2.ConfigurationSetEventDestinationArgs{
		ConfigurationSetName: configSet.ConfigurationSetName,
		EventDestinationName: pulumi.String(emailEventsTopic),
		EventDestination: &sesv2.ConfigurationSetEventDestinationEventDestinationArgs{
			Enabled:            pulumi.Bool(true),
			MatchingEventTypes: pulumi.ToStringArray(EmailEventTypes),
			SnsDestination:     &sesv2.ConfigurationSetEventDestinationEventDestinationSnsDestinationArgs{TopicArn: topic.Arn},
		},
	}, parent); err != nil {
		return err
	}
	if _, err := sesv2.NewConfigurationSetEventDestination(ctx, name+"-metrics", &sesv2.ConfigurationSetEventDestinationArgs{
		ConfigurationSetName: configSet.ConfigurationSetName,
		EventDestinationName: pulumi.String("metrics"),
		EventDestination: &sesv2.ConfigurationSetEventDestinationEventDestinationArgs{
			Enabled:            pulumi.Bool(true),
			MatchingEventTypes: pulumi.ToStringArray(EmailMetricEventTypes),
			CloudWatchDestination: &sesv2.ConfigurationSetEventDestinationEventDestinationCloudWatchDestinationArgs{
				DimensionConfigurations: sesv2.ConfigurationSetEventDestinationEventDestinationCloudWatchDestinationDimensionConfigurationArray{
					&sesv2.ConfigurationSetEventDestinationEventDestinationCloudWatchDestinationDimensionConfigurationArgs{
						DimensionName:         pulumi.String(EmailMetricDimension),
						DimensionValueSource:  pulumi.String("MESSAGE_TAG"),
						DefaultDimensionValue: pulumi.String(m.ConfigurationSet),
					},
				},
			},
		},
	}, parent); err != nil {
		return err
	}
	// Account-wide (one setting per account and region): every stack of the account sets the
	// same value, so they never fight over it.
	if _, err := sesv2.NewAccountSuppressionAttributes(ctx, name, &sesv2.AccountSuppressionAttributesArgs{
		SuppressedReasons: pulumi.ToStringArray(SuppressedReasons),
	}, parent); err != nil {
		return err
	}

	m.Identity = sv.EmailDomain
	if m.Identity == "" {
		m.Identity = sv.Sender // dev: the recipient of SES's verification email clicks its link
	}
	identity, err := sesv2.NewEmailIdentity(ctx, name, &sesv2.EmailIdentityArgs{
		EmailIdentity:         pulumi.String(m.Identity),
		ConfigurationSetName:  configSet.ConfigurationSetName,
		DkimSigningAttributes: dkimFor(sv.EmailDomain),
	}, keep...)
	if err != nil {
		return err
	}
	var records []dnsRecord
	if sv.EmailDomain != "" {
		if records, err = m.domainRecords(ctx, name, a, identity, parent); err != nil {
			return err
		}
	}
	lines := make([]any, len(records))
	for i, r := range records {
		lines[i] = pulumi.Sprintf("%s %s %s", r.name, r.kind, r.value)
	}
	m.DNSRecords = pulumi.All(lines...).ApplyT(func(v []any) []string {
		out := make([]string, len(v))
		for i, s := range v {
			out[i] = s.(string)
		}
		return out
	}).(pulumi.StringArrayOutput)

	templates, err := Templates()
	if err != nil {
		return err
	}
	for _, t := range slices.Sorted(maps.Keys(templates)) {
		m.TemplateNames = append(m.TemplateNames, m.TemplatePrefix+t)
		if _, err := ses.NewTemplate(ctx, m.TemplatePrefix+t, &ses.TemplateArgs{
			Name:    pulumi.String(m.TemplatePrefix + t),
			Subject: pulumi.String(templates[t].Subject),
			Html:    pulumi.String(templates[t].HTML),
			Text:    pulumi.String(templates[t].Text),
		}, parent); err != nil {
			return err
		}
	}

	m.SMTPSecretArn = pulumi.String("").ToStringOutput()
	if sv.Transport == "smtp" {
		return m.smtpSecret(ctx, a, parent)
	}
	return nil
}

// dkimFor turns on Easy DKIM with 2048-bit keys for a domain; an address identity signs with
// its domain's settings.
func dkimFor(domain string) sesv2.EmailIdentityDkimSigningAttributesPtrInput {
	if domain == "" {
		return nil
	}
	return &sesv2.EmailIdentityDkimSigningAttributesArgs{NextSigningKeyLength: pulumi.String("RSA_2048_BIT")}
}

// domainRecords sets the custom MAIL FROM domain and lists the DNS records the domain needs:
// Easy DKIM's three CNAMEs, MAIL FROM's MX and SPF, and DMARC. They are written to Route 53
// when the domain is inside the stack's zone.
func (m *Email) domainRecords(ctx *pulumi.Context, name string, a *emailArgs, identity *sesv2.EmailIdentity, parent pulumi.ResourceOption) ([]dnsRecord, error) {
	e, domain := a.Env, a.Settings.EmailDomain
	mailFrom := MailFromSubdomain + "." + domain
	if _, err := sesv2.NewEmailIdentityMailFromAttributes(ctx, name, &sesv2.EmailIdentityMailFromAttributesArgs{
		EmailIdentity:  identity.EmailIdentity,
		MailFromDomain: pulumi.String(mailFrom),
		// Until the MX record resolves, SES falls back to amazonses.com rather than refuse to send.
		BehaviorOnMxFailure: pulumi.String("USE_DEFAULT_VALUE"),
	}, parent); err != nil {
		return nil, err
	}

	static := func(s string) pulumi.StringOutput { return pulumi.String(s).ToStringOutput() }
	var records []dnsRecord
	for i := range 3 {
		token := identity.DkimSigningAttributes.Tokens().Index(pulumi.Int(i))
		records = append(records, dnsRecord{
			logical: fmt.Sprintf("%s-dkim-%d", name, i+1),
			name:    pulumi.Sprintf("%s._domainkey.%s", token, domain),
			kind:    "CNAME",
			value:   pulumi.Sprintf("%s.dkim.amazonses.com", token),
		})
	}
	records = append(records,
		dnsRecord{logical: name + "-mail-from-mx", name: static(mailFrom), kind: "MX", value: static("10 feedback-smtp." + e.Region + ".amazonses.com")},
		dnsRecord{logical: name + "-mail-from-spf", name: static(mailFrom), kind: "TXT", value: static(strconv.Quote("v=spf1 include:amazonses.com ~all"))},
	)
	if p := a.Settings.DmarcPolicy; p != "external" {
		records = append(records, dnsRecord{logical: name + "-dmarc", name: static("_dmarc." + domain), kind: "TXT", value: static(strconv.Quote(DmarcRecord(p, a.Settings.DmarcReports)))})
	}

	zone := a.Domain.Zone
	if zone == "" || (domain != zone && !strings.HasSuffix(domain, "."+zone)) {
		return records, nil // to be created by hand: see the dnsRecords output and docs/email.md
	}
	z, err := route53.LookupZone(ctx, &route53.LookupZoneArgs{Name: &zone, PrivateZone: pulumi.BoolRef(false)}, pulumi.Parent(m))
	if err != nil {
		return nil, err
	}
	for _, r := range records {
		// Route 53 takes TXT values unquoted; it quotes them itself.
		value := r.value.ApplyT(func(v string) string { return strings.Trim(v, `"`) }).(pulumi.StringOutput)
		if _, err := route53.NewRecord(ctx, r.logical, &route53.RecordArgs{
			ZoneId:  pulumi.String(z.ZoneId),
			Name:    r.name,
			Type:    pulumi.String(r.kind),
			Ttl:     pulumi.Int(dnsTTL),
			Records: pulumi.StringArray{value},
		}, parent); err != nil {
			return nil, err
		}
	}
	return records, nil
}

// DmarcRecord is the _dmarc TXT value for a policy, with its aggregate reports sent to reports
// (RFC 7489, 6.3: rua). Alignment is relaxed: the MAIL FROM domain is a subdomain, and DKIM
// signs for the domain itself.
func DmarcRecord(policy, reports string) string {
	return "v=DMARC1; p=" + policy + "; rua=mailto:" + reports + "; adkim=r; aspf=r"
}

// smtpSecret stores the SMTP server and the OAuth2 client credentials for the notifications
// function, encrypted with the layer's key; the function exchanges them for an access token
// (XOAUTH2) when it sends. The client secret only ever travels as a Pulumi secret.
func (m *Email) smtpSecret(ctx *pulumi.Context, a *emailArgs, parent pulumi.ResourceOption) error {
	e, sv := a.Env, a.Settings
	recovery := 30
	if !e.Protected {
		recovery = 7
	}
	secret, err := secretsmanager.NewSecret(ctx, e.Name("smtp"), &secretsmanager.SecretArgs{
		Name:        pulumi.String(e.Name("smtp")),
		Description: pulumi.String("SMTP server and OAuth2 client credentials of the notifications function (emailTransport smtp)"),
		KmsKeyId:    a.KeyArn,
		// SecretsManager.1 (rotation) is not met: an Entra client secret is renewed in the
		// Entra admin center, then with `pulumi config set --secret` (docs/email.md).
		RecoveryWindowInDays: pulumi.Int(recovery),
	}, append([]pulumi.ResourceOption{parent}, e.Keep()...)...)
	if err != nil {
		return err
	}
	value, err := json.Marshal(map[string]any{
		"host": sv.SMTPHost, "port": sv.SMTPPort, "username": sv.SMTPUsername,
		"tenant_id": sv.SMTPTenantID, "client_id": sv.SMTPClientID, "client_secret": sv.SMTPClientSecret,
	})
	if err != nil {
		return err
	}
	if _, err := secretsmanager.NewSecretVersion(ctx, e.Name("smtp"), &secretsmanager.SecretVersionArgs{
		SecretId:     secret.ID(),
		SecretString: pulumi.ToSecret(pulumi.String(string(value))).(pulumi.StringOutput),
	}, parent); err != nil {
		return err
	}
	m.SMTPSecretArn = secret.Arn
	return nil
}
