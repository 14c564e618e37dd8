package platform

import (
	"github.com/canalco/infra/monitoring"
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
		AccessLogsReady: p.buckets.LogsPolicy,
		BackendRoleArn:  p.compute.AppRoleArn,
		AppURL:          p.cdn.AppURL,
		Recovery:        p.recovery(),
		Rotation: serverless.Rotation{
			SecretArn:       p.db.SecretArn,
			KeyArn:          p.db.KeyArn,
			SubnetIDs:       p.net.PrivateSubnetIDs,
			SecurityGroupID: p.net.RotationSecurityGroupID,
		},
	}, p.opts...)
	return err
}

// recovery is what the recovery functions watch: the live database and, where restore testing
// runs, the plan whose copies the restore check validates from inside the VPC.
func (p *platform) recovery() serverless.Recovery {
	m := p.s.Monitoring
	r := serverless.Recovery{
		DatabaseID:      p.db.InstanceID,
		LiveDatabaseIDs: []string{p.db.InstanceID},
		FreshnessColumn: m.RestoreFreshnessColumn,
		VaultName:       monitoring.VaultName(p.env.Prefix),
		SubnetIDs:       p.net.PrivateSubnetIDs,
		SecurityGroupID: p.net.RestoreValidatorSecurityGroupID,
	}
	if p.db.ReplicaID != "" {
		r.LiveDatabaseIDs = append(r.LiveDatabaseIDs, p.db.ReplicaID)
	}
	if m.RestoreTesting {
		r.RestoreTestingPlan = monitoring.RestoreTestingPlanName(p.env.Prefix)
	}
	return r
}
