package settings

import (
	"maps"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// storageInput is a valid stack plus the storage values under test.
func storageInput(stack string, set map[string]string) Input {
	values := map[string]string{"canalco:emailSender": "a@canalco.co", "canalco:alarmEmails": `["ops@canalco.co"]`}
	maps.Copy(values, set)
	return base(stack, values)
}

// Each case is one mistake in the storage section; each names the key, the value and the fix.
func TestBadStorageSettingsAreReported(t *testing.T) {
	cases := []struct {
		name, stack string
		set         map[string]string
		want        []string
	}{
		{"archive too early", "prod", map[string]string{"canalco:glacierAfterDays": "7"}, []string{"canalco:glacierAfterDays = 7", "30 to 3650"}},
		{"archive never", "prod", map[string]string{"canalco:glacierAfterDays": "5000"}, []string{"canalco:glacierAfterDays = 5000", "30 to 3650"}},
		{"versions kept forever", "dev", map[string]string{"canalco:noncurrentVersionExpireDays": "4000"}, []string{"canalco:noncurrentVersionExpireDays = 4000", "1 to 3650"}},
		{"versions gone before the backups", "prod", map[string]string{"canalco:noncurrentVersionExpireDays": "7"}, []string{"canalco:noncurrentVersionExpireDays = 7", "at least 30 in prod"}},
		{"negative log retention", "staging", map[string]string{"canalco:logExpireDays": "-1"}, []string{"canalco:logExpireDays = -1", "1 to 3650"}},
		{"wildcard origin", "dev", map[string]string{"canalco:corsExtraOrigins": `["*"]`}, []string{`canalco:corsExtraOrigins = "*"`, "never *"}},
		{"wildcard subdomain", "dev", map[string]string{"canalco:corsExtraOrigins": `["https://*.canalco.co"]`}, []string{`canalco:corsExtraOrigins = "https://*.canalco.co"`}},
		{"origin with a path", "dev", map[string]string{"canalco:corsExtraOrigins": `["https://app.canalco.co/"]`}, []string{`canalco:corsExtraOrigins = "https://app.canalco.co/"`, "no path"}},
		{"origin with a query", "dev", map[string]string{"canalco:corsExtraOrigins": `["https://app.canalco.co?x=1"]`}, []string{`canalco:corsExtraOrigins = "https://app.canalco.co?x=1"`}},
		{"origin without scheme", "dev", map[string]string{"canalco:corsExtraOrigins": `["localhost:5173"]`}, []string{`canalco:corsExtraOrigins = "localhost:5173"`}},
		{"plain http in prod", "prod", map[string]string{"canalco:corsExtraOrigins": `["http://localhost:5173"]`}, []string{`canalco:corsExtraOrigins = "http://localhost:5173"`, "https origins only in prod"}},
		{"replicate to itself", "prod", map[string]string{"canalco:backupReplicationRegion": "us-east-1"}, []string{`canalco:backupReplicationRegion = "us-east-1"`, "other than us-east-1"}},
		{"replicate to nowhere", "prod", map[string]string{"canalco:backupReplicationRegion": "oregon"}, []string{`canalco:backupReplicationRegion = "oregon"`}},
		{"unknown price class", "prod", map[string]string{"canalco:cdnPriceClass": "PriceClass_300"}, []string{`canalco:cdnPriceClass = "PriceClass_300"`, "PriceClass_100"}},
		{"rate limit below WAF's minimum", "prod", map[string]string{"canalco:wafRateLimit": "5"}, []string{"canalco:wafRateLimit = 5", "10 to 2,000,000,000"}},
		{"waf not a boolean", "prod", map[string]string{"canalco:wafEnabled": "yes"}, []string{`canalco:wafEnabled = "yes"`, "true or false"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Parse(storageInput(c.stack, c.set))
			require.Error(t, err)
			assert.Nil(t, s)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Contains(t, err.Error(), "nothing was created")
		})
	}
}

// TestStorageProfiles: the seed's one year to Glacier everywhere, retention growing from dev
// to prod, WAF in prod only; a stack can override each.
func TestStorageProfiles(t *testing.T) {
	cases := []struct {
		stack          string
		set            map[string]string
		keep, glacier  int
		waf            bool
		rate           int
		replication    string
		extraOriginsOK []string
	}{
		// Staging is public like prod, so it has the web ACL too. The API rate limit is an
		// office's users × their API requests a minute × 5 minutes × 2 (headroom).
		{"dev", nil, 30, 365, false, 5 * 30 * 5 * 2, "", nil},
		{"staging", nil, 90, 365, true, 10 * 30 * 5 * 2, "", nil},
		{"prod", nil, 365, 365, true, 60 * 30 * 5 * 2, "", nil},
		{"prod", map[string]string{"canalco:usageUsersPerOffice": "100", "canalco:usageApiRequestsPerUserMinute": "20"}, 365, 365, true, 100 * 20 * 5 * 2, "", nil},
		{"prod", map[string]string{"canalco:wafRateLimit": "5000", "canalco:wafOfficeCidrs": `["190.85.10.0/28"]`}, 365, 365, true, 5000, "", nil},
		{"prod", map[string]string{"canalco:wafEnabled": "false", "canalco:glacierAfterDays": "730", "canalco:backupReplicationRegion": "us-west-2", "canalco:corsExtraOrigins": `["https://admin.canalco.co"]`}, 365, 730, false, 18000, "us-west-2", []string{"https://admin.canalco.co"}},
		{"dev", map[string]string{"canalco:wafEnabled": "true", "canalco:corsExtraOrigins": `["http://localhost:5173"]`}, 30, 365, true, 1500, "", []string{"http://localhost:5173"}},
	}
	for _, c := range cases {
		s, err := Parse(storageInput(c.stack, c.set))
		require.NoError(t, err, c.stack)
		st := s.Storage
		assert.Equal(t, c.keep, st.NoncurrentExpireDays, c.stack)
		assert.Equal(t, c.keep, st.LogExpireDays, c.stack)
		assert.Equal(t, c.glacier, st.GlacierAfterDays, c.stack)
		assert.Equal(t, c.waf, st.WafEnabled, c.stack)
		assert.Equal(t, c.rate, st.WafRateLimit, c.stack)
		assert.Equal(t, "PriceClass_100", st.CdnPriceClass, c.stack)
		assert.Equal(t, c.replication, st.BackupReplicationRegion, c.stack)
		assert.Equal(t, c.extraOriginsOK, st.CorsExtraOrigins, c.stack)
	}
}
