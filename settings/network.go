package settings

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Network is the VPC layout.
type Network struct {
	VpcCidr string
	// AvailabilityZones are pinned by name so a change in the region's AZ list never re-lays subnets.
	AvailabilityZones   []string
	PublicSubnetCidrs   []string
	PrivateSubnetCidrs  []string
	DatabaseSubnetCidrs []string
	// NatPerAz gives every AZ its own NAT gateway; otherwise one NAT serves all (dev's cost trade-off).
	NatPerAz bool
	// LogRetentionDays applies to every CloudWatch log group of the stack.
	LogRetentionDays int
}

// vpcSecondOctet gives each environment its own /16 so the VPCs can be peered later.
var vpcSecondOctet = map[Environment]int{Prod: 0, Staging: 1, Dev: 2}

// retentionDays are the values CloudWatch Logs accepts.
var retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

var networkSection = section{
	keys: []Key{
		str("vpcCidr", "IPv4 CIDR of the VPC (/16 to /24).", func(s *Settings) *string { return &s.Network.VpcCidr }),
		list("availabilityZones", "Names of the AZs to use (at least two), e.g. [us-east-1a, us-east-1b].", func(s *Settings) *[]string { return &s.Network.AvailabilityZones }),
		list("publicSubnetCidrs", "One public subnet per AZ (ALB, NAT). Empty: x.y.1.0/24, x.y.2.0/24 of the VPC.", func(s *Settings) *[]string { return &s.Network.PublicSubnetCidrs }),
		list("privateSubnetCidrs", "One private subnet per AZ (backend). Empty: x.y.10.0/24, x.y.11.0/24.", func(s *Settings) *[]string { return &s.Network.PrivateSubnetCidrs }),
		list("databaseSubnetCidrs", "One database subnet per AZ (RDS, no internet route). Empty: x.y.20.0/24, x.y.21.0/24.", func(s *Settings) *[]string { return &s.Network.DatabaseSubnetCidrs }),
		tristate("natPerAz", "true: one NAT gateway per AZ; false: one shared NAT. Empty: true except in dev.", func(s *Settings) *bool { return &s.Network.NatPerAz }),
		integer("logRetentionDays", "Retention of every log group, in days (a value CloudWatch accepts). 0: 30 dev, 90 staging, 365 prod.", func(s *Settings) *int { return &s.Network.LogRetentionDays }),
	},
	defaults: func(s *Settings) {
		n := &s.Network
		n.VpcCidr = fmt.Sprintf("10.%d.0.0/16", vpcSecondOctet[s.Environment])
		n.AvailabilityZones = []string{s.Region + "a", s.Region + "b"}
		n.NatPerAz = s.Environment != Dev
		n.LogRetentionDays = map[Environment]int{Dev: 30, Staging: 90, Prod: 365}[s.Environment]
	},
	derive: func(s *Settings) {
		n := &s.Network
		vpc, err := netip.ParsePrefix(n.VpcCidr)
		if err != nil || vpc.Bits() != 16 || !vpc.Addr().Is4() {
			return // validate reports a bad VPC; a non-/16 VPC must list its subnets
		}
		b := vpc.Addr().As4()
		tier := func(third int) []string {
			out := make([]string, len(n.AvailabilityZones))
			for i := range out {
				out[i] = fmt.Sprintf("%d.%d.%d.0/24", b[0], b[1], third+i)
			}
			return out
		}
		if len(n.PublicSubnetCidrs) == 0 {
			n.PublicSubnetCidrs = tier(1)
		}
		if len(n.PrivateSubnetCidrs) == 0 {
			n.PrivateSubnetCidrs = tier(10)
		}
		if len(n.DatabaseSubnetCidrs) == 0 {
			n.DatabaseSubnetCidrs = tier(20)
		}
	},
	validate: validateNetwork,
}

func validateNetwork(s *Settings, p *problems) {
	n := &s.Network
	vpc, err := netip.ParsePrefix(n.VpcCidr)
	switch {
	case err != nil || !vpc.Addr().Is4() || vpc.Masked() != vpc:
		p.add("vpcCidr", n.VpcCidr, "an IPv4 network CIDR such as 10.0.0.0/16")
		return
	case vpc.Bits() < 16 || vpc.Bits() > 24:
		p.add("vpcCidr", n.VpcCidr, "a prefix length from /16 to /24 (the sizes AWS allows for a VPC)")
		return
	case !isPrivate(vpc):
		p.add("vpcCidr", n.VpcCidr, "a private range (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)")
	}
	if len(n.AvailabilityZones) < 2 {
		p.add("availabilityZones", n.AvailabilityZones, "at least two AZs: the load balancer and Multi-AZ RDS need two")
	}
	seen := map[string]bool{}
	for _, az := range n.AvailabilityZones {
		if !strings.HasPrefix(az, s.Region) || len(az) != len(s.Region)+1 || az[len(az)-1] < 'a' || az[len(az)-1] > 'z' {
			p.add("availabilityZones", n.AvailabilityZones, fmt.Sprintf("AZ names of region %s, such as %sa", s.Region, s.Region))
			break
		}
		if seen[az] {
			p.add("availabilityZones", n.AvailabilityZones, "distinct AZs")
			break
		}
		seen[az] = true
	}
	var all []netip.Prefix
	var owners []string
	for _, tier := range []struct {
		key   string
		cidrs []string
	}{{"publicSubnetCidrs", n.PublicSubnetCidrs}, {"privateSubnetCidrs", n.PrivateSubnetCidrs}, {"databaseSubnetCidrs", n.DatabaseSubnetCidrs}} {
		if len(tier.cidrs) != len(n.AvailabilityZones) {
			p.add(tier.key, tier.cidrs, fmt.Sprintf("one subnet per AZ (%d)", len(n.AvailabilityZones)))
			continue
		}
		for _, c := range tier.cidrs {
			sub, err := netip.ParsePrefix(c)
			switch {
			case err != nil || !sub.Addr().Is4() || sub.Masked() != sub:
				p.add(tier.key, c, "an IPv4 network CIDR such as 10.0.1.0/24")
				continue
			case sub.Bits() > 28 || sub.Bits() < vpc.Bits():
				p.add(tier.key, c, "a prefix length from the VPC's up to /28 (the smallest subnet AWS allows)")
				continue
			case !vpc.Contains(sub.Addr()):
				p.add(tier.key, c, "a subnet inside the VPC "+n.VpcCidr)
				continue
			}
			for i, other := range all {
				if other.Overlaps(sub) {
					p.addf("%s:%s = %q overlaps %s (%s): every subnet needs its own range", Namespace, tier.key, c, owners[i], other)
				}
			}
			all = append(all, sub)
			owners = append(owners, tier.key)
		}
	}
	if !slices.Contains(retentionDays, n.LogRetentionDays) {
		p.add("logRetentionDays", n.LogRetentionDays, fmt.Sprintf("one of the values CloudWatch Logs accepts: %v", retentionDays))
	}
	if s.IsProd() && n.LogRetentionDays < 365 {
		p.add("logRetentionDays", n.LogRetentionDays, "at least 365 in prod (a year of logs for audits)")
	}
	if s.Environment != Dev && !n.NatPerAz {
		p.add("natPerAz", n.NatPerAz, "true outside dev: one NAT gateway per AZ keeps an AZ failure from cutting the others' internet access")
	}
}

func isPrivate(p netip.Prefix) bool {
	for _, r := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"} {
		if netip.MustParsePrefix(r).Contains(p.Addr()) && p.Bits() >= netip.MustParsePrefix(r).Bits() {
			return true
		}
	}
	return false
}
