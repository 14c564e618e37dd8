package data

import (
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"

	"github.com/canalco/infra/logs"
	"github.com/canalco/infra/network"
	"github.com/canalco/infra/security"
	"github.com/canalco/infra/settings"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	engine = "postgres"
	// caCertificate is the current RDS CA (the rds-ca-2019 chain expired in 2024).
	caCertificate = "rds-ca-rsa2048-g1"
	// monitoringInterval is Enhanced Monitoring's period in seconds (RDS.6).
	monitoringInterval = 60
	// insightsRetentionDays is Performance Insights' free tier.
	insightsRetentionDays = 7
	// enhancedMonitoringPolicy lets RDS publish OS metrics to CloudWatch Logs (RDSOSMetrics).
	enhancedMonitoringPolicy = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
	// noExtendedSupport makes RDS upgrade a major that leaves standard support instead of
	// billing extended support per vCPU-hour without anyone deciding it.
	noExtendedSupport = "open-source-rds-extended-support-disabled"
)

// LogExports are the PostgreSQL logs every instance publishes to CloudWatch Logs (RDS.9, RDS.36).
var LogExports = []string{"postgresql", "upgrade"}

// parameter is one setting of the instances' parameter group.
type parameter struct{ Name, Value, ApplyMethod string }

// parameters are the parameter group's settings. Dynamic parameters apply at once; static
// ones (shared_preload_libraries) only at the next reboot, and RDS rejects "immediate" for them.
func parameters(s settings.Database) []parameter {
	out := []parameter{
		{"rds.force_ssl", "1", "immediate"}, // RDS.38: TLS or no connection
		{"log_min_duration_statement", strconv.Itoa(s.SlowQueryMs), "immediate"},
		{"log_connections", "1", "immediate"},
		{"log_disconnections", "1", "immediate"},
		{"shared_preload_libraries", "pg_stat_statements", "pending-reboot"},
	}
	// A Blue/Green deployment that upgrades the major replicates logically from the blue
	// instance, which needs rds.logical_replication on it ("PostgreSQL replication methods for
	// blue/green deployments", RDS User Guide). Static: it applies at the next reboot, which
	// must come before the first upgrade (docs/database.md, "Major upgrades").
	if s.BlueGreen {
		out = append(out, parameter{"rds.logical_replication", "1", "pending-reboot"})
	}
	return out
}

// parameterFamily is the parameter group family of the engine major, e.g. postgres17.
func parameterFamily(major string) string { return engine + major }

// finalSnapshotID names the snapshot RDS takes when the instance is deleted. Pulumi sends
// the name long before the deletion, so it cannot hold a date; the suffix hashes what makes
// the instance this instance (the inputs that force a replacement), so an instance that
// replaces another never reuses its predecessor's snapshot name.
func finalSnapshotID(id string, s settings.Database) string {
	h := sha256.Sum256([]byte(strings.Join([]string{id, engine, s.Name, s.Username}, "\n")))
	return fmt.Sprintf("%s-final-%x", id, h[:4])
}

// common is what the instance is created with besides its own arguments.
type common struct {
	args   *DatabaseArgs
	key    *security.Key
	params *rds.ParameterGroup
	role   *iam.Role
	// ready must exist before an instance: RDS checks the monitoring role's permissions.
	ready []pulumi.Resource
}

// shared creates what the instance uses: the parameter group and the Enhanced Monitoring role.
func (d *Database) shared(ctx *pulumi.Context, a *DatabaseArgs, key *security.Key) (*common, error) {
	e, s := a.Env, a.Settings
	family := parameterFamily(s.EngineMajor)
	var params rds.ParameterGroupParameterArray
	for _, p := range parameters(s) {
		params = append(params, rds.ParameterGroupParameterArgs{Name: pulumi.String(p.Name), Value: pulumi.String(p.Value), ApplyMethod: pulumi.String(p.ApplyMethod)})
	}
	// The name carries the major: a major upgrade creates the new family's group before the
	// instance moves to it, and the old one goes after.
	group, err := rds.NewParameterGroup(ctx, e.Name("postgres-parameters"), &rds.ParameterGroupArgs{
		Name:        pulumi.String(e.Name(family)),
		Family:      pulumi.String(family),
		Description: pulumi.String("PostgreSQL " + s.EngineMajor + " for " + e.Prefix + ": TLS only, slow statements and connections logged"),
		Parameters:  params,
	}, pulumi.Parent(d))
	if err != nil {
		return nil, err
	}
	role, err := iam.NewRole(ctx, e.Name("rds-monitoring"), &iam.RoleArgs{
		Name:             pulumi.String(e.Name("rds-monitoring")),
		Description:      pulumi.String("Lets RDS Enhanced Monitoring publish OS metrics of " + e.Prefix + "'s database"),
		AssumeRolePolicy: pulumi.String(security.AssumeRole("monitoring.rds.amazonaws.com", e.AccountID)),
	}, pulumi.Parent(d))
	if err != nil {
		return nil, err
	}
	attachment, err := iam.NewRolePolicyAttachment(ctx, e.Name("rds-monitoring"), &iam.RolePolicyAttachmentArgs{
		Role:      role.Name,
		PolicyArn: pulumi.String(enhancedMonitoringPolicy),
	}, pulumi.Parent(d))
	if err != nil {
		return nil, err
	}
	return &common{args: a, key: key, params: group, role: role, ready: []pulumi.Resource{attachment}}, nil
}

// instance creates an RDS instance with the settings both instances share, after its log
// groups: RDS would otherwise create them on first export with no retention and no key.
func (d *Database) instance(ctx *pulumi.Context, c *common, id string, args *rds.InstanceArgs, opts ...pulumi.ResourceOption) (*rds.Instance, error) {
	e, s := c.args.Env, c.args.Settings
	deps := append([]pulumi.Resource{}, c.ready...)
	for _, kind := range LogExports {
		group, err := logs.NewGroup(ctx, id+"-"+kind, LogGroupName(id, kind), e.Logs, pulumi.Parent(d))
		if err != nil {
			return nil, err
		}
		deps = append(deps, group)
	}
	args.Identifier = pulumi.String(id)
	args.StorageType = pulumi.String("gp3")
	args.MaxAllocatedStorage = pulumi.Int(s.MaxAllocatedGb)
	args.StorageEncrypted = pulumi.Bool(true) // RDS.3; RDS.4: snapshots inherit the encryption
	args.ParameterGroupName = c.params.Name
	args.VpcSecurityGroupIds = pulumi.StringArray{c.args.SecurityGroupID}
	// RDS.23 asks for a non-default port; the seed's security-group table fixes 5432 (docs/database.md).
	args.Port = pulumi.Int(network.DatabasePort)
	args.PubliclyAccessible = pulumi.Bool(false) // RDS.2
	args.CaCertIdentifier = pulumi.String(caCertificate)
	args.AutoMinorVersionUpgrade = pulumi.Bool(true) // RDS.13
	args.AllowMajorVersionUpgrade = pulumi.Bool(s.AllowMajorUpgrade)
	args.ApplyImmediately = pulumi.Bool(s.ApplyImmediately)
	args.CopyTagsToSnapshot = pulumi.Bool(true)               // RDS.17
	args.IamDatabaseAuthenticationEnabled = pulumi.Bool(true) // RDS.10, on the replica too
	args.DeletionProtection = pulumi.Bool(e.Protected)        // RDS.8, on the replica too
	args.MaintenanceWindow = pulumi.String(s.MaintenanceWindow)
	args.MonitoringInterval = pulumi.Int(monitoringInterval) // RDS.6
	args.MonitoringRoleArn = c.role.Arn
	args.PerformanceInsightsEnabled = pulumi.Bool(true)
	args.PerformanceInsightsKmsKeyId = c.key.Arn
	args.PerformanceInsightsRetentionPeriod = pulumi.Int(insightsRetentionDays)
	args.EnabledCloudwatchLogsExports = pulumi.ToStringArray(LogExports) // RDS.9, RDS.36
	return rds.NewInstance(ctx, id, args, append([]pulumi.ResourceOption{pulumi.Parent(d), pulumi.DependsOn(deps)}, opts...)...)
}

// LogGroupName is where RDS exports an instance's log of a kind.
func LogGroupName(id, kind string) string { return "/aws/rds/instance/" + id + "/" + kind }

// primaryArgs are what only the primary sets: the engine, the credentials, its network
// placement, its backups and what happens to its data when it is deleted.
func primaryArgs(a *DatabaseArgs, id string, key *security.Key, password pulumi.StringOutput) *rds.InstanceArgs {
	e, s := a.Env, a.Settings
	return &rds.InstanceArgs{
		InstanceClass: pulumi.String(s.InstanceClass),
		KmsKeyId:      key.Arn,
		Engine:        pulumi.String(engine),
		// Only the major: RDS applies minor versions itself (RDS.13) and Pulumi sees no drift.
		EngineVersion:          pulumi.String(s.EngineMajor),
		EngineLifecycleSupport: pulumi.String(noExtendedSupport),
		DbName:                 pulumi.String(s.Name),
		Username:               pulumi.String(s.Username), // RDS.25: not postgres
		// The program's secret holds the password (secret.go), not RDS's: RDS refuses read
		// replicas and Blue/Green deployments of an instance whose password it manages. False,
		// not absent: a stack created with RDS's management turns it off in place with this
		// password (ModifyDBInstance), and RDS deletes its own secret. The password input is
		// the generated value forever, and the provider never reads a password back, so the
		// rotations never show as drift; an ignoreChanges on it would drop it from that first
		// modification, which RDS then refuses (offline/moveover_test.go).
		ManageMasterUserPassword: pulumi.Bool(false),
		Password:                 pulumi.ToSecret(password).(pulumi.StringOutput),
		DbSubnetGroupName:        a.SubnetGroupName,
		MultiAz:                  pulumi.Bool(s.MultiAz), // RDS.5
		AllocatedStorage:         pulumi.Int(s.AllocatedGb),
		BackupRetentionPeriod:    pulumi.Int(s.BackupRetention), // RDS.11
		BackupWindow:             pulumi.String(s.BackupWindow),
		SkipFinalSnapshot:        pulumi.Bool(!e.Protected),
		FinalSnapshotIdentifier:  pulumi.String(finalSnapshotID(id, s)),
		// Protected stacks keep point-in-time recovery for the retention period even after
		// the instance is gone.
		DeleteAutomatedBackups: pulumi.Bool(!e.Protected),
		// A major upgrade (the run that sets dbAllowMajorUpgrade) goes through a Blue/Green
		// deployment: the provider creates the green copy, switches over (typically under a
		// minute) and deletes the old instance. Only then: with it on, the provider sends every
		// other change but the password and deletion protection through Blue/Green too
		// (terraform-provider-aws, rds/instance.go), including an existing stack's move away
		// from the RDS-managed password, which RDS refuses to deploy Blue/Green.
		BlueGreenUpdate: &rds.InstanceBlueGreenUpdateArgs{Enabled: pulumi.Bool(s.BlueGreen && s.AllowMajorUpgrade)},
	}
}

// replicaArgs are what only the read replica sets. It takes the engine, its version, the
// credentials and the data key from the primary: in the primary's region RDS encrypts a
// replica with its source's key and refuses another (CreateDBInstanceReadReplica, KmsKeyId). It
// holds nothing the primary does not, so it needs neither backups nor a final snapshot (RDS
// rejects one for a replica). The subnet group is named: a replica given none would not be in
// the VPC.
func replicaArgs(a *DatabaseArgs, primary *rds.Instance) *rds.InstanceArgs {
	return &rds.InstanceArgs{
		ReplicateSourceDb:     primary.Identifier,
		InstanceClass:         pulumi.String(a.Settings.ReplicaClass),
		DbSubnetGroupName:     a.SubnetGroupName,
		MultiAz:               pulumi.Bool(false),
		BackupRetentionPeriod: pulumi.Int(0),
		SkipFinalSnapshot:     pulumi.Bool(true),
	}
}
