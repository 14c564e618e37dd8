package data_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/security"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	instanceType    = "aws:rds/instance:Instance"
	keyType         = "aws:kms/key:Key"
	aliasType       = "aws:kms/alias:Alias"
	paramsType      = "aws:rds/parameterGroup:ParameterGroup"
	roleType        = "aws:iam/role:Role"
	attachmentType  = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
	logGroupType    = "aws:cloudwatch/logGroup:LogGroup"
	providerType    = "pulumi:providers:aws"
	replicationType = "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
	passwordType    = "random:index/randomPassword:RandomPassword"
	secretType      = "aws:secretsmanager/secret:Secret"
	versionType     = "aws:secretsmanager/secretVersion:SecretVersion"
	componentType   = "canalco:data:Database"
)

// profile is what each environment's stack file must produce.
type profile struct {
	class                            string
	multiAz, protected, applyNow     bool
	allocated, maxAllocated, retains float64
}

var profiles = map[string]profile{
	"dev":     {class: "db.t4g.micro", applyNow: true, allocated: 20, maxAllocated: 100, retains: 7},
	"staging": {class: "db.t4g.medium", multiAz: true, protected: true, allocated: 50, maxAllocated: 500, retains: 30},
	"prod":    {class: "db.t4g.medium", multiAz: true, protected: true, allocated: 50, maxAllocated: 500, retains: 30},
}

// database is what the tests read of one stack's data layer.
type database struct {
	res                                *offline.Result
	stack                              string
	primary, key, params, role, attach *offline.Resource
}

func prefix(stack string) string { return "canalco-" + stack }

func find(t *testing.T, res *offline.Result, typ, name string) *offline.Resource {
	t.Helper()
	r := res.Named(typ, name)
	require.NotNil(t, r, "%s %s is not registered", typ, name)
	return r
}

// load finds the data layer's resources, each under the layer's component so it inherits
// its provider and shows up with it in the plan.
func load(t *testing.T, res *offline.Result, stack string) *database {
	t.Helper()
	p := prefix(stack)
	db := &database{
		res: res, stack: stack,
		primary: find(t, res, instanceType, p+"-postgres"),
		key:     find(t, res, keyType, p+"-data"),
		params:  find(t, res, paramsType, p+"-postgres-parameters"),
		role:    find(t, res, roleType, p+"-rds-monitoring"),
		attach:  find(t, res, attachmentType, p+"-rds-monitoring"),
	}
	for _, r := range []*offline.Resource{db.primary, db.key, db.params, db.role, db.attach} {
		require.NotNil(t, res.Ancestor(r, componentType), "%s %s is outside the data layer", r.Type, r.Name)
	}
	return db
}

// eachStack runs a test on the data layer of every real stack.
func eachStack(t *testing.T, test func(t *testing.T, db *database, want profile)) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			test(t, load(t, offline.Stack(t, stack), stack), profiles[stack])
		})
	}
}

// withConfig plans a stack with some settings changed.
func withConfig(t *testing.T, stack string, values map[string]string) *offline.Result {
	t.Helper()
	res, err := offline.WithValues(t, stack, values)
	require.NoError(t, err)
	return res
}

// logGroup returns the log group of that name, or nil.
func (db *database) logGroup(name string) *offline.Resource {
	for _, g := range db.res.OfType(logGroupType) {
		if g.Str("name") == name {
			return g
		}
	}
	return nil
}

func (db *database) arn(r *offline.Resource) string {
	s, _ := r.Outputs["arn"].(string)
	return s
}

// sharedSettings checks the instance's class, storage and encryption.
func sharedSettings(t *testing.T, db *database, r *offline.Resource, want profile) {
	t.Helper()
	keyArn := db.arn(db.key)
	assert.Equal(t, want.class, r.Str("instanceClass"))
	assert.Equal(t, "gp3", r.Str("storageType"))
	assert.Equal(t, want.maxAllocated, r.Num("maxAllocatedStorage"))
	assert.True(t, r.Bool("storageEncrypted"), "RDS.3")
	if r.Str("replicateSourceDb") == "" { // a replica takes its source's key (replica_test.go)
		assert.Equal(t, keyArn, r.Str("kmsKeyId"), "storage must use the data key")
	}
	assert.Equal(t, db.params.Str("name"), r.Str("parameterGroupName"))
	rdsSG := find(t, db.res, "aws:ec2/securityGroup:SecurityGroup", prefix(db.stack)+"-rds")
	assert.Equal(t, []string{rdsSG.Outputs["id"].(string)}, r.Strings("vpcSecurityGroupIds"), "only the seed's RDS security group")
	assert.Equal(t, 5432.0, r.Num("port"), "the seed's port (RDS.23 exception)")
	assert.Equal(t, false, r.Get("publiclyAccessible"), "RDS.2")
	assert.Equal(t, "rds-ca-rsa2048-g1", r.Str("caCertIdentifier"))
	assert.Equal(t, true, r.Get("autoMinorVersionUpgrade"), "RDS.13")
	assert.Equal(t, false, r.Get("allowMajorVersionUpgrade"), "majors only on purpose")
	assert.Equal(t, want.applyNow, r.Get("applyImmediately"), "protected stacks change in the maintenance window")
	assert.Equal(t, true, r.Get("copyTagsToSnapshot"), "RDS.17")
	assert.Equal(t, true, r.Get("iamDatabaseAuthenticationEnabled"), "RDS.10")
	assert.Equal(t, want.protected, r.Get("deletionProtection"), "RDS.8")
	assert.Equal(t, "sun:08:30-sun:09:30", r.Str("maintenanceWindow"))
	assert.Equal(t, 60.0, r.Num("monitoringInterval"), "RDS.6")
	assert.Equal(t, db.arn(db.role), r.Str("monitoringRoleArn"))
	assert.Equal(t, true, r.Get("performanceInsightsEnabled"))
	assert.Equal(t, keyArn, r.Str("performanceInsightsKmsKeyId"))
	assert.Equal(t, 7.0, r.Num("performanceInsightsRetentionPeriod"), "the free tier")
	assert.ElementsMatch(t, []string{"postgresql", "upgrade"}, r.Strings("enabledCloudwatchLogsExports"), "RDS.9, RDS.36")
	assert.True(t, r.DependsOn(db.attach.URN), "RDS checks the monitoring role's policy when it creates the instance")
	assert.NotNil(t, db.res.Ancestor(r, componentType), "the instance belongs to the data layer")
}

func TestPrimaryInstance(t *testing.T) {
	eachStack(t, func(t *testing.T, db *database, want profile) {
		r := db.primary
		sharedSettings(t, db, r, want)
		assert.Equal(t, prefix(db.stack)+"-postgres", r.Str("identifier"))
		assert.Equal(t, "postgres", r.Str("engine"))
		assert.Regexp(t, `^\d+$`, r.Str("engineVersion"), "only the major is pinned, so minor upgrades cause no drift")
		assert.Equal(t, "17", r.Str("engineVersion"), "the latest major in RDS standard support by default")
		assert.Equal(t, "open-source-rds-extended-support-disabled", r.Str("engineLifecycleSupport"))
		assert.Equal(t, want.multiAz, r.Get("multiAz"), "RDS.5 outside dev")
		assert.Equal(t, want.allocated, r.Num("allocatedStorage"))
		assert.Greater(t, r.Num("maxAllocatedStorage"), r.Num("allocatedStorage"), "storage autoscaling headroom")
		assert.Equal(t, want.retains, r.Num("backupRetentionPeriod"), "RDS.11")
		window := "07:00-08:00"
		if db.stack == "dev" {
			window = "17:00-17:30" // stopped at night, when RDS takes no backup: midday in Bogotá
		}
		assert.Equal(t, window, r.Str("backupWindow"))
		assert.Equal(t, !want.protected, r.Get("skipFinalSnapshot"), "protected stacks take a final snapshot")
		assert.Equal(t, !want.protected, r.Get("deleteAutomatedBackups"), "protected stacks keep PITR after a deletion")
		assert.Equal(t, "canalco", r.Str("dbName"))
		assert.Equal(t, "canalco_admin", r.Str("username"))
		assert.NotEqual(t, "postgres", r.Str("username"), "RDS.25")
		assert.Equal(t, false, r.Get("manageMasterUserPassword"), "the program's secret holds the password, not RDS's (read replicas, Blue/Green)")
		assert.Nil(t, r.Get("masterUserSecretKmsKeyId"))
		password := find(t, db.res, passwordType, prefix(db.stack)+"-postgres-master")
		assert.Equal(t, offline.Secret{Value: password.Outputs["result"]}, r.Inputs["password"], "the generated password, kept encrypted in the state")
		assert.NotContains(t, r.IgnoreChanges, "password", "an ignored password would be dropped from the move away from RDS's management (offline/moveover_test.go)")
		subnets := find(t, db.res, "aws:rds/subnetGroup:SubnetGroup", prefix(db.stack)+"-db")
		assert.Equal(t, subnets.Str("name"), r.Str("dbSubnetGroupName"), "the database subnets")
		assert.Nil(t, r.Get("replicateSourceDb"))
	})
}

func TestDataKey(t *testing.T) {
	eachStack(t, func(t *testing.T, db *database, want profile) {
		k := db.key
		assert.Equal(t, true, k.Get("enableKeyRotation"))
		alias := find(t, db.res, aliasType, prefix(db.stack)+"-data")
		assert.Equal(t, "alias/"+prefix(db.stack)+"-data", alias.Str("name"))
		policy := parsePolicy(t, k.Str("policy"))
		use := policy.Sid("UseThroughDatabaseServices")
		require.NotNil(t, use, "the key policy must let RDS and Secrets Manager use the key")
		region := db.res.Config.Values["aws:region"]
		assert.ElementsMatch(t, []any{"rds." + region + ".amazonaws.com", "secretsmanager." + region + ".amazonaws.com"},
			use.Condition["StringEquals"]["kms:ViaService"])
		assert.Equal(t, offline.AccountOf(db.stack), use.Condition["StringEquals"]["kms:CallerAccount"])
		for _, action := range []string{"kms:Decrypt", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"} {
			assert.Contains(t, use.Action, action)
		}
		assert.Equal(t, want.protected, k.Protect && k.RetainOnDelete, "a lost key is lost data")
		assert.Equal(t, want.protected, db.primary.Protect && db.primary.RetainOnDelete, "the instance is protected in staging and prod")
	})
}

func parsePolicy(t *testing.T, doc string) *security.Parsed {
	t.Helper()
	p, err := security.ParseDocument(doc)
	require.NoError(t, err, doc)
	return p
}

func TestParameterGroup(t *testing.T) {
	eachStack(t, func(t *testing.T, db *database, _ profile) {
		major := db.primary.Str("engineVersion")
		assert.Equal(t, "postgres"+major, db.params.Str("family"), "the family follows the engine major")
		assert.Equal(t, prefix(db.stack)+"-postgres"+major, db.params.Str("name"), "a new major gets a new group")
		got := map[string][2]string{}
		for _, p := range db.params.List("parameters") {
			m := p.(map[string]any)
			method, _ := m["applyMethod"].(string)
			assert.Contains(t, []string{"immediate", "pending-reboot"}, method, "%v", m)
			got[m["name"].(string)] = [2]string{m["value"].(string), method}
		}
		assert.Equal(t, [2]string{"1", "immediate"}, got["rds.force_ssl"], "RDS.38: TLS only")
		assert.Equal(t, [2]string{"500", "immediate"}, got["log_min_duration_statement"], "slow statements show up")
		assert.Equal(t, [2]string{"1", "immediate"}, got["log_connections"])
		assert.Equal(t, [2]string{"1", "immediate"}, got["log_disconnections"])
		// shared_preload_libraries is static: RDS refuses "immediate" for it.
		assert.Equal(t, [2]string{"pg_stat_statements", "pending-reboot"}, got["shared_preload_libraries"])
	})
}

func TestParameterFamilyFollowsTheMajor(t *testing.T) {
	// 17, the default, is TestParameterGroup's; 16 is in TestFinalSnapshotIsUniquePerReplacement.
	db := load(t, withConfig(t, "prod", map[string]string{"canalco:dbEngineVersion": "15"}), "prod")
	assert.Equal(t, "15", db.primary.Str("engineVersion"))
	assert.Equal(t, "postgres15", db.params.Str("family"))
	assert.Equal(t, "canalco-prod-postgres15", db.params.Str("name"))
}

func TestLogGroups(t *testing.T) {
	// CloudWatch Logs accepts only these retention periods.
	retentions := []float64{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
	eachStack(t, func(t *testing.T, db *database, _ profile) {
		id := db.primary.Str("identifier")
		for _, kind := range []string{"postgresql", "upgrade"} {
			name := "/aws/rds/instance/" + id + "/" + kind
			group := db.logGroup(name)
			require.NotNil(t, group, "log group %s is not created before RDS creates it without retention or key", name)
			assert.Contains(t, retentions, group.Num("retentionInDays"), name)
			assert.NotEmpty(t, group.Str("kmsKeyId"), name)
			assert.True(t, db.primary.DependsOn(group.URN), "the instance must wait for %s", name)
			assert.NotNil(t, db.res.Ancestor(group, componentType))
		}
	})
}

func TestMonitoringRole(t *testing.T) {
	eachStack(t, func(t *testing.T, db *database, _ profile) {
		trust := parsePolicy(t, db.role.Str("assumeRolePolicy"))
		require.Len(t, trust.Statement, 1)
		s := trust.Statement[0]
		assert.Equal(t, "monitoring.rds.amazonaws.com", s.Principal["Service"])
		assert.Equal(t, []string{"sts:AssumeRole"}, s.Action)
		assert.Equal(t, offline.AccountOf(db.stack), s.Condition["StringEquals"]["aws:SourceAccount"], "no confused deputy")
		assert.Equal(t, "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole", db.attach.Str("policyArn"))
		assert.Equal(t, db.role.Str("name"), db.attach.Str("role"))
		// The only inline policy in the data layer is the office-hours schedules' (stop and start).
		for _, inline := range db.res.OfType("aws:iam/rolePolicy:RolePolicy") {
			if db.res.Ancestor(inline, componentType) != nil {
				assert.Equal(t, "canalco-"+db.stack+"-postgres-offhours", inline.Name)
				assert.NotEqual(t, db.role.Outputs["id"], inline.Str("role"), "the monitoring role has only its managed policy")
			}
		}
	})
}

// TestNoPasswordAnywhere walks every input of every resource of every stack: a key that names
// a password carries a flag or the generated password, encrypted in the state, never a value
// from the code or the stack files.
func TestNoPasswordAnywhere(t *testing.T) {
	generated := map[any]bool{}
	var walk func(path string, v any) []string
	walk = func(path string, v any) []string {
		var bad []string
		switch x := v.(type) {
		case offline.Secret:
			return walk(path, x.Value)
		case map[string]any:
			for k, e := range x {
				_, flag := e.(bool)
				secret, encrypted := e.(offline.Secret)
				if strings.Contains(strings.ToLower(k), "password") && !flag && e != nil && !(encrypted && generated[secret.Value]) {
					bad = append(bad, path+"."+k)
				}
				bad = append(bad, walk(path+"."+k, e)...)
			}
		case []any:
			for _, e := range x {
				bad = append(bad, walk(path, e)...)
			}
		}
		return bad
	}
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			for _, p := range res.OfType(passwordType) {
				generated[p.Outputs["result"]] = true
			}
			for _, r := range res.Resources {
				assert.Empty(t, walk(r.Type+" "+r.Name, r.Inputs))
			}
		})
	}
}

var (
	// RDS instance identifiers: 1 to 63 letters, digits or hyphens, a letter first, no doubled
	// or trailing hyphen. Snapshot and parameter group names follow the same rule up to 255.
	rdsName   = regexp.MustCompile(`^[a-zA-Z](-?[a-zA-Z0-9])*$`)
	iamName   = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	kmsAlias  = regexp.MustCompile(`^alias/[a-zA-Z0-9/_-]{1,250}$`)
	logsGroup = regexp.MustCompile(`^[.\-_/#A-Za-z0-9]{1,512}$`)
)

func TestNames(t *testing.T) {
	eachStack(t, func(t *testing.T, db *database, _ profile) {
		for _, c := range []struct {
			what, name string
			max        int
		}{
			{"instance identifier", db.primary.Str("identifier"), 63},
			{"final snapshot", db.primary.Str("finalSnapshotIdentifier"), 255},
			{"parameter group", db.params.Str("name"), 255},
		} {
			assert.Regexp(t, rdsName, c.name, c.what)
			assert.LessOrEqual(t, len(c.name), c.max, c.what)
		}
		assert.Regexp(t, iamName, db.role.Str("name"))
		alias := find(t, db.res, aliasType, prefix(db.stack)+"-data").Str("name")
		assert.Regexp(t, kmsAlias, alias)
		assert.False(t, strings.HasPrefix(alias, "alias/aws/"), "alias/aws/ is AWS's")
		for _, g := range db.res.OfType(logGroupType) {
			if db.res.Ancestor(g, componentType) != nil {
				assert.Regexp(t, logsGroup, g.Str("name"))
			}
		}
		assert.True(t, strings.HasPrefix(db.primary.Str("finalSnapshotIdentifier"), db.primary.Str("identifier")+"-final-"))
	})
}

// TestFinalSnapshotIsUniquePerReplacement proves that what replaces the instance renames its
// final snapshot, and that an in-place change does not.
func TestFinalSnapshotIsUniquePerReplacement(t *testing.T) {
	base := load(t, offline.Stack(t, "prod"), "prod").primary.Str("finalSnapshotIdentifier")
	for _, c := range []struct {
		key, value string
		replaces   bool
	}{
		{"canalco:dbName", "canalco2", true},
		{"canalco:dbUsername", "canalco_owner", true},
		{"canalco:dbSlowQueryMs", "250", false},
		{"canalco:dbEngineVersion", "16", false},
	} {
		t.Run(c.key, func(t *testing.T) {
			db := load(t, withConfig(t, "prod", map[string]string{c.key: c.value}), "prod")
			got := db.primary.Str("finalSnapshotIdentifier")
			assert.Equal(t, c.replaces, got != base, "%s -> %s", base, got)
			assert.Regexp(t, rdsName, got)
			assert.Equal(t, "postgres"+db.primary.Str("engineVersion"), db.params.Str("family"))
		})
	}
}

func TestOneInstanceAndNoBackupCopyByDefault(t *testing.T) {
	eachStack(t, func(t *testing.T, db *database, _ profile) {
		assert.Len(t, db.res.OfType(instanceType), 1, "one instance per stack")
		assert.Empty(t, db.res.OfType(replicationType), "the cross-region copy is off by default")
	})
}

func TestBackupReplication(t *testing.T) {
	res := withConfig(t, "prod", map[string]string{"canalco:dbBackupReplicationRegion": "us-west-2"})
	db := load(t, res, "prod")
	var dest, home *offline.Resource
	for _, p := range res.OfType(providerType) {
		switch p.Str("region") {
		case "us-west-2":
			dest = p
		case "us-east-1":
			if p.Name == "aws" {
				home = p
			}
		}
	}
	require.NotNil(t, dest, "a provider for the destination region")
	require.NotNil(t, home)
	assert.NotNil(t, res.Ancestor(dest, componentType), "the provider belongs to the data layer")
	assert.Equal(t, home.Get("defaultTags"), dest.Get("defaultTags"), "the copy carries the stack's tags")
	onDest := func(r *offline.Resource) bool { return strings.HasPrefix(r.Provider, dest.URN+"::") }

	key := find(t, res, keyType, "canalco-prod-data-backups")
	assert.True(t, onDest(key), "the copy's key lives in the destination region: %s", key.Provider)
	assert.True(t, key.Protect && key.RetainOnDelete, "backups are unreadable without their key")
	alias := find(t, res, aliasType, "canalco-prod-data-backups")
	assert.True(t, onDest(alias))
	assert.Regexp(t, kmsAlias, alias.Str("name"))
	use := parsePolicy(t, key.Str("policy")).Sid("UseThroughDatabaseServices")
	require.NotNil(t, use)
	assert.Equal(t, []any{"rds.us-west-2.amazonaws.com"}, use.Condition["StringEquals"]["kms:ViaService"])

	reps := res.OfType(replicationType)
	require.Len(t, reps, 1)
	rep := reps[0]
	assert.True(t, onDest(rep), "RDS runs the copy from the destination region")
	assert.Equal(t, db.arn(db.primary), rep.Str("sourceDbInstanceArn"))
	assert.Equal(t, db.arn(key), rep.Str("kmsKeyId"))
	assert.Equal(t, db.primary.Num("backupRetentionPeriod"), rep.Num("retentionPeriod"))
	assert.False(t, onDest(db.primary), "the primary stays home")
}

// TestMasterSecret: the credentials live in the program's secret, encrypted with the data key,
// kept like the data in protected stacks; the first version holds what the instance was created
// with, in the shape the rotation function reads, and the rotation owns every later value.
func TestMasterSecret(t *testing.T) {
	eachStack(t, func(t *testing.T, db *database, want profile) {
		name := prefix(db.stack) + "-postgres-master"
		password := find(t, db.res, passwordType, name)
		assert.Equal(t, 40.0, password.Num("length"))
		assert.Equal(t, true, password.Get("special"))
		assert.NotContains(t, password.Str("overrideSpecial"), "/", "RDS refuses /, \", @ and space in a master password")
		assert.NotContains(t, password.Str("overrideSpecial"), "@")
		assert.NotContains(t, password.Str("overrideSpecial"), "\"")
		assert.NotContains(t, password.Str("overrideSpecial"), " ")
		assert.Empty(t, password.Get("keepers"), "nothing may make a new password: the instance would be reset to it")

		secret := find(t, db.res, secretType, name)
		assert.Equal(t, name, secret.Str("name"))
		assert.Equal(t, db.arn(db.key), secret.Str("kmsKeyId"), "encrypted with the data key")
		recovery := 0.0
		if want.protected {
			recovery = 30
		}
		assert.Equal(t, recovery, secret.Num("recoveryWindowInDays"))

		version := find(t, db.res, versionType, name)
		assert.Equal(t, db.arn(secret), version.Str("secretId"))
		assert.Equal(t, []string{"secretString"}, version.IgnoreChanges, "the rotation writes every later value")
		text, ok := version.Inputs["secretString"].(offline.Secret)
		require.True(t, ok, "the value is encrypted in the state")
		var value map[string]any
		require.NoError(t, json.Unmarshal([]byte(text.Value.(string)), &value))
		assert.Equal(t, map[string]any{
			"engine": "postgres", "host": db.primary.Outputs["address"], "port": 5432.0, "username": "canalco_admin",
			"password": password.Outputs["result"], "dbname": "canalco", "dbInstanceIdentifier": db.primary.Str("identifier"),
		}, value)
		for _, r := range []*offline.Resource{password, secret, version} {
			assert.Equal(t, want.protected, r.Protect, "%s %s: kept like the data in protected stacks", r.Type, r.Name)
			require.NotNil(t, db.res.Ancestor(r, componentType), "%s is outside the data layer", r.Name)
		}
	})
}
