package serverless

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/canalco/infra/env"
	"github.com/canalco/infra/settings"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// emailMocks answers like AWS for the email component and records what it registers. It
// answers no invoke: a domain outside the zone must not look the zone up.
type emailMocks struct {
	mu    sync.Mutex
	types []string
}

func (m *emailMocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	m.mu.Lock()
	m.types = append(m.types, args.TypeToken)
	m.mu.Unlock()
	out := args.Inputs.Copy()
	out["arn"] = resource.NewStringProperty("arn:aws:test:" + args.Name)
	if args.TypeToken == "aws:sesv2/emailIdentity:EmailIdentity" {
		out["dkimSigningAttributes"] = resource.NewObjectProperty(resource.NewPropertyMapFromMap(map[string]any{"tokens": []any{"tok1", "tok2", "tok3"}}))
	}
	return args.Name + "-id", out, nil
}

func (m *emailMocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return nil, fmt.Errorf("unexpected invoke %s", args.Token)
}

// dnsRecordsOf runs the email component alone and returns its dnsRecords output and the
// resource types it registered.
func dnsRecordsOf(t *testing.T, sv settings.Serverless, zone string) ([]string, []string) {
	t.Helper()
	mocks := &emailMocks{}
	var records []string
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		m, err := newEmail(ctx, "canalco-prod-email", &emailArgs{
			Env:      env.Env{Prefix: "canalco-prod", Environment: settings.Prod, Region: "sa-east-1", AccountID: "123456789012"},
			Settings: sv,
			Domain:   settings.Domain{Zone: zone},
			KeyArn:   pulumi.String("arn:aws:kms:sa-east-1:123456789012:key/test"),
		})
		if err != nil {
			return err
		}
		m.DNSRecords.ApplyT(func(r []string) []string { records = r; return r })
		return nil
	}, pulumi.WithMocks("canalco", "prod", mocks))
	if err != nil {
		t.Fatal(err)
	}
	return records, mocks.types
}

// A domain outside the stack's zone gets no Route 53 records: the exact records to create by
// hand are the component's output (and the stack's emailDnsRecords output).
func TestRecordsOfADomainOutsideTheZoneAreAnOutput(t *testing.T) {
	records, types := dnsRecordsOf(t, settings.Serverless{
		EmailDomain: "canalco.com.co", Sender: "notificaciones@canalco.com.co", Transport: "ses", DmarcPolicy: "reject",
		DmarcReports: "dmarc@canalco.com.co",
	}, "canalco.co")
	want := []string{
		"tok1._domainkey.canalco.com.co CNAME tok1.dkim.amazonses.com",
		"tok2._domainkey.canalco.com.co CNAME tok2.dkim.amazonses.com",
		"tok3._domainkey.canalco.com.co CNAME tok3.dkim.amazonses.com",
		"mail.canalco.com.co MX 10 feedback-smtp.sa-east-1.amazonses.com",
		`mail.canalco.com.co TXT "v=spf1 include:amazonses.com ~all"`,
		`_dmarc.canalco.com.co TXT "v=DMARC1; p=reject; rua=mailto:dmarc@canalco.com.co; adkim=r; aspf=r"`,
	}
	if !slices.Equal(records, want) {
		t.Errorf("records\n %q\nwant\n %q", records, want)
	}
	if slices.Contains(types, "aws:route53/record:Record") {
		t.Error("records written to a zone that does not hold the domain")
	}
}

func TestAnAddressIdentityNeedsNoRecords(t *testing.T) {
	records, types := dnsRecordsOf(t, settings.Serverless{Sender: "notificaciones-dev@canalco.co", Transport: "ses", DmarcPolicy: "quarantine"}, "canalco.co")
	if len(records) != 0 {
		t.Errorf("records %q for an address identity", records)
	}
	if slices.Contains(types, "aws:sesv2/emailIdentityMailFromAttributes:EmailIdentityMailFromAttributes") {
		t.Error("MAIL FROM set on an address identity")
	}
}
