package platform

import (
	"github.com/canalco/infra/serverless"
)

func (p *platform) deployServerless() error {
	var err error
	p.serverless, err = serverless.NewServerless(p.ctx, p.env.Prefix, &serverless.ServerlessArgs{
		Env:             p.env,
		Settings:        p.s.Serverless,
		Domain:          p.s.Domain,
		Timezone:        p.s.Timezone,
		Buckets:         p.buckets.Documents,
		StorageKeyArn:   p.buckets.KeyArn,
		AccessLogBucket: p.buckets.Logs.Name,
		// Waiting for the whole buckets component waits for the log bucket's policy.
		AccessLogsReady: p.buckets,
		BackendRoleArn:  p.compute.InstanceRoleArn,
		AppURL:          p.cdn.AppURL,
	}, p.opts...)
	return err
}
