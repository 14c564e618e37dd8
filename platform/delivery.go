package platform

import (
	"github.com/canalco/infra/delivery"
	"github.com/canalco/infra/serverless"
)

// deployBoundary creates the permissions boundary before any role, so every role gets it.
func (p *platform) deployBoundary() error {
	var err error
	p.boundary, err = delivery.NewBoundary(p.ctx, p.env, p.identityOpts...)
	return err
}

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
		DelegatedZone:   s.Domain.DelegatedZone,
		Hostnames:       []string{s.Domain.AppDomain, s.Domain.APIDomain},
		EmailDomain:     s.Serverless.EmailDomain,
		MailFrom:        serverless.MailFromSubdomain + "." + s.Serverless.EmailDomain,
		EmailIdentity:   identity,
		AsgName:         p.compute.AsgName,
		FrontendBucket:  p.buckets.Frontend.Name,
		ArtifactsBucket: p.serverless.ArtifactsBucket,
		VpcID:           p.net.VpcID,
		AlarmTopicArn:   p.monitoring.AlarmTopicArn,
	}, p.identityOpts...)
	return err
}
