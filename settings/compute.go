package settings

import (
	"fmt"
	"regexp"
	"strings"
)

// Compute is the backend tier: load balancer, Auto Scaling group and image repository.
type Compute struct {
	InstanceType     string
	MinSize          int
	MaxSize          int
	HealthCheckPath  string
	CPUTargetPercent int
	KeepImages       int
	RootVolumeGb     int
	MigrationCommand string
	// Architecture of the backend instances and the image they run: arm64 (Graviton) or x86_64.
	Architecture string
	// Office are the hours the stack serves; outside them a sleeping stack stops.
	Office OfficeHours
}

// OfficeHours are the hours and days people use a stack, in the stack's time zone. A stack
// that sleeps scales its backend to zero and stops its database outside them (not a database
// with a read replica: Database.Sleeps).
type OfficeHours struct {
	Sleep      bool
	Start, End int
	// Days is a range of weekdays in cron's three-letter names, such as MON-FRI.
	Days     string
	Timezone string
}

// cronDays are cron's day names in Unix cron's numbering (Sunday 0).
var cronDays = map[string]int{"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}

// dayRange is Days as Unix cron numbers, e.g. 1-5.
func (o OfficeHours) dayRange() (int, int) {
	first, last, _ := strings.Cut(o.Days, "-")
	if last == "" {
		last = first
	}
	return cronDays[first], cronDays[last]
}

// UnixCron is the Unix cron expression (Auto Scaling scheduled actions) of hour on office days.
func (o OfficeHours) UnixCron(hour int) string {
	first, last := o.dayRange()
	return fmt.Sprintf("0 %d * * %d-%d", hour, first, last)
}

// SchedulerCron is the EventBridge Scheduler expression of hour:minute on office days.
func (o OfficeHours) SchedulerCron(hour, minute int) string {
	return fmt.Sprintf("cron(%d %d ? * %s *)", minute, hour, o.Days)
}

// AwakeHoursPerMonth are the hours a sleeping stack runs in AWS's 730-hour month.
func (o OfficeHours) AwakeHoursPerMonth() float64 {
	if !o.Sleep {
		return 730
	}
	first, last := o.dayRange()
	return float64((o.End-o.Start)*(last-first+1)) * 730 / (7 * 24)
}

// Architectures of the backend.
const (
	Arm64 = "arm64"
	X8664 = "x86_64"
)

// siblingFamily pairs each supported x86_64 family with the same generation from the other
// CPU vendor: the Auto Scaling group can launch either when one runs short in an AZ.
var siblingFamily = map[string]string{
	"t3": "t3a", "t3a": "t3", "m6i": "m6a", "m6a": "m6i", "m7i": "m7a", "m7a": "m7i",
	"c6i": "c6a", "c6a": "c6i", "c7i": "c7a", "c7a": "c7i",
	// Graviton: the same size of the other generation.
	"m6g": "m7g", "m7g": "m6g", "c6g": "c7g", "c7g": "c6g",
}

// gravitonBurstableSibling pairs each t4g size with the Graviton type of the same vCPUs and
// memory (t4g has no burstable sibling); micro and small have none, so they take the next size,
// launched only when the smaller one runs short.
var gravitonBurstableSibling = map[string]string{
	"micro": "t4g.small", "small": "t4g.medium", "medium": "c6g.large", "large": "m6g.large",
	"xlarge": "m6g.xlarge", "2xlarge": "m6g.2xlarge",
}

// InstanceTypes are the types the Auto Scaling group may launch, the configured one first:
// the same size in the sibling family, so every instance has the same CPU and memory, and the
// same architecture, since the launch template's AMI is of one architecture.
func (c Compute) InstanceTypes() []string {
	family, size, _ := strings.Cut(c.InstanceType, ".")
	if family == "t4g" {
		return []string{c.InstanceType, gravitonBurstableSibling[size]}
	}
	return []string{c.InstanceType, siblingFamily[family] + "." + size}
}

var (
	// Burstable families start at micro; the general-purpose and compute ones at large.
	instanceTypePattern = map[string]*regexp.Regexp{
		X8664: regexp.MustCompile(`^(t3a?\.(micro|small|medium|large|xlarge|2xlarge)|(m6|m7|c6|c7)[ia]\.(large|xlarge|2xlarge))$`),
		Arm64: regexp.MustCompile(`^(t4g\.(micro|small|medium|large|xlarge|2xlarge)|(m6|m7|c6|c7)g\.(large|xlarge|2xlarge))$`),
	}
	officeDaysPattern = regexp.MustCompile(`^(SUN|MON|TUE|WED|THU|FRI|SAT)(-(SUN|MON|TUE|WED|THU|FRI|SAT))?$`)
	healthPathPattern = regexp.MustCompile(`^/[A-Za-z0-9/_.-]{0,1000}$`)
)

var computeSection = section{
	keys: []Key{
		str("backendArchitecture", "CPU architecture of the backend instances and image: arm64 (Graviton, about 20% cheaper for the same vCPUs and memory) or x86_64 (for a dependency without arm64 builds). Empty: arm64.", func(s *Settings) *string { return &s.Compute.Architecture }),
		str("instanceType", "EC2 instance type of the backend, of backendArchitecture; an x86_64 group may also launch the same size of the other CPU vendor (t3 and t3a). Empty: t4g.small dev, t4g.medium staging and prod (t3.small/t3.medium on x86_64).", func(s *Settings) *string { return &s.Compute.InstanceType }),
		tristate("sleepOutsideOfficeHours", "true: the backend scales to zero and the database stops outside office hours (EventBridge Scheduler and scheduled actions, in canalco:timezone); with dbReadReplica the database stays up. Empty: true in dev; never in prod.", func(s *Settings) *bool { return &s.Compute.Office.Sleep }),
		integer("officeHoursStart", "Hour (1 to 22, canalco:timezone) a sleeping stack wakes on office days. 0: 7.", func(s *Settings) *int { return &s.Compute.Office.Start }),
		integer("officeHoursEnd", "Hour (2 to 23, canalco:timezone) a sleeping stack goes to sleep on office days. 0: 19.", func(s *Settings) *int { return &s.Compute.Office.End }),
		str("officeDays", "Office days as a cron range of weekdays, e.g. MON-FRI; a sleeping stack sleeps through the others.", func(s *Settings) *string { return &s.Compute.Office.Days }),
		integer("asgMinSize", "Fewest backend instances. 0: 1 dev, 2 staging and prod.", func(s *Settings) *int { return &s.Compute.MinSize }),
		integer("asgMaxSize", "Most backend instances. 0: 2 dev, 4 staging, 10 prod.", func(s *Settings) *int { return &s.Compute.MaxSize }),
		str("healthCheckPath", "Path the load balancer checks on port 8000.", func(s *Settings) *string { return &s.Compute.HealthCheckPath }),
		integer("cpuTargetPercent", "Average CPU the Auto Scaling group keeps (target tracking), below the 80% alarm. 0: 60.", func(s *Settings) *int { return &s.Compute.CPUTargetPercent }),
		integer("ecrKeepImages", "How many unreleased backend builds (build-<sha> tags) the repository keeps; released images are never expired. 0: 30.", func(s *Settings) *int { return &s.Compute.KeepImages }),
		integer("rootVolumeGb", "Root volume size of each instance in GB. 0: 30.", func(s *Settings) *int { return &s.Compute.RootVolumeGb }),
		str("migrationCommand", "Command run inside the new backend image (its first word as the entrypoint) to migrate the database once per release, before traffic, e.g. alembic upgrade head.", func(s *Settings) *string { return &s.Compute.MigrationCommand }),
	},
	defaults: func(s *Settings) {
		c := &s.Compute
		c.MinSize, c.MaxSize = 2, 10
		switch s.Environment {
		case Dev:
			c.MinSize, c.MaxSize = 1, 2
		case Staging:
			c.MaxSize = 4
		}
		c.Architecture = Arm64
		c.Office = OfficeHours{Sleep: s.Environment == Dev, Start: 7, End: 19, Days: "MON-FRI"}
		c.HealthCheckPath = "/health"
		c.CPUTargetPercent = 60
		c.KeepImages = 30
		c.RootVolumeGb = 30
		c.MigrationCommand = "python manage.py migrate --noinput"
	},
	// derive picks the instance type of the architecture and takes the schedule's time zone.
	derive: func(s *Settings) {
		c := &s.Compute
		if c.InstanceType == "" {
			size := map[bool]string{true: "small", false: "medium"}[s.Environment == Dev]
			c.InstanceType = map[string]string{Arm64: "t4g.", X8664: "t3."}[c.Architecture] + size
		}
		c.Office.Timezone = s.Timezone
	},
	validate: func(s *Settings, p *problems) {
		c := &s.Compute
		switch pattern, ok := instanceTypePattern[c.Architecture]; {
		case !ok:
			p.add("backendArchitecture", c.Architecture, "arm64 or x86_64")
		case !pattern.MatchString(c.InstanceType):
			p.add("instanceType", c.InstanceType, map[string]string{
				Arm64: "an arm64 (Graviton) type such as t4g.medium: t4g micro to 2xlarge, or m6g/m7g/c6g/c7g large to 2xlarge; for an x86_64 type set backendArchitecture: x86_64 too",
				X8664: "an x86_64 type such as t3.medium: t3/t3a micro to 2xlarge, or m6i/m6a/m7i/m7a/c6i/c6a/c7i/c7a large to 2xlarge",
			}[c.Architecture])
		}
		validateOffice(s, p)
		if c.MinSize < 1 || c.MinSize > 100 {
			p.add("asgMinSize", c.MinSize, "1 to 100 instances")
		}
		if c.MaxSize < c.MinSize || c.MaxSize > 100 {
			p.add("asgMaxSize", c.MaxSize, "at least asgMinSize and at most 100")
		}
		if s.Environment != Dev && c.MinSize < 2 {
			p.add("asgMinSize", c.MinSize, "at least 2 outside dev: one instance per AZ survives the loss of an AZ")
		}
		if !healthPathPattern.MatchString(c.HealthCheckPath) {
			p.add("healthCheckPath", c.HealthCheckPath, "a path starting with /, such as /health")
		}
		if c.CPUTargetPercent < 20 || c.CPUTargetPercent > 80 {
			p.add("cpuTargetPercent", c.CPUTargetPercent, "20 to 80: the group must scale before the 80% alarm")
		}
		if c.KeepImages < 1 || c.KeepImages > 1000 {
			p.add("ecrKeepImages", c.KeepImages, "1 to 1000")
		}
		if c.RootVolumeGb < 20 || c.RootVolumeGb > 1024 {
			p.add("rootVolumeGb", c.RootVolumeGb, "20 to 1024 GB: the system plus room for two backend images during a deploy")
		}
		if strings.ContainsAny(c.MigrationCommand, "'\"`$\\\n") || c.MigrationCommand == "" {
			p.add("migrationCommand", c.MigrationCommand, "a plain command without quotes, $, backslashes or newlines, such as python manage.py migrate --noinput")
		}
	},
}

// validateOffice checks the sleeping schedule: prod never sleeps.
func validateOffice(s *Settings, p *problems) {
	o := s.Compute.Office
	if o.Sleep && s.IsProd() {
		p.add("sleepOutsideOfficeHours", o.Sleep, "false in prod: users may work at any hour and the seed's availability applies around the clock")
	}
	if o.Start < 1 || o.Start > 22 || o.End <= o.Start || o.End > 23 {
		p.add("officeHoursEnd", fmt.Sprintf("%d-%d", o.Start, o.End), "officeHoursStart 1 to 22 and officeHoursEnd after it, up to 23")
	}
	if !officeDaysPattern.MatchString(o.Days) {
		p.add("officeDays", o.Days, "a range of weekdays such as MON-FRI (SUN to SAT, first before last)")
	} else if first, last := o.dayRange(); last < first {
		p.add("officeDays", o.Days, "a range that does not wrap past Saturday, such as MON-FRI")
	}
}
