package serverless_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
)

// planWith plans a real stack with some config changed; secret names keys set with --secret.
func planWith(t *testing.T, stack string, values map[string]string, secret ...string) (*offline.Result, error) {
	t.Helper()
	cfg, err := offline.LoadConfig(offline.Root(t), stack)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range values {
		cfg.Values[k] = v
	}
	cfg.Secrets = append(cfg.Secrets, secret...)
	return offline.RunConfig(cfg)
}

// With emailTransport smtp, notifications sends through Microsoft 365 with credentials from
// Secrets Manager; reports keep SES, so the SES resources stay.
func TestSMTPTransport(t *testing.T) {
	for _, c := range []struct {
		stack    string
		recovery float64
	}{{"dev", 7}, {"prod", 30}} {
		t.Run(c.stack, func(t *testing.T) {
			res, err := planWith(t, c.stack, map[string]string{
				"canalco:emailTransport":   "smtp",
				"canalco:smtpUsername":     "notificaciones@canalco.co",
				"canalco:smtpTenantId":     "00000000-0000-0000-0000-000000000001",
				"canalco:smtpClientId":     "00000000-0000-0000-0000-000000000002",
				"canalco:smtpClientSecret": "correct horse battery staple",
			}, "canalco:smtpClientSecret")
			if err != nil {
				t.Fatal(err)
			}
			p := prefix(c.stack)
			key := layerKeyArn(t, res, c.stack)
			secret := named(t, res, secretType, p+"-smtp")
			if secret.Str("name") != p+"-smtp" || secret.Str("kmsKeyId") != key || secret.Num("recoveryWindowInDays") != c.recovery {
				t.Errorf("secret %v", secret.Inputs)
			}
			if secret.Protect != (c.stack == "prod") || secret.RetainOnDelete != (c.stack == "prod") {
				t.Errorf("secret protect %v retain %v", secret.Protect, secret.RetainOnDelete)
			}
			version := named(t, res, secretVersionType, p+"-smtp")
			value, isSecret := version.Get("secretString").(offline.Secret)
			if !isSecret {
				t.Fatalf("the secret's value is recorded in plain text: %T", version.Get("secretString"))
			}
			var creds map[string]any
			if err := json.Unmarshal([]byte(value.Value.(string)), &creds); err != nil {
				t.Fatal(err)
			}
			// What the notifications function reads for XOAUTH2 (functions/notifications).
			want := map[string]any{
				"host": "smtp.office365.com", "port": float64(587), "username": "notificaciones@canalco.co",
				"tenant_id": "00000000-0000-0000-0000-000000000001", "client_id": "00000000-0000-0000-0000-000000000002",
				"client_secret": "correct horse battery staple",
			}
			if !reflect.DeepEqual(creds, want) {
				t.Errorf("secret value %v, want %v", creds, want)
			}

			fn := named(t, res, functionType, p+"-notifications")
			env := fn.Get("environment.variables").(map[string]any)
			if env["EMAIL_TRANSPORT"] != "smtp" || env["SMTP_SECRET_ARN"] != secret.Outputs["arn"] {
				t.Errorf("notifications environment %v", env)
			}
			for k, v := range env {
				if s, ok := v.(string); ok && strings.Contains(s, "battery") {
					t.Errorf("%s holds the password", k)
				}
			}
			doc := document(t, named(t, res, rolePolicyType, p+"-notifications").Str("policy"))
			get := sid(t, doc, "SmtpSecret")
			if len(get.Resource) != 1 || get.Resource[0] != secret.Outputs["arn"] || len(get.Action) != 1 || get.Action[0] != "secretsmanager:GetSecretValue" {
				t.Errorf("secret grant %+v", get)
			}
			if hasSid(doc, "SendEmail") {
				t.Error("notifications may still send through SES")
			}
			if !hasSid(document(t, named(t, res, rolePolicyType, p+"-reports").Str("policy")), "SendEmail") {
				t.Error("reports lost SES, which it always uses")
			}
			if len(layer(res, identityType)) != 1 || len(layer(res, templateType)) != 6 {
				t.Error("SES resources are gone though reports use them")
			}
		})
	}
	for _, stack := range offline.Stacks {
		if n := len(layer(offline.Stack(t, stack), secretType)); n != 0 {
			t.Errorf("%s: %d SMTP secrets with emailTransport ses", stack, n)
		}
	}
}

// Bad settings stop the program before anything exists.
func TestBadEmailSettingsRegisterNothing(t *testing.T) {
	for _, c := range []struct {
		values map[string]string
		key    string
	}{
		{map[string]string{"canalco:emailTransport": "smtp", "canalco:smtpUsername": "u@canalco.co"}, "canalco:smtpClientSecret"},
		{map[string]string{"canalco:emailDmarcPolicy": "strict"}, "canalco:emailDmarcPolicy"},
		{map[string]string{"canalco:cleanupSchedule": "every day"}, "canalco:cleanupSchedule"},
	} {
		res, err := planWith(t, "prod", c.values)
		if err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%v: error %v, want one naming %s", c.values, err, c.key)
		}
		if len(res.Resources) != 0 {
			t.Errorf("%v: %d resources registered", c.values, len(res.Resources))
		}
	}
}
