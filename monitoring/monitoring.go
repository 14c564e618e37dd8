// Package monitoring watches the platform: the alarm topic, alarms, dashboards, the budget
// the backups of the instances' volumes and the database, and the recovery objectives: the RPO
// metric and the monthly restore test.
//
// Everything is generated from MonitoringArgs: one alarm and one dashboard widget per function,
// queue and dead-letter queue the serverless layer reports, so a new function is watched
// without editing this package.
package monitoring

import (
	"fmt"
	"strings"

	"github.com/canalco/infra/env"
	"github.com/canalco/infra/security"
	"github.com/canalco/infra/settings"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// MonitoringArgs are the inputs of the monitoring layer: what it watches.
type MonitoringArgs struct {
	Env      env.Env
	Settings settings.Monitoring
	// Compute. AsgName is also the Name tag of the backend instances' volumes.
	AsgName              string
	CPUTargetPercent     int
	AlbArnSuffix         pulumi.StringInput
	TargetGroupArnSuffix pulumi.StringInput
	// Data.
	DatabaseID string
	// ReplicaID is the read replica, or "" without one.
	ReplicaID     string
	InstanceClass string
	// DatabaseAllocatedGb is the database's initial storage: the free-storage alarm is a share of it.
	DatabaseAllocatedGb int
	// Serverless.
	FunctionNames        []string
	QueueNames           []string
	DeadLetterQueueNames []string
	ConfigurationSet     string
	// EmailMetricDimension is the dimension under which SES counts the configuration set's
	// rendering failures (metric AWS/SES RenderingFailure).
	EmailMetricDimension string
	// EmailEventsTopicArn receives SES bounces, complaints and rendering failures: the alarm
	// emails are subscribed to it, so someone reads them.
	EmailEventsTopicArn pulumi.StringInput
	// Storage.
	DistributionID pulumi.StringInput
	// Restore testing (when settings turn it on): the database subnet group and the isolated
	// security group the copy is restored into, and the function that validates it.
	DBSubnetGroupName      pulumi.StringInput
	RestoreSecurityGroupID pulumi.StringInput
	RestoreCheckName       string
	RestoreCheckArn        pulumi.StringInput
	// Office are the hours a sleeping stack's alarms notify.
	Office settings.OfficeHours
}

// Monitoring is the monitoring layer's output.
type Monitoring struct {
	pulumi.ResourceState

	AlarmTopicArn pulumi.StringOutput
	// DashboardNames are known before deployment.
	DashboardNames []string
	// AlarmNames are every alarm this layer creates, known before deployment.
	AlarmNames []string
	// BackupVaultName holds the weekly snapshots of the instances' volumes.
	BackupVaultName string
	// RestoreTestingPlanName is the monthly restore test, empty where it is off.
	RestoreTestingPlanName string
}

// NewMonitoring creates the monitoring layer.
func NewMonitoring(ctx *pulumi.Context, name string, args *MonitoringArgs, opts ...pulumi.ResourceOption) (*Monitoring, error) {
	m := &Monitoring{}
	if err := ctx.RegisterComponentResource("canalco:monitoring:Monitoring", name, m, opts...); err != nil {
		return nil, err
	}
	b := &builder{ctx: ctx, a: args, m: m}
	for _, step := range []func() error{b.topics, b.alarms, b.rdsEvents, b.dashboards, b.budget, b.backups} {
		if err := step(); err != nil {
			return nil, fmt.Errorf("monitoring: %w", err)
		}
	}
	return m, ctx.RegisterResourceOutputs(m, pulumi.Map{
		"alarmTopicArn":          m.AlarmTopicArn,
		"dashboardNames":         pulumi.ToStringArray(m.DashboardNames),
		"backupVaultName":        pulumi.String(m.BackupVaultName),
		"restoreTestingPlanName": pulumi.String(m.RestoreTestingPlanName),
	})
}

// builder carries what the steps of NewMonitoring share.
type builder struct {
	ctx *pulumi.Context
	a   *MonitoringArgs
	m   *Monitoring
	// main is the alarm topic in the stack's region; global the one in us-east-1, where
	// CloudFront's metrics live (the same topic when the stack is in us-east-1).
	main, global *alarmTopic
	// key encrypts the alarm topic and the backup vault of the stack's region.
	key *security.Key
	// alarmArns lists the alarms of each topic, for the alarm-status widgets.
	alarmArns map[*alarmTopic][]pulumi.StringOutput
}

// child returns the options of a resource of this layer, plus extra ones.
func (b *builder) child(extra ...pulumi.ResourceOption) []pulumi.ResourceOption {
	return append([]pulumi.ResourceOption{pulumi.Parent(b.m)}, extra...)
}

// short is a resource name without the stack prefix: canalco-dev-audit → audit.
func (b *builder) short(name string) string {
	return strings.TrimPrefix(name, b.a.Env.Prefix+"-")
}
