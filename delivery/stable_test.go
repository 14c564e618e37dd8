package delivery_test

import (
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pipelineIdentity is what CI may not change about itself, as the plan would write it: the
// documents of the pipeline roles' policies, their trust, the boundary, the roles' boundary
// and session length, and the default tags of the provider that tags them.
func pipelineIdentity(t *testing.T, res *offline.Result, stack string) map[string]string {
	t.Helper()
	out := map[string]string{}
	prefix := "canalco-" + stack
	for _, p := range res.OfType(policyT) {
		name := p.Str("name")
		if strings.HasPrefix(name, prefix+"-deploy-") || strings.HasPrefix(name, prefix+"-preview-") || name == prefix+"-boundary" {
			out["policy "+name] = p.Str("policy")
			out["provider of "+name] = p.Provider
		}
	}
	for _, role := range []string{"deploy", "preview"} {
		r := res.Named(roleT, prefix+"-"+role)
		require.NotNil(t, r)
		out["trust "+role] = r.Str("assumeRolePolicy")
		out["boundary "+role] = r.Str("permissionsBoundary")
		out["session "+role] = r.Str("maxSessionDuration")
		out["provider of "+role] = r.Provider
		out["tags of "+role] = strings.Join(r.Strings("tags"), ",")
	}
	for _, p := range res.OfType("pulumi:providers:aws") {
		if strings.Contains(out["provider of "+"deploy"], "::"+p.Name+"::") {
			for k, v := range p.Get("defaultTags.tags").(map[string]any) {
				out["default tag "+k] = v.(string)
			}
		}
	}
	require.Len(t, out, 12*2+2*5+3, "twelve policies (nine deploy, two preview, the boundary), two roles, three default tags")
	return out
}

// TestThePipelineIdentityDoesNotChangeWithTheStack: the pipeline roles' documents, trust,
// boundary and tags are byte-identical whatever the stack holds (functions, roles,
// schedules, monitors, tags), so an ordinary pull request never needs CI to rewrite the
// identity it runs as, which it may not.
func TestThePipelineIdentityDoesNotChangeWithTheStack(t *testing.T) {
	variants := map[string]map[string]string{
		"restore testing on":       {"canalco:restoreTesting": "true"},
		"restore testing off":      {"canalco:restoreTesting": "false"},
		"a weekly report":          {"canalco:reportScheduleRecipients": `["gerencia@canalco.co"]`},
		"no weekly report":         {"canalco:reportScheduleRecipients": `[]`},
		"cost anomaly monitor on":  {"canalco:costAnomalyDetection": "true", "canalco:alarmEmails": `["ops@canalco.co"]`},
		"cost anomaly monitor off": {"canalco:costAnomalyDetection": "false"},
		"sleeping":                 {"canalco:sleepOutsideOfficeHours": "true", "canalco:dbBackupWindow": "17:00-17:30"},
		"awake":                    {"canalco:sleepOutsideOfficeHours": "false"},
		"another cost centre":      {"canalco:costCenter": "finanzas"},
	}
	for _, stack := range []string{"dev", "staging"} {
		base := pipelineIdentity(t, offline.Stack(t, stack), stack)
		for name, values := range variants {
			t.Run(stack+"/"+name, func(t *testing.T) {
				res, err := withConfig(t, stack, values)
				require.NoError(t, err)
				got := pipelineIdentity(t, res, stack)
				for k, v := range base {
					assert.Equal(t, v, got[k], "%s changed", k)
				}
			})
		}
	}
}

// TestThePipelineReachesOnlyItsAccount: every ARN of the pipeline roles' policies and of the
// boundary is in the stack's own account, or is AWS's (public parameters, images, managed
// policies and rule groups, which have no account of the stack's): nothing names another
// environment's account, and with one account per environment nothing reaches it.
func TestThePipelineReachesOnlyItsAccount(t *testing.T) {
	awsOwned := []string{"arn:aws:wafv2:*:*:global/managedruleset/*/*"}
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			sts := append(statements(t, res, "canalco-"+stack+"-deploy"), statements(t, res, "canalco-"+stack+"-preview")...)
			sts = append(sts, document(t, res.Named(policyT, "canalco-"+stack+"-boundary"), "policy")...)
			for _, st := range sts {
				for _, arn := range append(append([]string{}, st.Resource...), st.NotResource...) {
					parts := strings.SplitN(arn, ":", 6)
					if arn == "*" || len(parts) < 6 {
						continue
					}
					switch account := parts[4]; {
					case account == offline.AccountOf(stack), account == "", account == "aws":
					case account == "*" && anyMatches(awsOwned, arn, false):
					default:
						t.Errorf("%s names %s, outside account %s", st.Sid, arn, offline.AccountOf(stack))
					}
				}
			}
		})
	}
}
