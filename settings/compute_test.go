package settings

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// validBase are the values every environment needs besides the compute section's.
var validBase = map[string]string{"canalco:albCloudFrontOnly": "true", "canalco:emailSender": "a@canalco.co", "canalco:alarmEmails": `["ops@canalco.co"]`}

func withBase(set map[string]string) map[string]string {
	values := map[string]string{}
	for _, m := range []map[string]string{validBase, set} {
		for k, v := range m {
			values[k] = v
		}
	}
	return values
}

// Each case is one mistake in the compute section; each names the key, the value and the fix.
func TestBadComputeSettingsAreReported(t *testing.T) {
	cases := []struct {
		name, stack string
		set         map[string]string
		want        []string
	}{
		{"arm instance", "dev", map[string]string{"canalco:instanceType": "t4g.medium"}, []string{`canalco:instanceType = "t4g.medium"`, "amd64"}},
		{"size the family lacks", "prod", map[string]string{"canalco:instanceType": "m6i.medium"}, []string{`canalco:instanceType = "m6i.medium"`, "large to 2xlarge"}},
		{"unknown type", "dev", map[string]string{"canalco:instanceType": "t3.huge"}, []string{`canalco:instanceType = "t3.huge"`}},
		{"max below min", "prod", map[string]string{"canalco:asgMinSize": "4", "canalco:asgMaxSize": "3"}, []string{"canalco:asgMaxSize = 3", "at least asgMinSize"}},
		{"too many", "prod", map[string]string{"canalco:asgMaxSize": "500"}, []string{"canalco:asgMaxSize = 500", "at most 100"}},
		{"single instance in staging", "staging", map[string]string{"canalco:asgMinSize": "1"}, []string{"canalco:asgMinSize = 1", "at least 2 outside dev"}},
		// The release lives in an SSM parameter: a tag in stack config is refused, even empty.
		{"release in stack config", "prod", map[string]string{"canalco:backendImageTag": "3f2a9c1"}, []string{"canalco:backendImageTag is retired", "scripts/deploy-backend.sh deploy"}},
		{"empty release in stack config", "dev", map[string]string{"canalco:backendImageTag": ""}, []string{"canalco:backendImageTag is retired"}},
		{"relative health path", "dev", map[string]string{"canalco:healthCheckPath": "health"}, []string{`canalco:healthCheckPath = "health"`, "starting with /"}},
		{"health path with query", "dev", map[string]string{"canalco:healthCheckPath": "/health?full=1"}, []string{"canalco:healthCheckPath", "starting with /"}},
		{"cpu target above the alarm", "prod", map[string]string{"canalco:cpuTargetPercent": "85"}, []string{"canalco:cpuTargetPercent = 85", "before the 80% alarm"}},
		{"cpu target too low", "prod", map[string]string{"canalco:cpuTargetPercent": "10"}, []string{"canalco:cpuTargetPercent = 10", "20 to 80"}},
		{"keep no images", "dev", map[string]string{"canalco:ecrKeepImages": "-1"}, []string{"canalco:ecrKeepImages = -1", "1 to 1000"}},
		{"tiny root volume", "dev", map[string]string{"canalco:rootVolumeGb": "8"}, []string{"canalco:rootVolumeGb = 8", "two backend images"}},
		{"migration with shell syntax", "dev", map[string]string{"canalco:migrationCommand": "python manage.py migrate && rm -rf $HOME"}, []string{"canalco:migrationCommand", "without quotes, $"}},
		{"quoted migration", "dev", map[string]string{"canalco:migrationCommand": `alembic upgrade "head"`}, []string{"canalco:migrationCommand"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Parse(base(c.stack, withBase(c.set)))
			require.Error(t, err)
			assert.Nil(t, s)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Contains(t, err.Error(), "nothing was created")
		})
	}
}

func TestGoodComputeSettingsAreAccepted(t *testing.T) {
	for _, set := range []map[string]string{
		{"canalco:instanceType": "t3a.micro"},
		{"canalco:instanceType": "c7i.2xlarge", "canalco:asgMinSize": "3", "canalco:asgMaxSize": "3"},
		{"canalco:healthCheckPath": "/api/health/"},
		{"canalco:migrationCommand": "alembic upgrade head", "canalco:cpuTargetPercent": "75"},
	} {
		s, err := Parse(base("prod", withBase(set)))
		require.NoError(t, err, "%v", set)
		assert.NotEmpty(t, s.Compute.InstanceType)
	}
}

func TestInstanceTypesPairTheOtherCPUVendor(t *testing.T) {
	for typ, want := range map[string][]string{
		"t3.medium":   {"t3.medium", "t3a.medium"},
		"t3a.small":   {"t3a.small", "t3.small"},
		"m6i.large":   {"m6i.large", "m6a.large"},
		"c7a.2xlarge": {"c7a.2xlarge", "c7i.2xlarge"},
	} {
		assert.Equal(t, want, Compute{InstanceType: typ}.InstanceTypes())
	}
	// Every type the settings accept has a sibling of the same size.
	for family := range siblingFamily {
		for _, size := range []string{"micro", "large", "2xlarge"} {
			typ := family + "." + size
			if !instanceTypePattern.MatchString(typ) {
				continue
			}
			sibling := Compute{InstanceType: typ}.InstanceTypes()[1]
			assert.Regexp(t, instanceTypePattern, sibling, "%s pairs with %s", typ, sibling)
		}
	}
}
