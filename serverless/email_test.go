package serverless_test

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/serverless"
)

var sesName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func TestConfigurationSetRequiresTLSAndSuppressesBounces(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			p := prefix(stack)
			cs := named(t, res, configSetType, p+"-email")
			if cs.Str("configurationSetName") != p || !sesName.MatchString(cs.Str("configurationSetName")) {
				t.Errorf("configuration set name %q", cs.Str("configurationSetName"))
			}
			if cs.Str("deliveryOptions.tlsPolicy") != "REQUIRE" || !cs.Bool("reputationOptions.reputationMetricsEnabled") || !cs.Bool("sendingOptions.sendingEnabled") {
				t.Errorf("configuration set %v", cs.Inputs)
			}
			if got := cs.Strings("suppressionOptions.suppressedReasons"); !slices.Equal(got, []string{"BOUNCE", "COMPLAINT"}) {
				t.Errorf("suppressed reasons %v", got)
			}
			dest := named(t, res, eventDestType, p+"-email")
			if dest.Str("eventDestination.snsDestination.topicArn") != topicArn(p+"-email-events") || !dest.Bool("eventDestination.enabled") {
				t.Errorf("event destination %v", dest.Inputs)
			}
			// RENDERING_FAILURE: SES accepts a templated send whose data lacks a variable, then
			// drops it (SES API v2 reference, EventDestination); someone must hear of it.
			if got := dest.Strings("eventDestination.matchingEventTypes"); !slices.Equal(got, []string{"BOUNCE", "COMPLAINT", "REJECT", "DELIVERY_DELAY", "RENDERING_FAILURE"}) {
				t.Errorf("published events %v", got)
			}
			// ... and counts it in CloudWatch under the configuration set, for the alarm.
			metrics := named(t, res, eventDestType, p+"-email-metrics")
			dim := metrics.Get("eventDestination.cloudWatchDestination.dimensionConfigurations.0")
			if !slices.Equal(metrics.Strings("eventDestination.matchingEventTypes"), []string{"RENDERING_FAILURE"}) || !metrics.Bool("eventDestination.enabled") ||
				metrics.Str("configurationSetName") != p || !reflect.DeepEqual(dim, map[string]any{
				"dimensionName": "ses:configuration-set", "dimensionValueSource": "MESSAGE_TAG", "defaultDimensionValue": p,
			}) {
				t.Errorf("metrics destination %v", metrics.Inputs)
			}
			if sup := layer(res, suppressionType); len(sup) != 1 || !slices.Equal(sup[0].Strings("suppressedReasons"), []string{"BOUNCE", "COMPLAINT"}) {
				t.Errorf("account suppression list: %d resources", len(sup))
			}
			if named(t, res, identityType, p+"-email").Str("configurationSetName") != p {
				t.Error("the identity does not default to the configuration set")
			}
		})
	}
}

// prod and staging verify their domain with Easy DKIM and a custom MAIL FROM, and write the
// records into the zone; dev, without a domain, verifies its sender address only.
func TestEmailIdentityAndDNS(t *testing.T) {
	for _, c := range []struct{ stack, identity string }{
		{"dev", "notificaciones-dev@canalco.co"},
		{"staging", "staging.canalco.co"},
		{"prod", "canalco.co"},
	} {
		t.Run(c.stack, func(t *testing.T) {
			res := offline.Stack(t, c.stack)
			p := prefix(c.stack)
			id := named(t, res, identityType, p+"-email")
			if id.Str("emailIdentity") != c.identity {
				t.Fatalf("identity %q, want %q", id.Str("emailIdentity"), c.identity)
			}
			if !id.Protect != (c.stack == "dev") {
				t.Errorf("identity protect %v: losing it loses the DKIM verification", id.Protect)
			}
			records := map[string][]string{}
			for _, r := range layer(res, recordType) {
				records[r.Str("type")] = append(records[r.Str("type")], r.Str("name")+" "+strings.Join(r.Strings("records"), ","))
				if !strings.HasPrefix(r.Str("zoneId"), "Z") || r.Num("ttl") <= 0 {
					t.Errorf("%s: zone %q ttl %v", r.Name, r.Str("zoneId"), r.Num("ttl"))
				}
			}
			if c.stack == "dev" {
				if id.Get("dkimSigningAttributes") != nil || len(layer(res, mailFromType)) != 0 || len(records) != 0 {
					t.Errorf("dev has domain settings: %v %v", id.Get("dkimSigningAttributes"), records)
				}
				return
			}
			if id.Str("dkimSigningAttributes.nextSigningKeyLength") != "RSA_2048_BIT" {
				t.Errorf("DKIM key length %q", id.Str("dkimSigningAttributes.nextSigningKeyLength"))
			}
			mf := named(t, res, mailFromType, p+"-email")
			if mf.Str("mailFromDomain") != "mail."+c.identity || mf.Str("behaviorOnMxFailure") != "USE_DEFAULT_VALUE" || mf.Str("emailIdentity") != c.identity {
				t.Errorf("MAIL FROM %v", mf.Inputs)
			}
			tokens := id.Outputs["dkimSigningAttributes"].(map[string]any)["tokens"].([]any)
			var dkim []string
			for _, tok := range tokens {
				dkim = append(dkim, tok.(string)+"._domainkey."+c.identity+" "+tok.(string)+".dkim.amazonses.com")
			}
			sort.Strings(dkim)
			sort.Strings(records["CNAME"])
			if !slices.Equal(records["CNAME"], dkim) {
				t.Errorf("DKIM records %v, want %v", records["CNAME"], dkim)
			}
			if want := []string{"mail." + c.identity + " 10 feedback-smtp.us-east-1.amazonses.com"}; !slices.Equal(records["MX"], want) {
				t.Errorf("MX %v, want %v", records["MX"], want)
			}
			txt := records["TXT"]
			sort.Strings(txt)
			// p=none until the domain's owner has read the reports (rua) and chooses a stricter policy.
			want := []string{"_dmarc." + c.identity + " v=DMARC1; p=none; rua=mailto:dmarc@" + c.identity + "; adkim=r; aspf=r", "mail." + c.identity + " v=spf1 include:amazonses.com ~all"}
			if !slices.Equal(txt, want) {
				t.Errorf("TXT %v, want %v", txt, want)
			}
		})
	}
}

// A domain whose DMARC record is kept elsewhere (a corporate domain) gets none from the program.
func TestExternalDmarcWritesNoDmarcRecord(t *testing.T) {
	cfg, err := offline.LoadConfig(offline.Root(t), "prod")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Values["canalco:emailDmarcPolicy"] = "external"
	res, err := offline.RunConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Named(recordType, "canalco-prod-email-dmarc"); r != nil {
		t.Errorf("DMARC record written: %v", r.Inputs)
	}
	if n := len(layer(res, recordType)); n != 5 {
		t.Errorf("%d records, want DKIM, MX and SPF", n)
	}
}

// templateFields reads the handlers' contract: which data fields each template may use.
func templateFields(t *testing.T) map[string][]string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(offline.Root(t), serverless.FunctionsDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `[a-z.]+` \\| `([a-z-]+)` \\| (.+) \\|$")
	field := regexp.MustCompile("`(\\w+)`")
	out := map[string][]string{}
	for _, m := range row.FindAllStringSubmatch(string(readme), -1) {
		for _, f := range field.FindAllStringSubmatch(m[2], -1) {
			out[m[1]] = append(out[m[1]], f[1])
		}
	}
	if len(out) == 0 {
		t.Fatal("no template table in the functions' README")
	}
	return out
}

// handlerTemplates are the template names the handlers send.
func handlerTemplates(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join(offline.Root(t), serverless.FunctionsDir)
	var names []string
	for _, file := range []string{"notifications/handler.py", "reports/handler.py"} {
		src, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		block := regexp.MustCompile(`(?s)TEMPLATES = \{(.*?)\}`).FindStringSubmatch(string(src))
		if block != nil {
			for _, m := range regexp.MustCompile(`"[a-z.]+": "([a-z-]+)"`).FindAllStringSubmatch(block[1], -1) {
				names = append(names, m[1])
			}
		}
		for _, m := range regexp.MustCompile(`(?m)^TEMPLATE = "([a-z-]+)"`).FindAllStringSubmatch(string(src), -1) {
			names = append(names, m[1])
		}
	}
	return names
}

var placeholder = regexp.MustCompile(`\{\{\s*(?:#if\s+)?(\w+)\s*\}\}`)

// Each template the handlers send exists in every stack, in Spanish, and uses exactly the data
// fields the handlers send: a field it does not know would render empty.
func TestTemplatesMatchTheHandlers(t *testing.T) {
	templates, err := serverless.Templates()
	if err != nil {
		t.Fatal(err)
	}
	fields := templateFields(t)
	sent := handlerTemplates(t)
	if len(sent) < 5 {
		t.Fatalf("found only %v in the handlers", sent)
	}
	for _, name := range sent {
		tpl, ok := templates[name]
		if !ok {
			t.Errorf("the handlers send %s, which has no template", name)
			continue
		}
		used := map[string]bool{}
		for _, part := range []string{tpl.Subject, tpl.HTML, tpl.Text} {
			for _, m := range placeholder.FindAllStringSubmatch(part, -1) {
				if m[1] == "else" {
					continue
				}
				used[m[1]] = true
				if !slices.Contains(fields[name], m[1]) {
					t.Errorf("%s uses {{%s}}, which the handlers do not send (%v)", name, m[1], fields[name])
				}
			}
		}
		for _, f := range fields[name] {
			if !used[f] {
				t.Errorf("%s never shows %s", name, f)
			}
		}
		if strings.Count(tpl.HTML, "{{#if") != strings.Count(tpl.HTML, "{{/if}}") || !strings.Contains(tpl.HTML, `lang="es"`) {
			t.Errorf("%s: unbalanced conditionals or not Spanish HTML", name)
		}
		if strings.Contains(tpl.Subject, "\n") {
			t.Errorf("%s: multi-line subject", name)
		}
	}
	for _, stack := range offline.Stacks {
		res := offline.Stack(t, stack)
		got := layer(res, templateType)
		if len(got) != len(templates) {
			t.Errorf("%s: %d templates, want %d", stack, len(got), len(templates))
		}
		for _, name := range sent {
			tpl := named(t, res, templateType, prefix(stack)+"-"+name)
			if tpl.Str("name") != prefix(stack)+"-"+name || !sesName.MatchString(tpl.Str("name")) {
				t.Errorf("%s: template name %q", stack, tpl.Str("name"))
			}
			if tpl.Str("subject") != templates[name].Subject || tpl.Str("html") != templates[name].HTML || tpl.Str("text") != templates[name].Text {
				t.Errorf("%s: %s does not carry its file's content", stack, name)
			}
		}
	}
}
