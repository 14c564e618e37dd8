package policy

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/canalco/infra/offline"
)

const (
	typeDB             = "aws:rds/instance:Instance"
	typeDBSnapshot     = "aws:rds/snapshot:Snapshot"
	typeParameterGroup = "aws:rds/parameterGroup:ParameterGroup"
)

// defaultPorts are the engines' well-known ports (RDS.23).
var defaultPorts = map[string]int{"postgres": 5432, "mysql": 3306, "mariadb": 3306}

// defaultAdmins are the engines' default master user names (RDS.25).
var defaultAdmins = []string{"postgres", "admin", "root", "rdsadmin"}

func isReplica(r *offline.Resource) bool { return r.Str("replicateSourceDb") != "" }

// primaryOnly passes read replicas, which take these settings from their source.
func primaryOnly(c func(r *offline.Resource, ctx *Context) (bool, string)) func(r *offline.Resource, ctx *Context) (bool, string) {
	return func(r *offline.Resource, ctx *Context) (bool, string) {
		if isReplica(r) {
			return pass()
		}
		return c(r, ctx)
	}
}

// dbPort is the port the instance listens on: its own setting or the engine's default.
func dbPort(r *offline.Resource) int {
	if p := int(r.Num("port")); p != 0 {
		return p
	}
	return defaultPorts[r.Str("engine")]
}

// encrypted reports whether an instance's storage is encrypted; a replica is when its source is.
func encrypted(r *offline.Resource, ctx *Context) bool {
	if isReplica(r) && r.Get("storageEncrypted") == nil {
		src := ctx.Ref(r.Str("replicateSourceDb"), typeDB)
		return src != nil && src.Bool("storageEncrypted")
	}
	return r.Bool("storageEncrypted")
}

// forceSSL returns the rds.force_ssl value the instance's parameter group sets, or "".
func forceSSL(r *offline.Resource, ctx *Context) string {
	pg := ctx.Ref(r.Str("parameterGroupName"), typeParameterGroup)
	if pg == nil {
		return ""
	}
	for i := range pg.List("parameters") {
		if pg.Str(fmt.Sprintf("parameters.%d.name", i)) == "rds.force_ssl" {
			return pg.Str(fmt.Sprintf("parameters.%d.value", i))
		}
	}
	return ""
}

var databaseRules = []Rule{
	{
		ID: "RDS.2", Framework: FSBP, Severity: Critical, ResourceTypes: []string{typeDB},
		Title: "RDS DB Instances should prohibit public access, as determined by the PubliclyAccessible AWS Configuration",
		Fix:   "set publiclyAccessible false and keep the instance in the database subnets",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(!r.Bool("publiclyAccessible"), "publiclyAccessible is true")
		},
	},
	{
		ID: "RDS.3", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeDB},
		Title: "RDS DB instances should have encryption at-rest enabled",
		Fix:   "set storageEncrypted true with the database's KMS key (kmsKeyId)",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			return check(encrypted(r, ctx), "storage is not encrypted")
		},
	},
	{
		ID: "RDS.4", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeDBSnapshot},
		Title: "RDS cluster snapshots and database snapshots should be encrypted at rest",
		Fix:   "snapshot only encrypted instances (their snapshots are encrypted with the same key)",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			src := ctx.Ref(r.Str("dbInstanceIdentifier"), typeDB)
			return check(src != nil && encrypted(src, ctx), "the snapshot's instance is not encrypted")
		},
	},
	{
		ID: "RDS.5", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeDB}, AppliesTo: notDev,
		Title: "RDS DB instances should be configured with multiple Availability Zones",
		Fix:   "set multiAz true (canalco:dbMultiAz) outside dev",
		Check: primaryOnly(func(r *offline.Resource, _ *Context) (bool, string) {
			return check(r.Bool("multiAz"), "single-AZ: a zone failure stops the database")
		}),
	},
	{
		ID: "RDS.6", Framework: FSBP, Severity: Low, ResourceTypes: []string{typeDB},
		Title: "Enhanced monitoring should be configured for RDS DB instances",
		Fix:   "set monitoringInterval (e.g. 60) and monitoringRoleArn",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(r.Num("monitoringInterval") > 0 && r.Str("monitoringRoleArn") != "", "enhanced monitoring is off")
		},
	},
	{
		ID: "RDS.8", Framework: FSBP, Severity: Low, ResourceTypes: []string{typeDB}, AppliesTo: notDev,
		Title: "RDS DB instances should have deletion protection enabled",
		Fix:   "set deletionProtection true in protected stacks",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(r.Bool("deletionProtection"), "deletion protection is off")
		},
	},
	{
		ID: "RDS.9", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeDB},
		Title: "RDS DB instances should publish logs to CloudWatch Logs",
		Fix:   "set enabledCloudwatchLogsExports [postgresql, upgrade]",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			want := map[string][]string{"postgres": {"postgresql", "upgrade"}, "mysql": {"audit", "error", "general", "slowquery"}}[r.Str("engine")]
			have := strings.Join(r.Strings("enabledCloudwatchLogsExports"), ",")
			for _, w := range want {
				if !strings.Contains(","+have+",", ","+w+",") {
					return fail(w + " logs are not exported")
				}
			}
			return check(have != "", "no logs are exported")
		},
	},
	{
		ID: "RDS.10", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeDB},
		Title: "IAM authentication should be configured for RDS instances",
		Fix:   "set iamDatabaseAuthenticationEnabled true",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(r.Bool("iamDatabaseAuthenticationEnabled"), "IAM database authentication is off")
		},
	},
	{
		ID: "RDS.11", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeDB},
		Title: "RDS instances should have automatic backups enabled",
		Fix:   "set backupRetentionPeriod to at least 7 days",
		Check: primaryOnly(func(r *offline.Resource, _ *Context) (bool, string) {
			n := r.Num("backupRetentionPeriod")
			return check(n >= 7, fmt.Sprintf("backups are kept %v day(s), under 7", n))
		}),
	},
	{
		ID: "RDS.13", Framework: FSBP, Severity: High, ResourceTypes: []string{typeDB},
		Title: "RDS automatic minor version upgrades should be enabled",
		Fix:   "leave autoMinorVersionUpgrade unset or true (pin only the major version)",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(r.Get("autoMinorVersionUpgrade") == nil || r.Bool("autoMinorVersionUpgrade"), "minor upgrades are off")
		},
	},
	{
		ID: "RDS.17", Framework: FSBP, Severity: Low, ResourceTypes: []string{typeDB},
		Title: "RDS DB instances should be configured to copy tags to snapshots",
		Fix:   "set copyTagsToSnapshot true",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(r.Bool("copyTagsToSnapshot"), "snapshots lose the instance's tags")
		},
	},
	{
		ID: "RDS.18", Framework: FSBP, Severity: High, ResourceTypes: []string{typeDB},
		Title: "RDS instances should be deployed in a VPC",
		Fix:   "set dbSubnetGroupName to the network layer's database subnet group",
		Check: primaryOnly(func(r *offline.Resource, _ *Context) (bool, string) {
			return check(r.Str("dbSubnetGroupName") != "", "no DB subnet group")
		}),
	},
	{
		ID: "RDS.23", Framework: FSBP, Severity: Low, ResourceTypes: []string{typeDB},
		Title: "RDS instances should not use a database engine default port",
		Fix:   "set port to a non-default value",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			p := dbPort(r)
			return check(p != defaultPorts[r.Str("engine")], "listens on the engine's default port "+strconv.Itoa(p))
		},
	},
	{
		ID: "RDS.25", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeDB},
		Title: "RDS database instances should use a custom administrator username",
		Fix:   "set username to a name other than postgres/admin (canalco:dbUsername)",
		Check: primaryOnly(func(r *offline.Resource, _ *Context) (bool, string) {
			u := r.Str("username")
			for _, d := range defaultAdmins {
				if u == d || u == "" {
					return fail(fmt.Sprintf("master user %q is a default name", u))
				}
			}
			return pass()
		}),
	},
	{
		ID: "Canalco.3", Framework: Canalco, Severity: Medium, ResourceTypes: []string{typeDB},
		Title: "The database master password is in a Secrets Manager secret, encrypted with a customer-managed key and rotated",
		Fix:   "keep the credentials in a secret of the stack (kmsKeyId set) with a SecretRotation, or set manageMasterUserPassword true",
		Check: primaryOnly(func(r *offline.Resource, ctx *Context) (bool, string) {
			if r.Bool("manageMasterUserPassword") {
				return pass()
			}
			secret := masterSecret(r, ctx)
			switch {
			case secret == nil:
				return fail("no secret of the stack holds the master credentials (dbInstanceIdentifier " + r.Str("identifier") + ")")
			case secret.Str("kmsKeyId") == "":
				return fail("the master secret " + secret.Str("name") + " is encrypted with the AWS-managed key")
			case len(ctx.Pointing(typeSecretRotation, "secretId", secret)) == 0:
				return fail("the master secret " + secret.Str("name") + " is never rotated")
			}
			return pass()
		}),
	},
	{
		ID: "Canalco.4", Framework: Canalco, Severity: Medium, ResourceTypes: []string{typeDB},
		Title: "PostgreSQL accepts only TLS connections",
		Fix:   "use PostgreSQL 15 or later (rds.force_ssl defaults to 1) or set rds.force_ssl 1 in the parameter group",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			if r.Str("engine") != "postgres" {
				return pass()
			}
			major, _ := strconv.Atoi(strings.SplitN(r.Str("engineVersion"), ".", 2)[0])
			switch v := forceSSL(r, ctx); {
			case v == "1":
				return pass()
			case v == "0":
				return fail("the parameter group sets rds.force_ssl 0")
			default:
				return check(major >= 15, fmt.Sprintf("PostgreSQL %q does not force TLS by default", r.Str("engineVersion")))
			}
		},
	},
	{
		ID: "Canalco.5", Framework: Canalco, Severity: Low, ResourceTypes: []string{typeDB},
		Title: "Performance Insights is on and encrypted with the database's key",
		Fix:   "set performanceInsightsEnabled true and performanceInsightsKmsKeyId",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(r.Bool("performanceInsightsEnabled") && r.Str("performanceInsightsKmsKeyId") != "", "Performance Insights is off or uses the AWS-managed key")
		},
	},
}

// masterSecret is the secret whose first version holds the instance's credentials (the
// rotation templates' JSON, with dbInstanceIdentifier), or nil.
func masterSecret(db *offline.Resource, ctx *Context) *offline.Resource {
	for _, v := range ctx.OfType("aws:secretsmanager/secretVersion:SecretVersion") {
		var value struct {
			Instance string `json:"dbInstanceIdentifier"`
		}
		text := v.Inputs["secretString"]
		if s, ok := text.(offline.Secret); ok {
			text = s.Value
		}
		if s, ok := text.(string); ok && json.Unmarshal([]byte(s), &value) == nil && value.Instance == db.Str("identifier") {
			return ctx.Ref(v.Str("secretId"), typeSecret)
		}
	}
	return nil
}
