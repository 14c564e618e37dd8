package network

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Delegation hands a subzone of the stack's zone to the hosted zone of another account:
// a zone can be delegated to one account only, so staging's account hosts staging.canalco.co
// and prod's zone canalco.co points at it.
type Delegation struct {
	// Zone is the stack's own public hosted zone (by name), which must already exist.
	Zone string
	// Subzone is the delegated name, e.g. staging.canalco.co.
	Subzone string
	// NameServers are the ones Route 53 assigned to the subzone's hosted zone.
	NameServers []string
}

// delegationTTL is two days, the TTL Route 53 gives a hosted zone's own NS records: name
// servers of a zone change only when the zone is recreated.
const delegationTTL = 172800

// delegate writes the subzone's NS records in the stack's zone.
func delegate(ctx *pulumi.Context, n *Network, a *NetworkArgs) error {
	d := a.Delegation
	if d == nil {
		return nil
	}
	zone, err := route53.LookupZone(ctx, &route53.LookupZoneArgs{Name: pulumi.StringRef(d.Zone), PrivateZone: pulumi.BoolRef(false)}, pulumi.Parent(n))
	if err != nil {
		return err
	}
	_, err = route53.NewRecord(ctx, a.Prefix+"-dns-delegation", &route53.RecordArgs{
		ZoneId:  pulumi.String(zone.ZoneId),
		Name:    pulumi.String(d.Subzone),
		Type:    pulumi.String("NS"),
		Ttl:     pulumi.Int(delegationTTL),
		Records: pulumi.ToStringArray(d.NameServers),
	}, pulumi.Parent(n))
	return err
}
