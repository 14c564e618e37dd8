package settings

import (
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// validBase are the values every environment needs besides the compute section's.
var validBase = map[string]string{"canalco:emailSender": "a@canalco.co", "canalco:alarmEmails": `["ops@canalco.co"]`}

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
		{"arm type on x86", "dev", map[string]string{"canalco:backendArchitecture": "x86_64", "canalco:instanceType": "t4g.medium"}, []string{`canalco:instanceType = "t4g.medium"`, "x86_64 type"}},
		{"x86 type on arm", "prod", map[string]string{"canalco:instanceType": "t3.medium"}, []string{`canalco:instanceType = "t3.medium"`, "backendArchitecture: x86_64"}},
		{"unknown architecture", "dev", map[string]string{"canalco:backendArchitecture": "aarch64"}, []string{`canalco:backendArchitecture = "aarch64"`, "arm64 or x86_64"}},
		{"prod sleeps", "prod", map[string]string{"canalco:sleepOutsideOfficeHours": "true"}, []string{"canalco:sleepOutsideOfficeHours = true", "false in prod"}},
		{"office ends before it starts", "dev", map[string]string{"canalco:officeHoursStart": "18", "canalco:officeHoursEnd": "8"}, []string{"canalco:officeHoursEnd", "after it"}},
		{"office days by number", "dev", map[string]string{"canalco:officeDays": "1-5"}, []string{`canalco:officeDays = "1-5"`, "MON-FRI"}},
		{"office days wrap", "dev", map[string]string{"canalco:officeDays": "FRI-MON"}, []string{`canalco:officeDays = "FRI-MON"`, "does not wrap"}},
		{"size the family lacks", "prod", map[string]string{"canalco:backendArchitecture": "x86_64", "canalco:instanceType": "m6i.medium"}, []string{`canalco:instanceType = "m6i.medium"`, "large to 2xlarge"}},
		{"unknown type", "dev", map[string]string{"canalco:instanceType": "t3.huge"}, []string{`canalco:instanceType = "t3.huge"`}},
		{"max below min", "prod", map[string]string{"canalco:asgMinSize": "4", "canalco:asgMaxSize": "3"}, []string{"canalco:asgMaxSize = 3", "at least asgMinSize"}},
		{"too many", "prod", map[string]string{"canalco:asgMaxSize": "500"}, []string{"canalco:asgMaxSize = 500", "at most 100"}},
		{"single instance in staging", "staging", map[string]string{"canalco:asgMinSize": "1"}, []string{"canalco:asgMinSize = 1", "at least 2 outside dev"}},
		// The release lives in an SSM parameter: a tag in stack config is refused, even empty.
		{"release in stack config", "prod", map[string]string{"canalco:backendImageTag": "3f2a9c1"}, []string{"canalco:backendImageTag is no longer a setting", "scripts/deploy-backend.sh deploy"}},
		{"empty release in stack config", "dev", map[string]string{"canalco:backendImageTag": ""}, []string{"canalco:backendImageTag is no longer a setting"}},
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
		{"canalco:backendArchitecture": "x86_64", "canalco:instanceType": "t3a.micro"},
		{"canalco:backendArchitecture": "x86_64", "canalco:instanceType": "c7i.2xlarge", "canalco:asgMinSize": "3", "canalco:asgMaxSize": "3"},
		{"canalco:instanceType": "c7g.large"},
		{"canalco:healthCheckPath": "/api/health/"},
		{"canalco:migrationCommand": "alembic upgrade head", "canalco:cpuTargetPercent": "75"},
	} {
		s, err := Parse(base("prod", withBase(set)))
		require.NoError(t, err, "%v", set)
		assert.NotEmpty(t, s.Compute.InstanceType)
	}
}

// Graviton by default at the seed's sizes (2 vCPU; 4 GiB outside dev), the x86 sizes on request.
func TestDefaultInstanceTypesFollowTheArchitecture(t *testing.T) {
	for _, c := range []struct{ stack, arch, want string }{
		{"dev", "", "t4g.small"}, {"staging", "", "t4g.medium"}, {"prod", "", "t4g.medium"},
		{"dev", "x86_64", "t3.small"}, {"prod", "x86_64", "t3.medium"},
	} {
		s, err := Parse(base(c.stack, withBase(map[string]string{"canalco:backendArchitecture": c.arch})))
		require.NoError(t, err, c.stack)
		assert.Equal(t, c.want, s.Compute.InstanceType, c.stack+" "+c.arch)
	}
}

// Office hours become the expressions each scheduler takes: Auto Scaling's Unix cron
// (https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-scheduled-scaling.html#scheduled-scaling-recurring-schedules)
// and EventBridge Scheduler's six-field cron with ? for the day of month
// (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based).
func TestOfficeHoursExpressions(t *testing.T) {
	o := OfficeHours{Sleep: true, Start: 7, End: 19, Days: "MON-FRI"}
	assert.Equal(t, "0 7 * * 1-5", o.UnixCron(o.Start))
	assert.Equal(t, "0 19 * * 1-5", o.UnixCron(o.End))
	assert.Equal(t, "cron(0 19 ? * MON-FRI *)", o.SchedulerCron(o.End, 0))
	assert.Equal(t, "cron(20 7 ? * MON-FRI *)", o.SchedulerCron(o.Start, 20))
	// 12 h × 5 days of a 168-hour week, in a 730-hour month.
	assert.InDelta(t, 260.71, o.AwakeHoursPerMonth(), 0.01)
	o.Sleep = false
	assert.Equal(t, 730.0, o.AwakeHoursPerMonth())
	s, err := Parse(base("dev", withBase(nil)))
	require.NoError(t, err)
	assert.True(t, s.Compute.Office.Sleep)
	assert.Equal(t, "America/Bogota", s.Compute.Office.Timezone)
}

func TestInstanceTypesPairTheSameSize(t *testing.T) {
	for typ, want := range map[string][]string{
		"t3.medium":   {"t3.medium", "t3a.medium"},
		"t3a.small":   {"t3a.small", "t3.small"},
		"m6i.large":   {"m6i.large", "m6a.large"},
		"c7a.2xlarge": {"c7a.2xlarge", "c7i.2xlarge"},
		"c6g.large":   {"c6g.large", "c7g.large"},
		"t4g.medium":  {"t4g.medium", "c6g.large"},
		"t4g.small":   {"t4g.small", "t4g.medium"},
	} {
		assert.Equal(t, want, Compute{InstanceType: typ}.InstanceTypes())
	}
	// Every sibling is accepted for the same architecture as the type it pairs with.
	for _, family := range append(slices.Collect(maps.Keys(siblingFamily)), "t4g") {
		for _, size := range []string{"micro", "small", "medium", "large", "xlarge", "2xlarge"} {
			typ := family + "." + size
			for _, pattern := range instanceTypePattern {
				if pattern.MatchString(typ) {
					sibling := Compute{InstanceType: typ}.InstanceTypes()[1]
					assert.Regexp(t, pattern, sibling, "%s pairs with %s", typ, sibling)
				}
			}
		}
	}
}
