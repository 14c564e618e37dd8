package platform

import (
	"github.com/canalco/infra/monitoring"
	"github.com/canalco/infra/serverless"
)

func (p *platform) deployMonitoring() error {
	s := p.s
	var err error
	p.monitoring, err = monitoring.NewMonitoring(p.ctx, p.env.Prefix, &monitoring.MonitoringArgs{
		Env:      p.env,
		Settings: s.Monitoring,
		// The provider's default tags, for the provider of the backup copy region.
		AsgName:                p.compute.AsgName,
		CPUTargetPercent:       s.Compute.CPUTargetPercent,
		AlbArnSuffix:           p.compute.AlbArnSuffix,
		TargetGroupArnSuffix:   p.compute.TargetGroupArnSuffix,
		DatabaseID:             p.db.InstanceID,
		ReplicaID:              p.db.ReplicaID,
		InstanceClass:          p.db.InstanceClass,
		DatabaseAllocatedGb:    s.Database.AllocatedGb,
		FunctionNames:          p.serverless.FunctionNames,
		QueueNames:             p.serverless.QueueNames,
		DeadLetterQueueNames:   p.serverless.DeadLetterQueueNames,
		ConfigurationSet:       p.serverless.ConfigurationSet,
		EmailMetricDimension:   serverless.EmailMetricDimension,
		EmailEventsTopicArn:    p.serverless.EmailEventsTopicArn,
		DistributionID:         p.cdn.DistributionID,
		DBSubnetGroupName:      p.net.DBSubnetGroupName,
		RestoreSecurityGroupID: p.net.RestoreTestSecurityGroupID,
		RestoreCheckName:       p.serverless.RestoreCheckName,
		RestoreCheckArn:        p.serverless.RestoreCheckArn,
		Office:                 s.Compute.Office,
	}, p.opts...)
	return err
}
