package serverless

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/canalco/infra/security"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The recovery functions, by their folder under serverless/functions.
const (
	// recoveryFunction publishes the RPO (and the age of the last validated restore test)
	// every 5 minutes.
	recoveryFunction = "recovery"
	// restoreCheckFunction validates the monthly restore test's copy of the database.
	restoreCheckFunction = "restore-check"
)

// RecoveryNamespace is the namespace of the recovery metrics (monitoring.RecoveryNamespace).
const RecoveryNamespace = "Canalco/Recovery"

// RecoverySchedule reads the database's latest restorable time every 5 minutes.
const RecoverySchedule = "rate(5 minutes)"

// FreshnessMaxHours is how much older than the recovery point the newest row of the freshness
// column may be: the application writes it continuously, but a night or a holiday is quiet.
const FreshnessMaxHours = 24

var recoverySpecs = map[string]functionSpec{
	// One reading at a time: two overlapping ones would publish the same minute twice.
	recoveryFunction: {Name: recoveryFunction, Description: "Publishes the database's recovery point lag and the age of the last validated restore test",
		Timeout: 30, Memory: 128, Reserved: 1, OnFailure: jobsDLQ},
	// One copy a month; waiting for the password reset and the connection takes minutes.
	restoreCheckFunction: {Name: restoreCheckFunction, Description: "Validates the monthly restore test's copy of the database and reports to AWS Backup",
		Timeout: 600, Memory: 256, Reserved: 1, InVpc: true, OnFailure: jobsDLQ},
}

// Recovery is what the recovery functions watch and validate.
type Recovery struct {
	// DatabaseID is the live instance; LiveDatabaseIDs are every live instance, which the
	// restore check must never modify.
	DatabaseID      string
	LiveDatabaseIDs []string
	// RestoreTestingPlan is the plan's name, empty when restore testing is off (no
	// restore-check function then).
	RestoreTestingPlan string
	FreshnessColumn    string
	// VaultName holds the recovery points the plan restores.
	VaultName string
	// SubnetIDs and SecurityGroupID place the restore check in the VPC: private subnets (out
	// through the NAT to the AWS APIs) and the only group the restored copy admits.
	SubnetIDs       pulumi.StringArrayInput
	SecurityGroupID pulumi.StringInput
}

// specs are the functions of this stack: the seed's four, the recovery ones and the master
// secret's rotation.
func (l *layer) specs() []functionSpec {
	out := append([]functionSpec{}, functionSpecs...)
	out = append(out, recoverySpecs[recoveryFunction], rotationSpec)
	if l.a.Recovery.RestoreTestingPlan != "" {
		out = append(out, recoverySpecs[restoreCheckFunction])
	}
	return out
}

// recoverySchedule reads the RPO every 5 minutes.
func recoverySchedule() schedule {
	input, _ := json.Marshal(map[string]string{"source": ScheduleSource, "type": "recovery.metrics"})
	return schedule{Thing: recoveryFunction, Function: recoveryFunction, Expression: RecoverySchedule, Input: pulumi.String(string(input))}
}

// vpcConfig puts a function that needs the VPC in it. Lambda.3 (in a VPC) and Lambda.5 (more
// than one AZ): the private subnets span the stack's AZs.
func (l *layer) vpcConfig(spec functionSpec) *lambda.FunctionVpcConfigArgs {
	if !spec.InVpc {
		return nil
	}
	subnets, group := l.a.Recovery.SubnetIDs, l.a.Recovery.SecurityGroupID
	if spec.Name == rotationFunction {
		subnets, group = l.a.Rotation.SubnetIDs, l.a.Rotation.SecurityGroupID
	}
	return &lambda.FunctionVpcConfigArgs{SubnetIds: subnets, SecurityGroupIds: pulumi.StringArray{group}}
}

// RestoredCopyPrefix starts the identifier of every database AWS Backup's restore testing
// restores: the only instances the restore check may change.
const RestoredCopyPrefix = "awsbackup-restore-test-"

// VpcNetworkActions let Lambda attach a function to its subnets (the managed policy
// AWSLambdaVPCAccessExecutionRole); EC2 gives them no resource-level permissions.
var VpcNetworkActions = []string{
	"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface",
	"ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
}

// recoveryStatements are the recovery functions' rights.
func (l *layer) recoveryStatements(spec functionSpec) []security.Statement {
	a := l.a
	db := func(id string) string {
		return fmt.Sprintf("arn:aws:rds:%s:%s:db:%s", a.Env.Region, a.Env.AccountID, id)
	}
	switch spec.Name {
	case recoveryFunction:
		st := []security.Statement{security.Allow("ReadRestorableTime", []string{"rds:DescribeDBInstances"}, []string{db(a.Recovery.DatabaseID)})}
		if a.Recovery.RestoreTestingPlan != "" {
			// ListRestoreJobs has no resource-level permissions (Service Authorization Reference).
			st = append(st, security.Allow("ReadRestoreTests", []string{"backup:ListRestoreJobs"}, []string{"*"}),
				// The plan's creation time: the test age counts from it until the first test.
				security.Allow("ReadRestoreTestingPlan", []string{"backup:GetRestoreTestingPlan"},
					[]string{fmt.Sprintf("arn:aws:backup:%s:%s:restore-testing-plan:%s*", a.Env.Region, a.Env.AccountID, a.Recovery.RestoreTestingPlan)}))
		}
		return st
	case restoreCheckFunction:
		var live []string
		for _, id := range a.Recovery.LiveDatabaseIDs {
			live = append(live, db(id))
		}
		return []security.Statement{
			security.Allow("Network", VpcNetworkActions, []string{"*"}),
			// Restore jobs have no ARN to scope these to.
			security.Allow("RestoreJob", []string{"backup:DescribeRestoreJob", "backup:PutRestoreValidationResult"}, []string{"*"}),
			// The recovery point's creation time, the reference of the freshness check. A
			// database's recovery point is the RDS snapshot AWS Backup took, and its ARN is the
			// snapshot's (AWS Backup Developer Guide, "Amazon RDS backups"; the Service
			// Authorization Reference's recoveryPoint type: arn:aws:<service>:...).
			security.Allow("RecoveryPoint", []string{"backup:DescribeRecoveryPoint"}, []string{fmt.Sprintf("arn:aws:rds:%s:%s:snapshot:awsbackup:*", a.Env.Region, a.Env.AccountID)}),
			// Only the copies restore testing creates (awsbackup-restore-test-<id>): describe
			// and wait on them, and reset the copy's password; never a live instance (below).
			security.Allow("RestoredCopy", []string{"rds:DescribeDBInstances", "rds:ModifyDBInstance"}, []string{db(RestoredCopyPrefix + "*")}),
			{Sid: "NeverTheLiveDatabase", Effect: "Deny", Action: []string{"rds:ModifyDBInstance"}, Resource: live},
		}
	}
	return nil
}

// recoveryEnvironment is the recovery functions' configuration.
func (l *layer) recoveryEnvironment(spec functionSpec, vars pulumi.StringMap) {
	r, region := l.a.Recovery, l.a.Env.Region
	vars["RECOVERY_NAMESPACE"] = pulumi.String(RecoveryNamespace)
	switch spec.Name {
	case recoveryFunction:
		vars["RDS_INSTANCE_ID"] = pulumi.String(r.DatabaseID)
		vars["RESTORE_TESTING_PLAN"] = pulumi.String(r.RestoreTestingPlan)
	case restoreCheckFunction:
		// Only this plan's restore jobs are validated; the rule sends every completed one.
		vars["RESTORE_TESTING_PLAN"] = pulumi.String(r.RestoreTestingPlan)
		vars["LIVE_DB_INSTANCE_IDS"] = pulumi.String(strings.Join(r.LiveDatabaseIDs, ","))
		vars["FRESHNESS_COLUMN"] = pulumi.String(r.FreshnessColumn)
		vars["FRESHNESS_MAX_HOURS"] = pulumi.String(strconv.Itoa(FreshnessMaxHours))
		vars["CA_BUNDLE_URL"] = pulumi.String(CABundleURL(region))
		vars["BACKUP_VAULT_NAME"] = pulumi.String(r.VaultName)
	}
}

// CABundleURL is the region's RDS certificate bundle ("Using SSL/TLS to encrypt a connection
// to a DB instance", RDS user guide): the restore check downloads it at cold start, so a CA
// rotation needs no new package.
func CABundleURL(region string) string {
	return fmt.Sprintf("https://truststore.pki.rds.amazonaws.com/%s/%s-bundle.pem", region, region)
}
