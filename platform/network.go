package platform

import (
	"github.com/canalco/infra/network"
	"github.com/canalco/infra/settings"
)

func (p *platform) deployNetwork() error {
	s := p.s
	var err error
	p.net, err = network.NewNetwork(p.ctx, p.env.Prefix, &network.NetworkArgs{
		Prefix:              p.env.Prefix,
		Region:              s.Region,
		AccountID:           p.env.AccountID,
		VpcCidr:             s.Network.VpcCidr,
		AvailabilityZones:   s.Network.AvailabilityZones,
		PublicSubnetCidrs:   s.Network.PublicSubnetCidrs,
		PrivateSubnetCidrs:  s.Network.PrivateSubnetCidrs,
		DatabaseSubnetCidrs: s.Network.DatabaseSubnetCidrs,
		NatPerAz:            s.Network.NatPerAz,
		Logs:                p.env.Logs,
		AlbPort:             albPort(s),
		Delegation:          delegation(s.Domain),
		InstanceTypes:       s.Compute.InstanceTypes(),
	}, p.opts...)
	return err
}

// delegation is the subzone the stack delegates to another account's hosted zone, if any.
func delegation(d settings.Domain) *network.Delegation {
	if d.DelegatedZone == "" {
		return nil
	}
	return &network.Delegation{Zone: d.Zone, Subzone: d.DelegatedZone, NameServers: d.DelegatedNameServers}
}

// albPort is 443, or 80 in a stack without an API certificate (dev), where CloudFront's VPC
// origin reaches the internal load balancer over HTTP inside AWS's network.
func albPort(s *settings.Settings) int {
	if s.Domain.HasAPICertificate() {
		return network.HTTPSPort
	}
	return 80
}
