package platform

import (
	"github.com/canalco/infra/storage"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func (p *platform) deployBuckets() error {
	var err error
	p.buckets, err = storage.NewBuckets(p.ctx, p.env.Prefix, &storage.BucketsArgs{
		Env:      p.env,
		Settings: p.s.Storage,
		// The same tags as the stack's provider (foundation), for the replica region's provider.
	}, p.opts...)
	return err
}

func (p *platform) deployCdn() error {
	var err error
	p.cdn, err = storage.NewCDN(p.ctx, p.env.Prefix, &storage.CDNArgs{
		Env:               p.env,
		Settings:          p.s.Storage,
		Domain:            p.s.Domain,
		Buckets:           p.buckets,
		APIOrigin:         p.compute.APIOrigin,
		APIOriginProtocol: p.compute.APIOriginProtocol,
		APIOriginArn:      p.compute.AlbArn,
		VpcOriginReady:    []pulumi.Resource{p.net},
	}, p.opts...)
	return err
}
