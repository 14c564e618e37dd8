package platform

import "github.com/canalco/infra/serverless"

func (p *platform) deployServerless() error {
	var err error
	p.serverless, err = serverless.NewServerless(p.ctx, p.env.Prefix, &serverless.ServerlessArgs{
		Env:           p.env,
		Settings:      p.s.Serverless,
		Domain:        p.s.Domain,
		Buckets:       p.buckets.Documents,
		StorageKeyArn: p.buckets.KeyArn,
		AppURL:        p.cdn.AppURL,
	}, p.opts...)
	return err
}
