package serverless_test

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/serverless"
)

// unscoped are the actions AWS gives no resource-level permissions, hence Resource "*".
var unscoped = serverless.XRayActions

// wantActions are each function's actions, exactly: anything more is a privilege its handler
// does not use (serverless/functions/README.md, "IAM").
var wantActions = map[string][]string{
	"notifications": {"kms:Decrypt", "kms:GenerateDataKey", "logs:CreateLogStream", "logs:PutLogEvents", "ses:SendEmail", "sqs:SendMessage", "xray:PutTelemetryRecords", "xray:PutTraceSegments"},
	"audit": {"kms:Decrypt", "kms:GenerateDataKey", "logs:CreateLogStream", "logs:PutLogEvents", "s3:PutObject",
		"sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage", "xray:PutTelemetryRecords", "xray:PutTraceSegments"},
	"cleanup": {"kms:Decrypt", "kms:GenerateDataKey", "logs:CreateLogStream", "logs:PutLogEvents", "s3:DeleteObject", "s3:GetObject",
		"s3:ListBucket", "s3:PutObject", "sqs:SendMessage", "xray:PutTelemetryRecords", "xray:PutTraceSegments"},
	"reports": {"kms:Decrypt", "kms:GenerateDataKey", "logs:CreateLogStream", "logs:PutLogEvents", "s3:GetObject", "s3:ListBucket", "s3:PutObject",
		"ses:SendEmail", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:SendMessage", "sts:AssumeRole", "xray:PutTelemetryRecords", "xray:PutTraceSegments"},
}

// IAM.21-style hygiene: no wildcard action, no "*" resource where the service scopes one.
func TestFunctionRolesAreLeastPrivilege(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			p := prefix(stack)
			for _, f := range functions {
				name := p + "-" + f.folder
				role := named(t, res, roleType, name)
				if role.Str("name") != name+"-function" {
					t.Errorf("%s: role name %q", name, role.Str("name"))
				}
				trust := document(t, role.Str("assumeRolePolicy"))
				if len(trust) != 1 || trust[0].Principal["Service"] != "lambda.amazonaws.com" || trust[0].Condition["StringEquals"]["aws:SourceAccount"] != offline.AccountOf(stack) {
					t.Errorf("%s: trust %+v", name, trust)
				}
				if fn := named(t, res, functionType, name); fn.Str("role") != role.Outputs["arn"] {
					t.Errorf("%s: runs as %q", name, fn.Str("role"))
				}
				if len(res.Children(role.URN)) != 0 || len(layerAttachments(res, role)) != 0 {
					t.Errorf("%s: managed policies attached; everything is in the inline policy", name)
				}
				doc := document(t, named(t, res, rolePolicyType, name).Str("policy"))
				var actions []string
				for _, s := range doc {
					if s.Effect != "Allow" {
						t.Errorf("%s: %s is not an Allow", name, s.Sid)
					}
					for _, a := range s.Action {
						if strings.Contains(a, "*") {
							t.Errorf("%s: wildcard action %s", name, a)
						}
						if !slices.Contains(actions, a) {
							actions = append(actions, a)
						}
					}
					for _, r := range s.Resource {
						if r == "" {
							t.Errorf("%s: %s has an empty resource", name, s.Sid)
						}
						if r == "*" && !allUnscoped(s.Action) {
							t.Errorf("%s: %s uses Resource * for %v", name, s.Sid, s.Action)
						}
					}
				}
				sort.Strings(actions)
				if !slices.Equal(actions, wantActions[f.folder]) {
					t.Errorf("%s: actions\n %v\nwant\n %v", name, actions, wantActions[f.folder])
				}
				logs := sid(t, doc, "Logs")
				if logs.Resource[0] != "arn:aws:logs:us-east-1:"+offline.AccountOf(stack)+":log-group:/aws/lambda/"+name+":*" {
					t.Errorf("%s: writes logs to %v", name, logs.Resource)
				}
				if k := sid(t, doc, "LayerKey"); k.Resource[0] != layerKeyArn(t, res, stack) {
					t.Errorf("%s: layer key grant %+v", name, k)
				}
			}
		})
	}
}

func allUnscoped(actions []string) bool {
	for _, a := range actions {
		if !slices.Contains(unscoped, a) {
			return false
		}
	}
	return true
}

// layerAttachments are managed-policy attachments to a role anywhere in the stack.
func layerAttachments(res *offline.Result, role *offline.Resource) []*offline.Resource {
	var out []*offline.Resource
	for _, a := range res.OfType("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
		if a.Str("role") == role.Str("name") {
			out = append(out, a)
		}
	}
	return out
}

// The buckets, prefixes and keys: audit writes only the audit log, cleanup deletes only
// temporary objects and archived audit partitions, reports reads exports and the audit log and
// writes only reports.
func TestFunctionsReachOnlyTheirPrefixes(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			p := prefix(stack)
			bucket := func(purpose string) string {
				return "arn:aws:s3:::" + p + "-" + purpose + "-" + offline.AccountOf(stack) + "-us-east-1"
			}
			audit, reports, temp := bucket("auditoria"), bucket("reportes"), bucket("adjuntos")
			storageKey := storageKeyArn(t, res)
			policy := func(folder string) []statement {
				return document(t, named(t, res, rolePolicyType, p+"-"+folder).Str("policy"))
			}
			resources := func(doc []statement, action string) []string {
				var out []string
				for _, s := range doc {
					if slices.Contains(s.Action, action) {
						out = append(out, s.Resource...)
					}
				}
				sort.Strings(out)
				return out
			}
			cases := []struct {
				folder, action string
				want           []string
			}{
				{"audit", "s3:PutObject", []string{audit + "/audit/*"}},
				{"audit", "sqs:ReceiveMessage", []string{queueArn(p + "-audit")}},
				{"audit", "kms:GenerateDataKey", []string{storageKey}},
				{"audit", "kms:Decrypt", []string{layerKeyArn(t, res, stack)}},
				// Clean-up folds each past day of the audit log into its archive object.
				{"cleanup", "s3:DeleteObject", sorted(temp+"/tmp/*", audit+"/audit/year=*", audit+"/audit/archive/*")},
				{"cleanup", "s3:GetObject", sorted(audit+"/audit/year=*", audit+"/audit/archive/*")},
				{"cleanup", "s3:PutObject", []string{audit + "/audit/archive/*"}},
				{"cleanup", "s3:ListBucket", sorted(temp, audit)},
				{"reports", "s3:PutObject", []string{reports + "/reports/*"}},
				{"reports", "s3:GetObject", sorted(reports+"/exports/requisitions/*", reports+"/exports/orders/*", audit+"/audit/year=*", audit+"/audit/archive/*")},
				// Links are signed by the download role, the one reader of the reports.
				{"reports", "sts:AssumeRole", []string{"arn:aws:iam::" + offline.AccountOf(stack) + ":role/" + p + "-report-links"}},
				{"reports", "sqs:ReceiveMessage", []string{queueArn(p + "-reports")}},
				{"reports", "kms:Decrypt", sorted(layerKeyArn(t, res, stack), storageKey)},
			}
			for _, c := range cases {
				if got := resources(policy(c.folder), c.action); !slices.Equal(got, c.want) {
					t.Errorf("%s %s on\n %v\nwant\n %v", c.folder, c.action, got, c.want)
				}
			}
			for _, folder := range []string{"cleanup", "reports"} {
				for _, s := range policy(folder) {
					if slices.Contains(s.Action, "s3:ListBucket") {
						if prefixes, _ := s.Condition["StringLike"]["s3:prefix"].([]any); len(prefixes) == 0 {
							t.Errorf("%s: %s lists the whole bucket", folder, s.Sid)
						}
					}
				}
			}
			if l := sid(t, policy("cleanup"), "ListTemporary"); l.Condition["StringLike"]["s3:prefix"].([]any)[0] != "tmp/*" {
				t.Errorf("cleanup lists %v of the attachments bucket, want tmp/ only", l.Condition)
			}
		})
	}
}

func sorted(s ...string) []string {
	sort.Strings(s)
	return s
}

// SES sending is pinned to the stack's sender, configuration set and templates. In the SES
// sandbox SES also authorises each recipient, a verified identity of the account ("Request
// production access": sandbox restrictions; "Controlling access to Amazon SES", IAM policies
// for recipients): every stack, staging and prod included, may send to them before the
// account leaves the sandbox.
func TestEmailSendersArePinnedToTheSender(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			p := prefix(stack)
			identity := named(t, res, identityType, p+"-email").Str("emailIdentity")
			sender := named(t, res, functionType, p+"-notifications").Str("environment.variables.SENDER")
			ses := func(kind, name string) string {
				return "arn:aws:ses:us-east-1:" + offline.AccountOf(stack) + ":" + kind + "/" + name
			}
			templates := map[string][]string{
				"notifications": {"alerta-sistema", "aprobacion-pendiente", "orden-confirmada", "reporte-programado", "requisicion-creada"},
				"reports":       {"reporte-generado"},
			}
			for folder, names := range templates {
				send := sid(t, document(t, named(t, res, rolePolicyType, p+"-"+folder).Str("policy")), "SendEmail")
				want := []string{ses("identity", identity), ses("configuration-set", p), ses("identity", "*")}
				for _, n := range names {
					want = append(want, ses("template", p+"-"+n))
				}
				if !slices.Equal(send.Resource, want) || len(send.Action) != 1 || send.Action[0] != "ses:SendEmail" {
					t.Errorf("%s: sends %v on\n %v\nwant\n %v", folder, send.Action, send.Resource, want)
				}
				if send.Condition["StringEquals"]["ses:FromAddress"] != sender || sender == "" {
					t.Errorf("%s: From not pinned to %q: %v", folder, sender, send.Condition)
				}
			}
			for _, folder := range []string{"audit", "cleanup"} {
				if hasSid(document(t, named(t, res, rolePolicyType, p+"-"+folder).Str("policy")), "SendEmail") {
					t.Errorf("%s may send email", folder)
				}
			}
		})
	}
}
