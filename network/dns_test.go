package network_test

import (
	"regexp"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const recordT = "aws:route53/record:Record"

// Name servers of the form Route 53 assigns (four, from different TLDs).
var stagingNameServers = `["ns-1.awsdns-01.org","ns-2.awsdns-02.co.uk","ns-3.awsdns-03.com","ns-4.awsdns-04.net"]`

// Staging has its own zone, inside prod's domain: each stack validates its certificates and
// writes its records in the zone its own account hosts.
func TestEachStackWritesInItsOwnZone(t *testing.T) {
	zones := map[string]string{"dev": "", "staging": "staging.canalco.co", "prod": "canalco.co"}
	for stack, zone := range zones {
		res := offline.Stack(t, stack)
		assert.Equal(t, zone, res.Config.Values["canalco:dnsZone"], stack)
		if zone == "" {
			assert.Empty(t, res.OfType(recordT), "dev has no zone")
			continue
		}
		assert.NotEmpty(t, res.OfType(recordT), stack)
		for _, r := range res.OfType(recordT) {
			name := r.Str("name")
			assert.Regexp(t, `(^|\.)`+regexp.QuoteMeta(zone)+`\.?$`, name, "%s: %s is outside the zone", stack, name)
			if stack == "prod" {
				assert.NotContains(t, name, "staging.canalco.co", "prod writes nothing in staging's subzone")
			}
		}
	}
}

// Prod delegates staging.canalco.co to the name servers of staging's hosted zone, in its own
// zone (Route 53 Developer Guide, "Routing traffic for subdomains": NS records named after the
// subdomain in the parent domain's hosted zone).
func TestProdDelegatesTheStagingSubzone(t *testing.T) {
	assert.Empty(t, offline.Stack(t, "prod").Named(recordT, "canalco-prod-dns-delegation"), "off until the subzone's name servers are known")
	res, err := offline.WithValues(t, "prod", map[string]string{
		"canalco:dnsDelegatedZone":        "staging.canalco.co",
		"canalco:dnsDelegatedNameServers": stagingNameServers,
	})
	require.NoError(t, err)
	ns := res.Named(recordT, "canalco-prod-dns-delegation")
	require.NotNil(t, ns)
	assert.Equal(t, "staging.canalco.co", ns.Str("name"))
	assert.Equal(t, "NS", ns.Str("type"))
	assert.Equal(t, 172800.0, ns.Num("ttl"))
	assert.Equal(t, []string{"ns-1.awsdns-01.org", "ns-2.awsdns-02.co.uk", "ns-3.awsdns-03.com", "ns-4.awsdns-04.net"}, ns.Strings("records"))
	// The same zone as prod's own records: the app's alias lives in canalco.co.
	app := res.Named(recordT, "canalco-prod-app-A")
	require.NotNil(t, app)
	assert.Equal(t, app.Str("zoneId"), ns.Str("zoneId"))
	assert.NotNil(t, res.Ancestor(ns, "canalco:network:Network"))
}

func TestBadDelegationsAreRefused(t *testing.T) {
	for _, c := range []struct {
		name, stack string
		values      map[string]string
		want        string
	}{
		{"not a subzone", "prod", map[string]string{"canalco:dnsDelegatedZone": "staging.canalco.com", "canalco:dnsDelegatedNameServers": stagingNameServers}, "a subzone of dnsZone canalco.co"},
		{"the zone itself", "prod", map[string]string{"canalco:dnsDelegatedZone": "canalco.co", "canalco:dnsDelegatedNameServers": stagingNameServers}, "a subzone of dnsZone"},
		{"three name servers", "prod", map[string]string{"canalco:dnsDelegatedZone": "staging.canalco.co", "canalco:dnsDelegatedNameServers": `["ns-1.awsdns-01.org","ns-2.awsdns-02.co.uk","ns-3.awsdns-03.com"]`}, "the four name servers"},
		{"name servers alone", "prod", map[string]string{"canalco:dnsDelegatedNameServers": stagingNameServers}, "canalco:dnsDelegatedZone"},
		{"no zone to write in", "dev", map[string]string{"canalco:dnsDelegatedZone": "staging.canalco.co", "canalco:dnsDelegatedNameServers": stagingNameServers}, "empty while dnsZone is empty"},
		{"an address for a name server", "prod", map[string]string{"canalco:dnsDelegatedZone": "staging.canalco.co", "canalco:dnsDelegatedNameServers": `["205.251.192.1","ns-2.awsdns-02.co.uk","ns-3.awsdns-03.com","ns-4.awsdns-04.net"]`}, "a name server host name"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := offline.WithValues(t, c.stack, c.values)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Empty(t, res.Resources)
		})
	}
}
