package settings

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// base is the smallest valid input for an environment.
func base(stack string, values map[string]string) Input {
	v := map[string]string{"aws:region": "us-east-1", "aws:allowedAccountIds": `["111122223333"]`}
	for k, x := range values {
		v[k] = x
	}
	return Input{Project: "canalco", Stack: stack, Values: v}
}

func TestProfilesFollowTheSeed(t *testing.T) {
	dev, err := Parse(base("dev", map[string]string{"canalco:emailSender": "a@canalco.co"}))
	require.NoError(t, err)
	prod, err := Parse(base("prod", map[string]string{"canalco:emailSender": "a@canalco.co", "canalco:alarmEmails": `["ops@canalco.co"]`}))
	require.NoError(t, err)

	assert.Equal(t, "10.0.0.0/16", prod.Network.VpcCidr, "seed: VPC 10.0.0.0/16 in prod")
	assert.Equal(t, []string{"10.0.1.0/24", "10.0.2.0/24"}, prod.Network.PublicSubnetCidrs)
	assert.Equal(t, []string{"10.0.10.0/24", "10.0.11.0/24"}, prod.Network.PrivateSubnetCidrs)
	assert.Equal(t, []string{"10.0.20.0/24", "10.0.21.0/24"}, prod.Network.DatabaseSubnetCidrs)
	assert.True(t, prod.Network.NatPerAz)
	assert.True(t, prod.Database.MultiAz)
	assert.Equal(t, 2, prod.Compute.MinSize, "seed: ASG min 2")
	assert.Equal(t, 10, prod.Compute.MaxSize, "seed: ASG max 10")
	assert.Equal(t, "t4g.medium", prod.Compute.InstanceType, "seed: 2 vCPU and 4 GiB as its t3.medium, on Graviton")
	assert.Equal(t, 30, prod.Database.BackupRetention, "seed: backups kept 30 days")
	assert.GreaterOrEqual(t, prod.Network.LogRetentionDays, 365)

	assert.False(t, dev.Network.NatPerAz, "dev shares one NAT")
	assert.False(t, dev.Database.MultiAz, "dev is single-AZ")
	assert.Equal(t, 1, dev.Compute.MinSize)
	assert.Equal(t, 2, dev.Compute.MaxSize)
	assert.NotEqual(t, dev.Network.VpcCidr, prod.Network.VpcCidr, "environments get their own /16")
	assert.True(t, prod.Protected())
	assert.False(t, dev.Protected())
}

func TestEnvironmentVPCsDoNotOverlap(t *testing.T) {
	seen := map[string]Environment{}
	for _, e := range Environments {
		cidr := Profile(e, "us-east-1").Network.VpcCidr
		prev, dup := seen[cidr]
		assert.False(t, dup, "%s and %s share %s", e, prev, cidr)
		seen[cidr] = e
	}
}

// Pulumi applies one project-wide default, so a plain boolean must mean the same in every
// environment; anything else is a tristate.
func TestBooleanDefaultsAreTheSameInEveryEnvironment(t *testing.T) {
	for _, k := range Keys() {
		if k.Kind != Boolean {
			continue
		}
		want := k.Value(Profile(Dev, "us-east-1"))
		for _, e := range Environments {
			assert.Equal(t, want, k.Value(Profile(e, "us-east-1")), "%s differs in %s: make it a tristate", k.Name, e)
		}
	}
}

func TestProjectFileDeclaresEveryKey(t *testing.T) {
	root := filepath.Join("..")
	onDisk, err := os.ReadFile(filepath.Join(root, "Pulumi.yaml"))
	require.NoError(t, err)
	assert.Equal(t, ProjectFile(), string(onDisk), "Pulumi.yaml is stale: run `make settings`")
	ref, err := os.ReadFile(filepath.Join(root, "docs", "settings.md"))
	require.NoError(t, err)
	assert.Equal(t, Reference(), string(ref), "docs/settings.md is stale: run `make settings`")
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	fresh, err := WithTable(string(readme))
	require.NoError(t, err)
	assert.Equal(t, fresh, string(readme), "README.md's settings table is stale: run `make settings`")

	project, err := workspace.LoadProject(filepath.Join(root, "Pulumi.yaml"))
	require.NoError(t, err, "Pulumi.yaml must be a valid project file for the CLI")
	assert.Equal(t, "canalco", project.Name.String())
	assert.Len(t, project.Config, len(Keys()))
	for _, k := range Keys() {
		decl, ok := project.Config[k.Name]
		if !assert.True(t, ok, "%s not declared", k.Name) {
			continue
		}
		assert.Equal(t, k.Kind.SchemaType(), decl.TypeName(), k.Name)
		assert.NotEmpty(t, decl.Description, k.Name)
		assert.NotNil(t, decl.Default, "%s needs a default or Pulumi makes it required", k.Name)
		// The CLI merges a default in as plain text and then refuses it for a `secret: true`
		// key ("must be encrypted as it's secret"), so Parse guards secret keys instead.
		assert.False(t, decl.Secret, "%s: a declared secret with a default fails every stack", k.Name)
		if k.Secret {
			// offline validates secure values blinded as "[secret]", a faithful stand-in for strings only.
			assert.Equal(t, String, k.Kind, "%s: secret keys are strings", k.Name)
		}
	}
}

// Each case is one mistake a user can make; each must be reported with the key and the fix.
func TestBadSettingsAreReported(t *testing.T) {
	ok := map[string]string{"canalco:emailSender": "a@canalco.co", "canalco:alarmEmails": `["ops@canalco.co"]`}
	cases := []struct {
		name, stack string
		set         map[string]string
		want        []string
	}{
		{"misspelt key", "dev", map[string]string{"canalco:vpcCidrr": "10.5.0.0/16"}, []string{"canalco:vpcCidrr is not a setting", "did you mean canalco:vpcCidr"}},
		{"wrong type", "dev", map[string]string{"canalco:asgMaxSize": "ten"}, []string{`canalco:asgMaxSize = "ten"`, "whole number"}},
		{"bad boolean", "dev", map[string]string{"canalco:natPerAz": "yes"}, []string{"canalco:natPerAz", "true or false"}},
		{"bad list", "dev", map[string]string{"canalco:alarmEmails": "ops@canalco.co"}, []string{"canalco:alarmEmails", "list of strings"}},
		{"malformed cidr", "dev", map[string]string{"canalco:vpcCidr": "10.0.0.0/33"}, []string{"canalco:vpcCidr", "IPv4 network CIDR"}},
		{"public vpc", "dev", map[string]string{"canalco:vpcCidr": "8.8.0.0/16"}, []string{"canalco:vpcCidr", "private range"}},
		{"subnet outside vpc", "dev", map[string]string{"canalco:publicSubnetCidrs": `["10.9.1.0/24","10.2.2.0/24"]`}, []string{"canalco:publicSubnetCidrs", "inside the VPC"}},
		{"overlapping subnets", "dev", map[string]string{"canalco:privateSubnetCidrs": `["10.2.1.0/24","10.2.11.0/24"]`}, []string{"overlaps publicSubnetCidrs"}},
		{"one subnet per az", "dev", map[string]string{"canalco:databaseSubnetCidrs": `["10.2.20.0/24"]`}, []string{"canalco:databaseSubnetCidrs", "one subnet per AZ"}},
		{"az of another region", "dev", map[string]string{"canalco:availabilityZones": `["eu-west-1a","eu-west-1b"]`}, []string{"canalco:availabilityZones", "us-east-1"}},
		{"min above max", "dev", map[string]string{"canalco:asgMinSize": "3", "canalco:asgMaxSize": "2"}, []string{"canalco:asgMaxSize = 2", "at least asgMinSize"}},
		{"prod single nat", "prod", map[string]string{"canalco:natPerAz": "false"}, []string{"canalco:natPerAz", "outside dev"}},
		{"prod single az db", "prod", map[string]string{"canalco:dbMultiAz": "false"}, []string{"canalco:dbMultiAz", "outside dev"}},
		{"prod one instance", "prod", map[string]string{"canalco:asgMinSize": "1"}, []string{"canalco:asgMinSize = 1", "at least 2 outside dev"}},
		{"bad email", "prod", map[string]string{"canalco:alarmEmails": `["ops(at)canalco.co"]`}, []string{`canalco:alarmEmails = "ops(at)canalco.co"`, "email addresses"}},
		{"bad retention", "dev", map[string]string{"canalco:logRetentionDays": "45"}, []string{"canalco:logRetentionDays = 45", "CloudWatch Logs accepts"}},
		{"unknown environment", "qa", nil, []string{`stack "qa" has no profile`, "canalco:environment"}},
		{"bad stack name", "Prod_EU", map[string]string{"canalco:environment": "prod"}, []string{`stack name "Prod_EU"`}},
		{"missing region", "dev", map[string]string{"aws:region": ""}, []string{"aws:region", "pulumi config set aws:region"}},
		{"no account", "dev", map[string]string{"aws:allowedAccountIds": ""}, []string{"aws:allowedAccountIds", "12-digit account ID of this environment"}},
		{"two accounts", "dev", map[string]string{"aws:allowedAccountIds": `["111122223333","444455556666"]`}, []string{"aws:allowedAccountIds", "the one 12-digit"}},
		{"unquoted account", "dev", map[string]string{"aws:allowedAccountIds": `[111122223333]`}, []string{"aws:allowedAccountIds", "quoted"}},
		{"plain secret", "dev", map[string]string{"canalco:chatWebhookUrl": "https://hooks.example.com/x"}, []string{"canalco:chatWebhookUrl is stored in plain text", "--secret"}},
		{"retired key", "dev", map[string]string{"canalco:albCloudFrontOnly": "true"}, []string{"canalco:albCloudFrontOnly is no longer a setting", "VPC origin", "pulumi config rm canalco:albCloudFrontOnly"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			values := map[string]string{}
			for k, v := range ok {
				values[k] = v
			}
			for k, v := range c.set {
				values[k] = v
			}
			s, err := Parse(base(c.stack, values))
			require.Error(t, err)
			assert.Nil(t, s)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Contains(t, err.Error(), "nothing was created")
		})
	}
}

func TestAllProblemsAreReportedAtOnce(t *testing.T) {
	_, err := Parse(base("dev", map[string]string{
		"canalco:emailSender": "a@canalco.co",
		"canalco:vpcCidrr":    "x", "canalco:asgMaxSize": "ten", "canalco:dbBackupRetentionDays": "40",
	}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "3 problems")
	assert.Equal(t, 3, strings.Count(err.Error(), "\n  - "))
}

func TestSecretConfigIsAccepted(t *testing.T) {
	in := base("dev", map[string]string{"canalco:emailSender": "a@canalco.co", "canalco:chatWebhookUrl": "https://hooks.example.com/x"})
	in.IsSecret = func(k string) bool { return k == "canalco:chatWebhookUrl" }
	s, err := Parse(in)
	require.NoError(t, err)
	assert.Equal(t, "https://hooks.example.com/x", s.Monitoring.ChatWebhookURL)
}

func TestStackOverridesOnlyWhatDiffers(t *testing.T) {
	s, err := Parse(base("staging", map[string]string{
		"canalco:emailSender": "a@canalco.co", "canalco:alarmEmails": `["ops@canalco.co"]`,
		"canalco:vpcCidr": "10.50.0.0/16", "canalco:asgMaxSize": "6",
	}))
	require.NoError(t, err)
	assert.Equal(t, []string{"10.50.1.0/24", "10.50.2.0/24"}, s.Network.PublicSubnetCidrs, "subnets follow an overridden VPC")
	assert.Equal(t, 6, s.Compute.MaxSize)
	assert.Equal(t, 2, s.Compute.MinSize, "untouched keys keep the profile")
	assert.Equal(t, Staging, s.Environment)
}

func TestSuggestionsForMisspeltKeys(t *testing.T) {
	assert.Equal(t, "dbInstanceClass", closest("dbInstancClass", Keys()))
	assert.Equal(t, "", closest("completelyDifferent", Keys()))
}
