// Package network lays out the VPC: three subnet tiers across the AZs, internet and NAT
// gateways, per-tier routing, the S3 gateway endpoint, flow logs and the security groups of
// the seed's table.
package network

import (
	"fmt"

	"github.com/canalco/infra/logs"
	"github.com/canalco/infra/security"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// NetworkArgs are the inputs of the network layer.
type NetworkArgs struct {
	// Prefix names every resource: canalco-<env>.
	Prefix              string
	Region              string
	AccountID           string
	VpcCidr             string
	AvailabilityZones   []string
	PublicSubnetCidrs   []string
	PrivateSubnetCidrs  []string
	DatabaseSubnetCidrs []string
	// NatPerAz gives each AZ its own NAT gateway; otherwise the first AZ's NAT serves all.
	NatPerAz bool
	Logs     logs.Settings
	// AlbPort is the port the internal load balancer listens on: 443, or 80 when the stack has
	// no certificate (CloudFront's VPC origin reaches it over AWS's network either way).
	AlbPort int
	// Delegation, when set, delegates a subzone of the stack's zone to another hosted zone.
	Delegation *Delegation
	// InstanceTypes are the EC2 types the backend may launch: each must be offered in every AZ.
	InstanceTypes []string
}

// Network is the network layer's output.
type Network struct {
	pulumi.ResourceState

	VpcID                   pulumi.StringOutput
	PublicSubnetIDs         pulumi.StringArrayOutput
	PrivateSubnetIDs        pulumi.StringArrayOutput
	DatabaseSubnetIDs       pulumi.StringArrayOutput
	PublicRouteTableID      pulumi.StringOutput
	PrivateRouteTableIDs    pulumi.StringArrayOutput
	DatabaseRouteTableID    pulumi.StringOutput
	AlbSecurityGroupID      pulumi.StringOutput
	BackendSecurityGroupID  pulumi.StringOutput
	DatabaseSecurityGroupID pulumi.StringOutput
	// RestoreTestSecurityGroupID isolates the monthly restore test's copy of the database;
	// RestoreValidatorSecurityGroupID is the function that validates it, its only client.
	RestoreTestSecurityGroupID      pulumi.StringOutput
	RestoreValidatorSecurityGroupID pulumi.StringOutput
	DBSubnetGroupName               pulumi.StringOutput
	FlowLogGroupName                pulumi.StringOutput
	NatGatewayCount                 int
	// RotationSecurityGroupID is the master secret's rotation function.
	RotationSecurityGroupID pulumi.StringOutput
}

// Ports of the seed's security-group table.
const (
	BackendPort  = 8000
	DatabasePort = 5432
	HTTPSPort    = 443
)

// CloudFrontPrefixList is AWS's managed list of CloudFront's origin-facing addresses, which
// CloudFront's "Restrict access with VPC origins" page has the origin's group admit.
const CloudFrontPrefixList = "com.amazonaws.global.cloudfront.origin-facing"

// NewNetwork creates the network layer.
func NewNetwork(ctx *pulumi.Context, name string, args *NetworkArgs, opts ...pulumi.ResourceOption) (*Network, error) {
	n := &Network{}
	if err := ctx.RegisterComponentResource("canalco:network:Network", name, n, opts...); err != nil {
		return nil, err
	}
	if err := build(ctx, n, args); err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	return n, ctx.RegisterResourceOutputs(n, pulumi.Map{
		"vpcId":                           n.VpcID,
		"publicSubnetIds":                 n.PublicSubnetIDs,
		"privateSubnetIds":                n.PrivateSubnetIDs,
		"databaseSubnetIds":               n.DatabaseSubnetIDs,
		"albSecurityGroupId":              n.AlbSecurityGroupID,
		"backendSecurityGroupId":          n.BackendSecurityGroupID,
		"databaseSecurityGroupId":         n.DatabaseSecurityGroupID,
		"restoreTestSecurityGroupId":      n.RestoreTestSecurityGroupID,
		"restoreValidatorSecurityGroupId": n.RestoreValidatorSecurityGroupID,
		"rotationSecurityGroupId":         n.RotationSecurityGroupID,
		"dbSubnetGroupName":               n.DBSubnetGroupName,
		"flowLogGroupName":                n.FlowLogGroupName,
	})
}

func build(ctx *pulumi.Context, n *Network, a *NetworkArgs) error {
	if err := checkOfferings(ctx, n, a); err != nil {
		return err
	}
	parent := pulumi.Parent(n)
	tags := func(thing string) pulumi.StringMap {
		return pulumi.StringMap{"Name": pulumi.String(a.Prefix + "-" + thing)}
	}

	vpc, err := ec2.NewVpc(ctx, a.Prefix+"-vpc", &ec2.VpcArgs{
		CidrBlock:          pulumi.String(a.VpcCidr),
		EnableDnsSupport:   pulumi.Bool(true),
		EnableDnsHostnames: pulumi.Bool(true),
		Tags:               tags("vpc"),
	}, parent)
	if err != nil {
		return err
	}
	n.VpcID = vpc.ID().ToStringOutput()

	// EC2.2: the default security group allows nothing, so nothing can fall back on it.
	if _, err := ec2.NewDefaultSecurityGroup(ctx, a.Prefix+"-default-sg", &ec2.DefaultSecurityGroupArgs{
		VpcId: vpc.ID(),
		Tags:  tags("default-do-not-use"),
	}, parent); err != nil {
		return err
	}

	subnets := func(tier string, cidrs []string) ([]*ec2.Subnet, pulumi.StringArray, error) {
		var list []*ec2.Subnet
		var ids pulumi.StringArray
		for i, cidr := range cidrs {
			az := a.AvailabilityZones[i]
			s, err := ec2.NewSubnet(ctx, fmt.Sprintf("%s-%s-%s", a.Prefix, tier, az[len(az)-1:]), &ec2.SubnetArgs{
				VpcId:            vpc.ID(),
				CidrBlock:        pulumi.String(cidr),
				AvailabilityZone: pulumi.String(az),
				// EC2.15: no subnet hands out public addresses; only the ALB and NAT have them.
				MapPublicIpOnLaunch: pulumi.Bool(false),
				Tags:                tags(fmt.Sprintf("%s-%s", tier, az)),
			}, parent)
			if err != nil {
				return nil, nil, err
			}
			list = append(list, s)
			ids = append(ids, s.ID().ToStringOutput())
		}
		return list, ids, nil
	}
	public, publicIDs, err := subnets("public", a.PublicSubnetCidrs)
	if err != nil {
		return err
	}
	private, privateIDs, err := subnets("private", a.PrivateSubnetCidrs)
	if err != nil {
		return err
	}
	database, databaseIDs, err := subnets("database", a.DatabaseSubnetCidrs)
	if err != nil {
		return err
	}
	n.PublicSubnetIDs, n.PrivateSubnetIDs, n.DatabaseSubnetIDs = publicIDs.ToStringArrayOutput(), privateIDs.ToStringArrayOutput(), databaseIDs.ToStringArrayOutput()

	igw, err := ec2.NewInternetGateway(ctx, a.Prefix+"-igw", &ec2.InternetGatewayArgs{VpcId: vpc.ID(), Tags: tags("igw")}, parent)
	if err != nil {
		return err
	}

	// Public tier: one route table, default route to the internet gateway.
	publicRT, err := routeTable(ctx, a.Prefix+"-public", vpc, tags("public"), public, parent)
	if err != nil {
		return err
	}
	if _, err := ec2.NewRoute(ctx, a.Prefix+"-public-default", &ec2.RouteArgs{
		RouteTableId:         publicRT.ID(),
		DestinationCidrBlock: pulumi.String("0.0.0.0/0"),
		GatewayId:            igw.ID(),
	}, parent); err != nil {
		return err
	}
	n.PublicRouteTableID = publicRT.ID().ToStringOutput()

	// NAT gateways in the public subnets: one per AZ, or one shared (dev).
	natCount := 1
	if a.NatPerAz {
		natCount = len(public)
	}
	n.NatGatewayCount = natCount
	var nats []*ec2.NatGateway
	for i := 0; i < natCount; i++ {
		suffix := a.AvailabilityZones[i][len(a.AvailabilityZones[i])-1:]
		eip, err := ec2.NewEip(ctx, fmt.Sprintf("%s-nat-%s", a.Prefix, suffix), &ec2.EipArgs{
			Domain: pulumi.String("vpc"),
			Tags:   tags("nat-" + suffix),
		}, parent)
		if err != nil {
			return err
		}
		nat, err := ec2.NewNatGateway(ctx, fmt.Sprintf("%s-nat-%s", a.Prefix, suffix), &ec2.NatGatewayArgs{
			AllocationId: eip.ID(),
			SubnetId:     public[i].ID(),
			Tags:         tags("nat-" + suffix),
		}, parent, pulumi.DependsOn([]pulumi.Resource{igw}))
		if err != nil {
			return err
		}
		nats = append(nats, nat)
	}

	// Private tier: a route table per AZ, out through that AZ's NAT (or the shared one).
	var privateRTs pulumi.StringArray
	endpointRTs := pulumi.StringArray{}
	for i, s := range private {
		suffix := a.AvailabilityZones[i][len(a.AvailabilityZones[i])-1:]
		rt, err := routeTable(ctx, fmt.Sprintf("%s-private-%s", a.Prefix, suffix), vpc, tags("private-"+suffix), []*ec2.Subnet{s}, parent)
		if err != nil {
			return err
		}
		if _, err := ec2.NewRoute(ctx, fmt.Sprintf("%s-private-%s-default", a.Prefix, suffix), &ec2.RouteArgs{
			RouteTableId:         rt.ID(),
			DestinationCidrBlock: pulumi.String("0.0.0.0/0"),
			NatGatewayId:         nats[i%len(nats)].ID(),
		}, parent); err != nil {
			return err
		}
		privateRTs = append(privateRTs, rt.ID().ToStringOutput())
		endpointRTs = append(endpointRTs, rt.ID().ToStringOutput())
	}
	n.PrivateRouteTableIDs = privateRTs.ToStringArrayOutput()

	// Database tier: no route to the internet at all, only the VPC and the S3 endpoint.
	databaseRT, err := routeTable(ctx, a.Prefix+"-database", vpc, tags("database"), database, parent)
	if err != nil {
		return err
	}
	n.DatabaseRouteTableID = databaseRT.ID().ToStringOutput()
	endpointRTs = append(endpointRTs, databaseRT.ID().ToStringOutput())

	// The S3 gateway endpoint is free and keeps S3 and ECR-layer traffic off the NAT.
	if _, err := ec2.NewVpcEndpoint(ctx, a.Prefix+"-s3", &ec2.VpcEndpointArgs{
		VpcId:           vpc.ID(),
		ServiceName:     pulumi.String(fmt.Sprintf("com.amazonaws.%s.s3", a.Region)),
		VpcEndpointType: pulumi.String("Gateway"),
		RouteTableIds:   endpointRTs,
		Tags:            tags("s3"),
	}, parent); err != nil {
		return err
	}

	if err := flowLogs(ctx, n, a, vpc, parent); err != nil {
		return err
	}
	if err := securityGroups(ctx, n, a, vpc, parent); err != nil {
		return err
	}
	if err := delegate(ctx, n, a); err != nil {
		return err
	}

	dbSubnets, err := rds.NewSubnetGroup(ctx, a.Prefix+"-db", &rds.SubnetGroupArgs{
		Name:        pulumi.String(a.Prefix + "-db"),
		Description: pulumi.String("Database subnets of " + a.Prefix),
		SubnetIds:   databaseIDs,
	}, parent)
	if err != nil {
		return err
	}
	n.DBSubnetGroupName = dbSubnets.Name
	return nil
}

func routeTable(ctx *pulumi.Context, name string, vpc *ec2.Vpc, tags pulumi.StringMap, subnets []*ec2.Subnet, parent pulumi.ResourceOption) (*ec2.RouteTable, error) {
	rt, err := ec2.NewRouteTable(ctx, name, &ec2.RouteTableArgs{VpcId: vpc.ID(), Tags: tags}, parent)
	if err != nil {
		return nil, err
	}
	for i, s := range subnets {
		if _, err := ec2.NewRouteTableAssociation(ctx, fmt.Sprintf("%s-%d", name, i), &ec2.RouteTableAssociationArgs{
			RouteTableId: rt.ID(),
			SubnetId:     s.ID(),
		}, parent); err != nil {
			return nil, err
		}
	}
	return rt, nil
}

// flowLogs sends all VPC traffic records to an encrypted log group (EC2.6).
func flowLogs(ctx *pulumi.Context, n *Network, a *NetworkArgs, vpc *ec2.Vpc, parent pulumi.ResourceOption) error {
	name := a.Prefix + "-vpc-flow-logs"
	group, err := logs.NewGroup(ctx, name, name, a.Logs, parent)
	if err != nil {
		return err
	}
	n.FlowLogGroupName = group.Name
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		Name:             pulumi.String(name),
		Description:      pulumi.String("VPC flow logs of " + a.Prefix + " write to their log group"),
		AssumeRolePolicy: pulumi.String(security.AssumeRole("vpc-flow-logs.amazonaws.com", a.AccountID)),
	}, parent)
	if err != nil {
		return err
	}
	policy, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{
		Role: role.ID(),
		Policy: group.Arn.ApplyT(func(arn string) string {
			return security.Document(security.Allow("WriteFlowLogs",
				[]string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
				[]string{arn, arn + ":*"}))
		}).(pulumi.StringOutput),
	}, parent)
	if err != nil {
		return err
	}
	// The flow log takes only the role's ARN, so without the explicit dependency EC2 may
	// create it before the role may write, and delivery fails until someone recreates it.
	_, err = ec2.NewFlowLog(ctx, name, &ec2.FlowLogArgs{
		VpcId:                  vpc.ID(),
		TrafficType:            pulumi.String("ALL"),
		LogDestinationType:     pulumi.String("cloud-watch-logs"),
		LogDestination:         group.Arn,
		IamRoleArn:             role.Arn,
		MaxAggregationInterval: pulumi.Int(60),
		Tags:                   pulumi.StringMap{"Name": pulumi.String(name)},
	}, parent, pulumi.DependsOn([]pulumi.Resource{policy}))
	return err
}
