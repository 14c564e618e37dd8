package settings

import (
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
}

// siblingFamily pairs each supported x86_64 family with the same generation from the other
// CPU vendor: the Auto Scaling group can launch either when one runs short in an AZ.
var siblingFamily = map[string]string{
	"t3": "t3a", "t3a": "t3", "m6i": "m6a", "m6a": "m6i", "m7i": "m7a", "m7a": "m7i",
	"c6i": "c6a", "c6a": "c6i", "c7i": "c7a", "c7a": "c7i",
}

// InstanceTypes are the types the Auto Scaling group may launch, the configured one first:
// the same size in the sibling family, so every instance has the same CPU and memory.
func (c Compute) InstanceTypes() []string {
	family, size, _ := strings.Cut(c.InstanceType, ".")
	return []string{c.InstanceType, siblingFamily[family] + "." + size}
}

var (
	// Burstable families start at micro; the general-purpose and compute ones at large.
	instanceTypePattern = regexp.MustCompile(`^(t3a?\.(micro|small|medium|large|xlarge|2xlarge)|(m6|m7|c6|c7)[ia]\.(large|xlarge|2xlarge))$`)
	healthPathPattern   = regexp.MustCompile(`^/[A-Za-z0-9/_.-]{0,1000}$`)
)

// retiredKeys are settings the project no longer reads, with what replaced them: a stack that
// still sets one is refused rather than silently ignored.
var retiredKeys = map[string]string{
	// A release in stack config was reset by every `pulumi up` from a clean checkout.
	"backendImageTag": "the backend release is no longer stack config: remove it with `pulumi config rm canalco:backendImageTag` and release with `scripts/deploy-backend.sh deploy <stack> <image-tag>` (docs/compute.md)",
}

var computeSection = section{
	keys: []Key{
		str("instanceType", "EC2 instance type of the backend (x86_64); the group may also launch the same size of the other CPU vendor (t3 and t3a). Empty: t3.small dev, t3.medium staging and prod.", func(s *Settings) *string { return &s.Compute.InstanceType }),
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
		c.InstanceType, c.MinSize, c.MaxSize = "t3.medium", 2, 10
		switch s.Environment {
		case Dev:
			c.InstanceType, c.MinSize, c.MaxSize = "t3.small", 1, 2
		case Staging:
			c.MaxSize = 4
		}
		c.HealthCheckPath = "/health"
		c.CPUTargetPercent = 60
		c.KeepImages = 30
		c.RootVolumeGb = 30
		c.MigrationCommand = "python manage.py migrate --noinput"
	},
	validate: func(s *Settings, p *problems) {
		c := &s.Compute
		if !instanceTypePattern.MatchString(c.InstanceType) {
			p.add("instanceType", c.InstanceType, "an x86_64 type such as t3.medium: t3/t3a micro to 2xlarge, or m6i/m6a/m7i/m7a/c6i/c6a/c7i/c7a large to 2xlarge (the backend image is built for amd64)")
		}
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
