package platform

import "github.com/canalco/infra/monitoring"

func (p *platform) deployMonitoring() error {
	var err error
	p.monitoring, err = monitoring.NewMonitoring(p.ctx, p.env.Prefix, &monitoring.MonitoringArgs{
		Env:                  p.env,
		Settings:             p.s.Monitoring,
		AsgName:              p.compute.AsgName,
		AlbArnSuffix:         p.compute.AlbArnSuffix,
		TargetGroupArnSuffix: p.compute.TargetGroupArnSuffix,
		DatabaseID:           p.db.InstanceID,
		ReplicaID:            p.db.ReplicaID,
		InstanceClass:        p.db.InstanceClass,
		FunctionNames:        p.serverless.FunctionNames,
		QueueNames:           p.serverless.QueueNames,
		DeadLetterQueueNames: p.serverless.DeadLetterQueueNames,
		ConfigurationSet:     p.serverless.ConfigurationSet,
		DistributionID:       p.cdn.DistributionID,
	}, p.opts...)
	return err
}
