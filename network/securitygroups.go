package network

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// rule is one security-group rule: exactly one of cidr, prefixList or peer is the other side.
type rule struct {
	name, description string
	port              int
	cidr              string
	prefixList        pulumi.StringInput
	peer              *ec2.SecurityGroup
}

// securityGroups creates the seed's three groups, the restore test's two and the master
// secret's rotation function's. Every rule is its own resource, so a rule
// changes without replacing the group, and every group and rule says what it is for.
func securityGroups(ctx *pulumi.Context, n *Network, a *NetworkArgs, v *ec2.Vpc, parent pulumi.ResourceOption) error {
	group := func(thing, description string) (*ec2.SecurityGroup, error) {
		return ec2.NewSecurityGroup(ctx, a.Prefix+"-"+thing, &ec2.SecurityGroupArgs{
			// A prefix, not a name: a new description or VPC replaces the group, and the new
			// one must exist (and take over every reference) before the old one can go, which
			// create-before-delete does only if the names differ. The Name tag stays fixed.
			NamePrefix:  pulumi.String(a.Prefix + "-" + thing + "-"),
			Description: pulumi.String(description),
			VpcId:       v.ID(),
			Tags:        pulumi.StringMap{"Name": pulumi.String(a.Prefix + "-" + thing)},
		}, parent)
	}
	alb, err := group("alb", "Internal load balancer: in from the CloudFront VPC origin only, to the backend on 8000")
	if err != nil {
		return err
	}
	backend, err := group("backend", "Backend instances: 8000 from the load balancer, out to the database and HTTPS")
	if err != nil {
		return err
	}
	db, err := group("rds", "PostgreSQL: 5432 from the backend only, nothing out")
	if err != nil {
		return err
	}
	// The monthly restore test's copy of the database and the function that validates it: the
	// copy answers only the validator, never the backend (which holds the live database's
	// address and credentials) nor anything else; the validator reaches only the copy and,
	// through the NAT, the AWS APIs it reports to.
	restored, err := group("restore-test", "Restore-test copy of PostgreSQL: 5432 from the restore validator only, nothing out")
	if err != nil {
		return err
	}
	validator, err := group("restore-validator", "Restore validator: out to the restore-test copy on 5432 and HTTPS to AWS APIs")
	if err != nil {
		return err
	}
	// The rotation function signs in to the live database and writes the secret through the
	// NAT: a group of its own, so the database admits it without admitting the validator.
	rotation, err := group("rotation", "Master secret rotation: out to PostgreSQL on 5432 and HTTPS to Secrets Manager")
	if err != nil {
		return err
	}

	// The load balancer is internal: nothing on the internet can route to it, and inside the
	// VPC only CloudFront's VPC-origin interfaces are admitted. CloudFront's "Restrict access
	// with VPC origins" page has the origin's group admit the origin-facing prefix list; the
	// service group CloudFront creates with the origin (CloudFront-VPCOrigins-Service-SG) does
	// not exist before the first deployment, so it cannot be referenced here (docs/cdn.md).
	pl, err := ec2.LookupManagedPrefixList(ctx, &ec2.LookupManagedPrefixListArgs{Name: pulumi.StringRef(CloudFrontPrefixList)}, pulumi.Parent(n))
	if err != nil {
		return fmt.Errorf("CloudFront prefix list: %w", err)
	}
	cloudFront := rule{name: "alb-in-cloudfront", port: a.AlbPort, prefixList: pulumi.String(pl.Id), description: fmt.Sprintf("CloudFront VPC origin on %d", a.AlbPort)}
	ingress := map[*ec2.SecurityGroup][]rule{
		alb:     {cloudFront},
		backend: {{name: "backend-in-alb", port: BackendPort, peer: alb, description: "Load balancer to the application"}},
		db: {
			{name: "rds-in-backend", port: DatabasePort, peer: backend, description: "Backend to PostgreSQL"},
			{name: "rds-in-rotation", port: DatabasePort, peer: rotation, description: "Master secret rotation to PostgreSQL"},
		},
		restored: {{name: "restore-test-in-validator", port: DatabasePort, peer: validator, description: "Restore validator to the restored PostgreSQL"}},
	}
	egress := map[*ec2.SecurityGroup][]rule{
		alb: {{name: "alb-out-backend", port: BackendPort, peer: backend, description: "To the application on the backend"}},
		backend: {
			{name: "backend-out-rds", port: DatabasePort, peer: db, description: "To PostgreSQL"},
			{name: "backend-out-https", port: HTTPSPort, cidr: "0.0.0.0/0", description: "HTTPS to AWS APIs, ECR and package repositories through the NAT"},
		},
		validator: {
			{name: "restore-validator-out-copy", port: DatabasePort, peer: restored, description: "To the restored PostgreSQL"},
			{name: "restore-validator-out-https", port: HTTPSPort, cidr: "0.0.0.0/0", description: "HTTPS to the AWS Backup, RDS and CA-bundle endpoints through the NAT"},
		},
		rotation: {
			{name: "rotation-out-rds", port: DatabasePort, peer: db, description: "To PostgreSQL"},
			{name: "rotation-out-https", port: HTTPSPort, cidr: "0.0.0.0/0", description: "HTTPS to Secrets Manager and the CA-bundle endpoint through the NAT"},
		},
		// The database groups have no egress rule: they answer connections and start none.
	}
	for _, sg := range []*ec2.SecurityGroup{alb, backend, db, restored, validator, rotation} {
		for _, r := range ingress[sg] {
			if _, err := vpc.NewSecurityGroupIngressRule(ctx, a.Prefix+"-"+r.name, r.args(a.Prefix, sg), parent); err != nil {
				return err
			}
		}
		for _, r := range egress[sg] {
			// Egress and ingress rules take the same fields; only the direction differs.
			egressArgs := vpc.SecurityGroupEgressRuleArgs(*r.args(a.Prefix, sg))
			if _, err := vpc.NewSecurityGroupEgressRule(ctx, a.Prefix+"-"+r.name, &egressArgs, parent); err != nil {
				return err
			}
		}
	}
	n.AlbSecurityGroupID, n.BackendSecurityGroupID, n.DatabaseSecurityGroupID = alb.ID().ToStringOutput(), backend.ID().ToStringOutput(), db.ID().ToStringOutput()
	n.RestoreTestSecurityGroupID, n.RestoreValidatorSecurityGroupID = restored.ID().ToStringOutput(), validator.ID().ToStringOutput()
	n.RotationSecurityGroupID = rotation.ID().ToStringOutput()
	return nil
}

// args are the rule's fields on the group sg.
func (r rule) args(prefix string, sg *ec2.SecurityGroup) *vpc.SecurityGroupIngressRuleArgs {
	return &vpc.SecurityGroupIngressRuleArgs{
		SecurityGroupId: sg.ID(), IpProtocol: pulumi.String("tcp"),
		FromPort: pulumi.Int(r.port), ToPort: pulumi.Int(r.port),
		CidrIpv4: optString(r.cidr), PrefixListId: r.prefixList, ReferencedSecurityGroupId: peerID(r.peer),
		Description: pulumi.String(r.description),
		Tags:        pulumi.StringMap{"Name": pulumi.String(prefix + "-" + r.name)},
	}
}

func optString(s string) pulumi.StringPtrInput {
	if s == "" {
		return nil
	}
	return pulumi.String(s)
}

func peerID(sg *ec2.SecurityGroup) pulumi.StringPtrInput {
	if sg == nil {
		return nil
	}
	return sg.ID()
}
