package offline_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/assert"
)

// createMinutes is how long AWS typically takes to create a resource of a type, with where
// each figure comes from; a type not listed takes seconds (secondsMinutes). The figures are
// typical, not worst cases: the test compares the plan's shape with its slowest resource, and
// every figure errs the same way.
var createMinutes = map[string]struct {
	minutes func(r *offline.Resource) float64
	source  string
}{
	"aws:rds/instance:Instance": {func(r *offline.Resource) float64 {
		if r.Bool("multiAz") {
			return 20
		}
		return 10
	}, "RDS User Guide, \"Creating an Amazon RDS DB instance\": several minutes, a Multi-AZ instance about twice a single-AZ one (the standby is built from a backup of the primary); provider create timeout 40m (internal/service/rds/instance.go)"},
	"aws:cloudfront/vpcOrigin:VpcOrigin":                  {fixed(10), "CloudFront Developer Guide, \"Restrict access with VPC origins\": deployed within up to 15 minutes (storage/cdn.go vpcOriginTimeout)"},
	"aws:cloudfront/distribution:Distribution":            {fixed(5), "CloudFront Developer Guide, \"Values that you specify when you create or update a distribution\": changes propagate to all edge locations within minutes; provider waits for Deployed (internal/service/cloudfront/distribution.go, timeout 70m)"},
	"aws:ec2/natGateway:NatGateway":                       {fixed(2), "VPC User Guide, \"NAT gateways\": the state goes from pending to available within minutes; provider create timeout 10m (internal/service/ec2/vpc_nat_gateway.go)"},
	"aws:lb/loadBalancer:LoadBalancer":                    {fixed(3), "ELB User Guide, \"Create an Application Load Balancer\": provisioning takes a few minutes; provider create timeout 10m (internal/service/elbv2/load_balancer.go)"},
	"aws:autoscaling/group:Group":                         {fixed(5), "provider waits for min_size healthy instances in the target group (wait_for_capacity_timeout 10m, internal/service/autoscaling/group.go): an instance boots and passes the ELB health check in about 5 minutes"},
	"aws:acm/certificateValidation:CertificateValidation": {fixed(3), "ACM User Guide, \"DNS validation\": ACM validates within minutes of the CNAME record resolving; provider create timeout 75m (internal/service/acm/certificate_validation.go)"},
	"aws:route53/record:Record":                           {fixed(1), "Route 53 Developer Guide, \"ChangeResourceRecordSets\": changes reach all authoritative servers (INSYNC) within 60 seconds"},
}

func fixed(m float64) func(*offline.Resource) float64 {
	return func(*offline.Resource) float64 { return m }
}

// secondsMinutes is a resource AWS creates in seconds (IAM, SSM, S3, KMS, SQS, Lambda...).
const secondsMinutes = 0.1

// inherentChain is the one chain of slow resources AWS itself orders: a VPC origin names its
// load balancer's ARN and the distribution names the VPC origin's ID, so each exists only after
// the one before it (CloudFront API Reference, CreateVpcOrigin and VpcOriginConfig). In dev,
// whose single-AZ database is quicker, it is the stack's physical limit.
var inherentChain = []string{"aws:lb/loadBalancer:LoadBalancer", "aws:cloudfront/vpcOrigin:VpcOrigin", "aws:cloudfront/distribution:Distribution"}

// physicalLimit is how long a plan cannot help taking: its slowest resource, or the inherent
// chain when that is longer.
func physicalLimit(res *offline.Result) (minutes float64, what string) {
	chain := 0.0
	for _, typ := range inherentChain {
		slowest := 0.0
		for _, r := range res.OfType(typ) {
			slowest = max(slowest, createTime(r))
		}
		chain += slowest
	}
	minutes, what = chain, "load balancer, VPC origin, distribution"
	for _, r := range res.Resources {
		if createTime(r) > minutes {
			minutes, what = createTime(r), r.Name
		}
	}
	return minutes, what
}

func createTime(r *offline.Resource) float64 {
	if !r.Custom {
		return 0
	}
	if d, ok := createMinutes[r.Type]; ok {
		return d.minutes(r)
	}
	return secondsMinutes
}

// chain is the longest path of a plan through its dependencies: a resource starts once every
// resource it depends on (DependsOn and inputs, as the engine recorded them) and its parent
// are created, since the SDK registers a child only with its parent's URN and a component only
// after its own dependencies. finish[urn] is when the resource is created; prev its last
// dependency, to print the path.
func chain(t *testing.T, res *offline.Result) (finish map[string]float64, prev map[string]string) {
	finish, prev = map[string]float64{}, map[string]string{}
	visiting := map[string]bool{}
	var visit func(urn string) float64
	visit = func(urn string) float64 {
		if f, ok := finish[urn]; ok {
			return f
		}
		r := res.ByURN(urn)
		if r == nil || visiting[urn] {
			t.Fatalf("dependency %s unknown or in a cycle", urn)
		}
		visiting[urn] = true
		start := 0.0
		for _, d := range append([]string{r.Parent}, r.Dependencies...) {
			if d == "" || strings.Contains(d, "::pulumi:pulumi:Stack::") { // created first
				continue
			}
			if f := visit(d); f > start {
				start, prev[urn] = f, d
			}
		}
		finish[urn] = start + createTime(r)
		return finish[urn]
	}
	for _, r := range res.Resources {
		visit(r.URN)
	}
	return finish, prev
}

// TestFreshStackAtPhysicalLimit: a first `pulumi up` (or a rebuild in a disaster) takes about
// as long as its slowest resource (the Multi-AZ database in staging and prod), within 5 %.
// Nothing worth minutes waits for the database instance: the backend's instances read its
// endpoint at boot and wait for it themselves, so the group is created beside it.
func TestFreshStackAtPhysicalLimit(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res := offline.Stack(t, stack)
			finish, prev := chain(t, res)
			longest := ""
			for _, r := range res.Resources {
				if longest == "" || finish[r.URN] > finish[longest] {
					longest = r.URN
				}
			}
			limit, what := physicalLimit(res)
			var path []string
			for u := longest; u != ""; u = prev[u] {
				if r := res.ByURN(u); r.Custom {
					path = append([]string{fmt.Sprintf("%s %s (%.1f)", r.Type, r.Name, createTime(r))}, path...)
				}
			}
			t.Logf("longest chain %.1f min, physical limit %.1f min (%s):\n  %s", finish[longest], limit, what, strings.Join(path, "\n  "))
			assert.LessOrEqual(t, finish[longest], 1.05*limit, "longest dependency chain of %s", stack)

			group := res.Named("aws:autoscaling/group:Group", "canalco-"+stack+"-backend")
			if assert.NotNil(t, group) {
				for _, db := range res.OfType("aws:rds/instance:Instance") {
					assert.False(t, waitsFor(res, group.URN, db.URN, map[string]bool{}), "the backend group waits for %s", db.Name)
				}
			}
		})
	}
}

// waitsFor reports whether the resource urn waits, through dependencies or parents, for target.
func waitsFor(res *offline.Result, urn, target string, seen map[string]bool) bool {
	if urn == target {
		return true
	}
	if seen[urn] {
		return false
	}
	seen[urn] = true
	r := res.ByURN(urn)
	if r == nil {
		return false
	}
	for _, d := range append([]string{r.Parent}, r.Dependencies...) {
		if d != "" && waitsFor(res, d, target, seen) {
			return true
		}
	}
	return false
}
