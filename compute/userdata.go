package compute

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/template"

	"github.com/canalco/infra/network"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

var (
	//go:embed userdata.sh
	userDataScript string
	//go:embed migrate.sh
	migrateScript string
	//go:embed approle.sql
	appRoleSQL string
	//go:embed credentials.sh
	credentialsScript string

	scripts = template.Must(template.New("userdata.sh").Funcs(template.FuncMap{"q": shellQuote}).Parse(userDataScript))
	_       = template.Must(scripts.New("migrate.sh").Parse(migrateScript))
	_       = template.Must(scripts.New("credentials.sh").Parse(credentialsScript))
)

// shellQuote makes any value one literal shell word, so nothing rendered into the scripts is
// ever interpreted by the shell.
func shellQuote(v string) string {
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}

// bootConfig is what an instance's boot script knows about the stack. It names no release: the
// boot reads that from the release parameter, so a release leaves the launch template alone.
type bootConfig struct {
	Region, Environment string
	// Repository is the image repository's URL, RepositoryName its name and Registry its host,
	// for `docker login`.
	Repository, RepositoryName, Registry string
	// ReleaseParameter holds the running release; NoRelease is its value before the first one.
	ReleaseParameter, NoRelease string
	// ReleaseTagPrefix marks the images a release runs (lifecycle rules never select it).
	ReleaseTagPrefix string
	SecretArn        string
	AgentParameter   string
	LogGroup         string
	Port             int
	// DatabaseParameter and DatabaseReadParameter hold the database's hosts, read at boot;
	// the boot waits up to DatabaseWaitMinutes for them and for the database to answer.
	DatabaseParameter, DatabaseReadParameter string
	DatabaseWaitMinutes                      int
	DatabasePort                             int
	DatabaseName                             string
	AppUser                                  string
	// Variables are the backend's plain settings: bucket names, queue URLs, topic ARN.
	Variables        []envVar
	HealthFile       string
	CABundle         string
	MigrationCommand string
	AppRoleSQL       string
	// Migrations is the rendered canalco-run-migrations script the boot script installs.
	Migrations string
	// AppRoleArn is the role whose credentials the host writes to CredentialsDir (tmpfs),
	// readable by CredentialsGroup, for the container; AWSConfig names them to the SDK.
	AppRoleArn, CredentialsDir, CredentialsGroup, AWSConfig string
	// Credentials is the rendered canalco-app-credentials script the boot script installs.
	Credentials string
}

type envVar struct{ Name, Value string }

// newBootConfig gathers the plain values once the stack's outputs are known.
func newBootConfig(a *ComputeArgs, c *Compute, repositoryURL, secretArn, appRoleArn string) bootConfig {
	b := bootConfig{
		Region:                a.Env.Region,
		Environment:           string(a.Env.Environment),
		Repository:            repositoryURL,
		Registry:              strings.SplitN(repositoryURL, "/", 2)[0],
		RepositoryName:        repositoryURL[strings.Index(repositoryURL, "/")+1:],
		ReleaseParameter:      c.ReleaseParameter,
		NoRelease:             NoRelease,
		ReleaseTagPrefix:      ReleaseTagPrefix,
		SecretArn:             secretArn,
		AgentParameter:        c.AgentParameter,
		LogGroup:              c.AppLogGroup,
		Port:                  network.BackendPort,
		DatabaseParameter:     a.DatabaseParameter,
		DatabaseReadParameter: a.DatabaseReadParameter,
		DatabaseWaitMinutes:   DatabaseWaitMinutes,
		DatabasePort:          network.DatabasePort,
		DatabaseName:          a.DatabaseName,
		AppUser:               AppDatabaseUser,
		HealthFile:            strings.TrimPrefix(a.Settings.HealthCheckPath, "/"),
		CABundle:              "/etc/canalco/rds-global-bundle.pem",
		MigrationCommand:      a.Settings.MigrationCommand,
		AppRoleSQL:            appRoleSQL,
		AppRoleArn:            appRoleArn,
		CredentialsDir:        "/run/canalco/aws",
		CredentialsGroup:      "canalco-app",
		AWSConfig:             "/etc/canalco/aws-config",
	}
	// The placeholder serves files: a health path naming a folder is served by its index.
	if b.HealthFile == "" || strings.HasSuffix(b.HealthFile, "/") {
		b.HealthFile += "index.html"
	}
	for purpose, bucket := range a.DocumentBuckets {
		b.Variables = append(b.Variables, envVar{"BUCKET_" + strings.ToUpper(purpose), bucket})
	}
	for name, value := range a.AppSettings {
		b.Variables = append(b.Variables, envVar{name, value})
	}
	sort.Slice(b.Variables, func(i, j int) bool { return b.Variables[i].Name < b.Variables[j].Name })
	return b
}

// render returns the boot script (user data) with the migrations and credentials scripts
// inside it.
func (b bootConfig) render() (string, error) {
	var migrations, credentials, boot strings.Builder
	if err := scripts.ExecuteTemplate(&migrations, "migrate.sh", b); err != nil {
		return "", err
	}
	if err := scripts.ExecuteTemplate(&credentials, "credentials.sh", b); err != nil {
		return "", err
	}
	b.Migrations, b.Credentials = migrations.String(), credentials.String()
	if err := scripts.ExecuteTemplate(&boot, "userdata.sh", b); err != nil {
		return "", err
	}
	return boot.String(), nil
}

// DatabaseWaitMinutes bounds a boot's wait for the database: a first `pulumi up` creates the
// instances beside a Multi-AZ database that takes about 20 minutes, with room for a slow day.
const DatabaseWaitMinutes = 40

// bootScript is the launch template's user data, base64-encoded. It depends on the stack only,
// never on a release or the database instance: `pulumi up` from any checkout renders the same
// script, and the group is created beside the database.
func bootScript(a *ComputeArgs, c *Compute, repositoryURL pulumi.StringOutput) pulumi.StringOutput {
	return pulumi.All(repositoryURL, a.DatabaseSecretArn, c.AppRoleArn).ApplyT(func(v []any) (string, error) {
		script, err := newBootConfig(a, c, v[0].(string), v[1].(string), v[2].(string)).render()
		if err != nil {
			return "", fmt.Errorf("user data: %w", err)
		}
		return encodeUserData(script)
	}).(pulumi.StringOutput)
}

// encodeUserData gzips the boot script: EC2 takes at most 16 KB of user data, and cloud-init
// runs a gzipped script as it is ("User data formats", cloud-init documentation: compressed
// content is uncompressed first). The gzip header carries no time, so the same script always
// encodes the same and the launch template never changes for nothing.
func encodeUserData(script string) (string, error) {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(script)); err != nil {
		return "", fmt.Errorf("user data: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("user data: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b.Bytes()), nil
}

// DecodeUserData is the boot script of a launch template's user data, and the size EC2 counts.
func DecodeUserData(userData string) (script string, size int, err error) {
	raw, err := base64.StdEncoding.DecodeString(userData)
	if err != nil {
		return "", 0, err
	}
	r, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return "", 0, err
	}
	text, err := io.ReadAll(r)
	return string(text), len(raw), err
}

// agentConfig is the CloudWatch agent's configuration: memory and root-disk usage in the
// CWAgent namespace, per instance and rolled up per Auto Scaling group (the disk alarm uses
// AutoScalingGroupName, path and fstype), and the boot and migration logs.
func agentConfig(logGroup string) string {
	file := func(path, stream string) map[string]any {
		return map[string]any{"file_path": path, "log_group_name": logGroup, "log_stream_name": "{instance_id}/" + stream}
	}
	cfg := map[string]any{
		// root reads cloud-init's log; the agent runs nothing else.
		"agent": map[string]any{"metrics_collection_interval": 60, "run_as_user": "root"},
		"metrics": map[string]any{
			"namespace": "CWAgent",
			"append_dimensions": map[string]string{
				"AutoScalingGroupName": "${aws:AutoScalingGroupName}",
				"InstanceId":           "${aws:InstanceId}",
			},
			"aggregation_dimensions": [][]string{{"AutoScalingGroupName"}, {"AutoScalingGroupName", "path", "fstype"}},
			"metrics_collected": map[string]any{
				"mem":  map[string]any{"measurement": []string{"mem_used_percent"}},
				"disk": map[string]any{"measurement": []string{"used_percent"}, "resources": []string{"/"}, "drop_device": true},
			},
		},
		"logs": map[string]any{"logs_collected": map[string]any{"files": map[string]any{"collect_list": []any{
			file("/var/log/cloud-init-output.log", "boot"),
			file("/var/log/canalco/migrations.log", "migrations"),
		}}}},
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		panic(err) // plain values only
	}
	return string(b)
}

// agentParameter stores the agent's configuration where the boot script fetches it.
func agentParameter(ctx *pulumi.Context, a *ComputeArgs, name, logGroup string, parent pulumi.ResourceOption) (*ssm.Parameter, error) {
	p, err := ssm.NewParameter(ctx, a.Env.Name("cloudwatch-agent"), &ssm.ParameterArgs{
		Name:        pulumi.String(name),
		Description: pulumi.String("CloudWatch agent configuration of the " + a.Env.Prefix + " backend instances"),
		Type:        pulumi.String("String"),
		Tier:        pulumi.String("Standard"),
		Value:       pulumi.String(agentConfig(logGroup)),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("agent parameter: %w", err)
	}
	return p, nil
}
