package platform

import "github.com/canalco/infra/delivery"

func (p *platform) deployDelivery() error {
	s := p.s
	// The one SES identity the serverless layer verifies: the domain, else the sender.
	identity := s.Serverless.EmailDomain
	if identity == "" {
		identity = s.Serverless.Sender
	}
	var err error
	p.delivery, err = delivery.NewDelivery(p.ctx, p.env.Prefix, &delivery.DeliveryArgs{
		Env:             p.env,
		Settings:        s.Delivery,
		Project:         s.Project,
		Stack:           s.Stack,
		Regions:         []string{s.Monitoring.BackupCopyRegion, s.Storage.BackupReplicationRegion, s.Database.BackupReplicationRegion},
		Zone:            s.Domain.Zone,
		RecordNames:     []string{s.Domain.AppDomain, s.Domain.APIDomain, s.Serverless.EmailDomain},
		EmailIdentity:   identity,
		AsgName:         p.compute.AsgName,
		FrontendBucket:  p.buckets.Frontend.Name,
		ArtifactsBucket: p.serverless.ArtifactsBucket,
		DistributionArn: p.cdn.DistributionArn,
	}, p.opts...)
	return err
}
