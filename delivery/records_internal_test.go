package delivery

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDelegationRecord: a stack that delegates a subzone (prod's staging.canalco.co) may write
// NS records named as the subzone, and a stack that delegates none may write no NS record.
func TestDelegationRecord(t *testing.T) {
	base := scope{prefix: "canalco-prod", account: "123456789012", zoneID: "Z0123456789ABCDEFGHIJ", hostnames: []string{"app.canalco.co"}}
	records := func(s scope) (names, types any) {
		for _, st := range deployEdge(s) {
			if st.Sid == "DnsRecords" {
				return st.Condition["ForAllValues:StringLike"]["route53:ChangeResourceRecordSetsNormalizedRecordNames"],
					st.Condition["ForAllValues:StringEquals"]["route53:ChangeResourceRecordSetsRecordTypes"]
			}
		}
		require.Fail(t, "no DnsRecords statement")
		return nil, nil
	}
	names, types := records(base)
	assert.NotContains(t, types, "NS")
	assert.NotContains(t, names, "")

	delegating := base
	delegating.delegatedZone = "staging.canalco.co"
	names, types = records(delegating)
	assert.Contains(t, types, "NS")
	assert.Contains(t, names, "staging.canalco.co")
	assert.NotContains(t, names, "*.staging.canalco.co", "the records inside the subzone are the other account's")
}
