package platform

import "github.com/canalco/infra/compute"

func (p *platform) deployCompute() error {
	var err error
	p.compute, err = compute.NewCompute(p.ctx, p.env.Prefix, &compute.ComputeArgs{
		Env:                    p.env,
		Settings:               p.s.Compute,
		Domain:                 p.s.Domain,
		VpcID:                  p.net.VpcID,
		PublicSubnetIDs:        p.net.PublicSubnetIDs,
		PrivateSubnetIDs:       p.net.PrivateSubnetIDs,
		AlbSecurityGroupID:     p.net.AlbSecurityGroupID,
		BackendSecurityGroupID: p.net.BackendSecurityGroupID,
		AlbPort:                albPort(p.s),
		DatabaseSecretArn:      p.db.SecretArn,
		DatabaseKeyArn:         p.db.KeyArn,
		DatabaseEndpoint:       p.db.Endpoint,
		DatabaseName:           p.db.DatabaseName,
		AccessLogBucket:        p.buckets.Logs.Name,
		DocumentBucketArns:     p.buckets.DocumentArns(),
		StorageKeyArn:          p.buckets.KeyArn,
	}, p.opts...)
	return err
}
