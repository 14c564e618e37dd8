package network_test

import (
	"fmt"
	"sort"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The seed's layout per environment: the second octet is the environment's own /16.
var layouts = map[string]struct {
	vpc                       string
	public, private, database []string
	nats                      int
	albPort                   float64
}{
	"dev":     {"10.2.0.0/16", []string{"10.2.1.0/24", "10.2.2.0/24"}, []string{"10.2.10.0/24", "10.2.11.0/24"}, []string{"10.2.20.0/24", "10.2.21.0/24"}, 1, 80},
	"staging": {"10.1.0.0/16", []string{"10.1.1.0/24", "10.1.2.0/24"}, []string{"10.1.10.0/24", "10.1.11.0/24"}, []string{"10.1.20.0/24", "10.1.21.0/24"}, 2, 443},
	"prod":    {"10.0.0.0/16", []string{"10.0.1.0/24", "10.0.2.0/24"}, []string{"10.0.10.0/24", "10.0.11.0/24"}, []string{"10.0.20.0/24", "10.0.21.0/24"}, 2, 443},
}

const (
	subnetT = "aws:ec2/subnet:Subnet"
	routeT  = "aws:ec2/route:Route"
)

func TestSubnetsFollowTheSeed(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res, want := offline.Stack(t, stack), layouts[stack]
			vpcs := res.OfType("aws:ec2/vpc:Vpc")
			require.Len(t, vpcs, 1)
			assert.Equal(t, want.vpc, vpcs[0].Str("cidrBlock"))
			assert.True(t, vpcs[0].Bool("enableDnsHostnames"))
			for tier, cidrs := range map[string][]string{"public": want.public, "private": want.private, "database": want.database} {
				for i, cidr := range cidrs {
					az := []string{"a", "b"}[i]
					s := res.Named(subnetT, fmt.Sprintf("canalco-%s-%s-%s", stack, tier, az))
					require.NotNil(t, s, "%s subnet in AZ %s", tier, az)
					assert.Equal(t, cidr, s.Str("cidrBlock"))
					assert.Equal(t, "us-east-1"+az, s.Str("availabilityZone"), "AZs are pinned by name")
					assert.False(t, s.Bool("mapPublicIpOnLaunch"), "EC2.15: no subnet assigns public IPs")
				}
			}
			assert.Len(t, res.OfType(subnetT), 6)
		})
	}
}

// defaultRoute returns the 0.0.0.0/0 route of a route table, or nil.
func defaultRoute(res *offline.Result, table string) *offline.Resource {
	for _, r := range res.OfType(routeT) {
		if r.Name == table+"-default" {
			return r
		}
	}
	return nil
}

func TestRoutingPerTier(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res, want := offline.Stack(t, stack), layouts[stack]
			prefix := "canalco-" + stack
			nats := res.OfType("aws:ec2/natGateway:NatGateway")
			assert.Len(t, nats, want.nats)
			assert.Len(t, res.OfType("aws:ec2/eip:Eip"), want.nats)
			for _, e := range res.OfType("aws:ec2/eip:Eip") {
				assert.Equal(t, "vpc", e.Str("domain"))
			}
			for _, n := range nats {
				assert.Contains(t, n.Str("subnetId"), "subnet-", "NAT lives in a public subnet")
			}

			pub := defaultRoute(res, prefix+"-public")
			require.NotNil(t, pub)
			assert.Equal(t, "0.0.0.0/0", pub.Str("destinationCidrBlock"))
			assert.Contains(t, pub.Str("gatewayId"), "igw-")

			// Each private table leaves through a NAT: its own AZ's when there is one per AZ.
			var natIDs []string
			for _, az := range []string{"a", "b"} {
				r := defaultRoute(res, prefix+"-private-"+az)
				require.NotNil(t, r, "private route table %s", az)
				assert.Equal(t, "0.0.0.0/0", r.Str("destinationCidrBlock"))
				natIDs = append(natIDs, r.Str("natGatewayId"))
			}
			if want.nats == 2 {
				assert.NotEqual(t, natIDs[0], natIDs[1], "each AZ uses its own NAT")
				assert.Equal(t, "nat-0"+hexOf(res, prefix+"-nat-a"), natIDs[0])
			} else {
				assert.Equal(t, natIDs[0], natIDs[1], "dev shares one NAT")
			}

			// The database tier has no route out at all.
			assert.Nil(t, defaultRoute(res, prefix+"-database"))
			for _, r := range res.OfType(routeT) {
				assert.NotContains(t, r.Name, "database", "no route is added to the database table")
			}

			eps := res.OfType("aws:ec2/vpcEndpoint:VpcEndpoint")
			require.Len(t, eps, 1)
			assert.Equal(t, "com.amazonaws.us-east-1.s3", eps[0].Str("serviceName"))
			assert.Equal(t, "Gateway", eps[0].Str("vpcEndpointType"))
			assert.Len(t, eps[0].List("routeTableIds"), 3, "both private tables and the database table")
		})
	}
}

func hexOf(res *offline.Result, natName string) string {
	n := res.Named("aws:ec2/natGateway:NatGateway", natName)
	if n == nil {
		return ""
	}
	id, _ := n.Outputs["id"].(string)
	return id[len("nat-0"):]
}

// rule is a security-group rule as the seed's table states it.
type rule struct {
	group, direction string
	port             float64
	peer             string // group name, cidr or prefix list
}

func TestSecurityGroupsMatchTheSeedTable(t *testing.T) {
	for _, stack := range offline.Stacks {
		t.Run(stack, func(t *testing.T) {
			res, want := offline.Stack(t, stack), layouts[stack]
			prefix := "canalco-" + stack
			groups := map[string]string{} // id -> short name
			for _, g := range res.OfType("aws:ec2/securityGroup:SecurityGroup") {
				assert.NotEmpty(t, g.Str("description"))
				assert.Nil(t, g.Get("ingress"), "no inline rules")
				assert.Nil(t, g.Get("egress"), "no inline rules")
				// A name prefix, so a replacement never collides with the group it replaces.
				assert.Nil(t, g.Get("name"))
				assert.Equal(t, g.Str("tags.Name")+"-", g.Str("namePrefix"))
				groups[g.Outputs["id"].(string)] = g.Str("tags.Name")[len(prefix)+1:]
			}
			// Only CloudFront's origin-facing prefix list reaches the internal load balancer, in
			// every stack (CloudFront's "Restrict access with VPC origins").
			expected := []rule{
				{"alb", "in", want.albPort, "pl-3b927c52"},
				{"alb", "out", 8000, "backend"},
				{"backend", "in", 8000, "alb"},
				{"backend", "out", 5432, "rds"},
				{"backend", "out", 443, "0.0.0.0/0"},
				{"rds", "in", 5432, "backend"},
				// The restore test's copy answers its validator only; the validator reaches the
				// copy and the AWS APIs, nothing else.
				{"restore-test", "in", 5432, "restore-validator"},
				{"restore-validator", "out", 5432, "restore-test"},
				{"restore-validator", "out", 443, "0.0.0.0/0"},
				// The master secret's rotation reaches the database and, through the NAT,
				// Secrets Manager; the database admits it besides the backend.
				{"rds", "in", 5432, "rotation"},
				{"rotation", "out", 5432, "rds"},
				{"rotation", "out", 443, "0.0.0.0/0"},
			}
			var got []rule
			for dir, typ := range map[string]string{"in": "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "out": "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"} {
				for _, r := range res.OfType(typ) {
					assert.NotEmpty(t, r.Str("description"), r.Name)
					assert.Equal(t, "tcp", r.Str("ipProtocol"))
					assert.Equal(t, r.Num("fromPort"), r.Num("toPort"), "single ports only")
					peer := r.Str("cidrIpv4") + r.Str("prefixListId") + groups[r.Str("referencedSecurityGroupId")]
					got = append(got, rule{groups[r.Str("securityGroupId")], dir, r.Num("fromPort"), peer})
				}
			}
			sortRules(expected)
			sortRules(got)
			assert.Equal(t, expected, got, "exactly the seed's table: nothing more, nothing less")
		})
	}
}

func sortRules(r []rule) {
	sort.Slice(r, func(i, j int) bool { return fmt.Sprint(r[i]) < fmt.Sprint(r[j]) })
}

func TestDefaultSecurityGroupIsLockedDown(t *testing.T) {
	for _, stack := range offline.Stacks {
		res := offline.Stack(t, stack)
		d := res.OfType("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
		require.Len(t, d, 1, stack)
		assert.Empty(t, d[0].List("ingress"), "EC2.2")
		assert.Empty(t, d[0].List("egress"), "EC2.2")
	}
}

func TestFlowLogsAreEncryptedAndKept(t *testing.T) {
	retention := map[string]float64{"dev": 30, "staging": 90, "prod": 365}
	for _, stack := range offline.Stacks {
		res := offline.Stack(t, stack)
		fl := res.OfType("aws:ec2/flowLog:FlowLog")
		require.Len(t, fl, 1, stack)
		assert.Equal(t, "ALL", fl[0].Str("trafficType"), "EC2.6")
		assert.Equal(t, "cloud-watch-logs", fl[0].Str("logDestinationType"))
		g := res.Named("aws:cloudwatch/logGroup:LogGroup", "canalco-"+stack+"-vpc-flow-logs")
		require.NotNil(t, g)
		assert.Equal(t, g.Outputs["arn"], fl[0].Str("logDestination"))
		assert.Equal(t, retention[stack], g.Num("retentionInDays"))
		assert.Contains(t, g.Str("kmsKeyId"), ":key/", "encrypted with the logs key")
		role := res.Named("aws:iam/role:Role", "canalco-"+stack+"-vpc-flow-logs")
		require.NotNil(t, role)
		assert.Contains(t, role.Str("assumeRolePolicy"), "vpc-flow-logs.amazonaws.com")
		assert.Contains(t, role.Str("assumeRolePolicy"), "aws:SourceAccount")
		// The flow log names only the role: it must also wait for the policy that lets it write.
		policy := res.Named("aws:iam/rolePolicy:RolePolicy", "canalco-"+stack+"-vpc-flow-logs")
		require.NotNil(t, policy)
		assert.True(t, fl[0].DependsOn(policy.URN), "the flow log waits for its role's policy")
	}
}

func TestDBSubnetGroupSpansDatabaseSubnets(t *testing.T) {
	for _, stack := range offline.Stacks {
		res := offline.Stack(t, stack)
		g := res.OfType("aws:rds/subnetGroup:SubnetGroup")
		require.Len(t, g, 1)
		assert.Equal(t, "canalco-"+stack+"-db", g[0].Str("name"))
		var want []string
		for _, az := range []string{"a", "b"} {
			want = append(want, res.Named(subnetT, "canalco-"+stack+"-database-"+az).Outputs["id"].(string))
		}
		assert.ElementsMatch(t, want, g[0].Strings("subnetIds"))
	}
}

func TestEverythingIsParentedToTheNetworkComponent(t *testing.T) {
	for _, stack := range offline.Stacks {
		res := offline.Stack(t, stack)
		comps := res.OfType("canalco:network:Network")
		require.Len(t, comps, 1)
		for _, typ := range []string{"aws:ec2/vpc:Vpc", subnetT, routeT, "aws:ec2/natGateway:NatGateway", "aws:ec2/securityGroup:SecurityGroup", "aws:ec2/flowLog:FlowLog"} {
			for _, r := range res.OfType(typ) {
				assert.Equal(t, comps[0].URN, r.Parent, "%s %s", typ, r.Name)
			}
		}
	}
}
