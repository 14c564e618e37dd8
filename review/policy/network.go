package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/canalco/infra/offline"
)

const (
	typeVpc         = "aws:ec2/vpc:Vpc"
	typeSubnet      = "aws:ec2/subnet:Subnet"
	typeSG          = "aws:ec2/securityGroup:SecurityGroup"
	typeDefaultSG   = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
	typeIngressRule = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	typeEgressRule  = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
	typeSGRule      = "aws:ec2/securityGroupRule:SecurityGroupRule"
	typeFlowLog     = "aws:ec2/flowLog:FlowLog"
)

// ingressTypes are every way a program can open a port: rule resources and inline rules.
var ingressTypes = []string{typeIngressRule, typeSGRule, typeSG}

// highRiskPorts are the ports EC2.19 lists as high risk when open to the internet.
var highRiskPorts = []int{20, 21, 22, 23, 25, 110, 135, 143, 445, 1433, 1434, 3000, 3306, 3389, 4333, 5000, 5432, 5500, 5601, 8080, 8088, 8888, 9200, 9300}

// authorizedPorts are the ports EC2.18 accepts open to the internet (its default parameter).
var authorizedPorts = []int{80, 443}

// perm is one opening of a security group, whatever resource declared it.
type perm struct {
	from, to    int
	protocol    string
	cidrs       []string
	description string
}

func (p perm) allPorts() bool {
	return p.protocol == "-1" || p.protocol == "all" || (p.from <= 0 && p.to >= 65535)
}

func (p perm) covers(port int) bool { return p.allPorts() || (p.from <= port && port <= p.to) }

func (p perm) world() bool {
	for _, c := range p.cidrs {
		if c == "0.0.0.0/0" || c == "::/0" {
			return true
		}
	}
	return false
}

func (p perm) ports() string {
	if p.allPorts() {
		return "all ports"
	}
	if p.from == p.to {
		return fmt.Sprintf("port %d", p.from)
	}
	return fmt.Sprintf("ports %d-%d", p.from, p.to)
}

// perms returns the openings a resource declares in one direction ("ingress" or "egress").
func perms(r *offline.Resource, direction string) []perm {
	switch r.Type {
	case typeIngressRule, typeEgressRule:
		if (r.Type == typeIngressRule) != (direction == "ingress") {
			return nil
		}
		return []perm{{from: int(r.Num("fromPort")), to: int(r.Num("toPort")), protocol: r.Str("ipProtocol"),
			cidrs: nonEmpty(r.Str("cidrIpv4"), r.Str("cidrIpv6")), description: r.Str("description")}}
	case typeSGRule:
		if r.Str("type") != direction {
			return nil
		}
		return []perm{{from: int(r.Num("fromPort")), to: int(r.Num("toPort")), protocol: r.Str("protocol"),
			cidrs: append(r.Strings("cidrBlocks"), r.Strings("ipv6CidrBlocks")...), description: r.Str("description")}}
	case typeSG, typeDefaultSG:
		var out []perm
		for _, v := range r.List(direction) {
			m, _ := v.(map[string]any)
			sub := &offline.Resource{Inputs: m}
			out = append(out, perm{from: int(sub.Num("fromPort")), to: int(sub.Num("toPort")), protocol: sub.Str("protocol"),
				cidrs: append(sub.Strings("cidrBlocks"), sub.Strings("ipv6CidrBlocks")...), description: sub.Str("description")})
		}
		return out
	}
	return nil
}

func nonEmpty(values ...string) []string {
	var out []string
	for _, v := range values {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// worldOpen fails when an ingress opening to the internet matches bad.
func worldOpen(bad func(p perm) bool, what string) func(r *offline.Resource, ctx *Context) (bool, string) {
	return func(r *offline.Resource, _ *Context) (bool, string) {
		for _, p := range perms(r, "ingress") {
			if p.world() && bad(p) {
				return fail(fmt.Sprintf("%s open to %s on %s", what, strings.Join(p.cidrs, ", "), p.ports()))
			}
		}
		return pass()
	}
}

func coversAny(p perm, ports []int) bool {
	for _, port := range ports {
		if p.covers(port) {
			return true
		}
	}
	return false
}

var networkRules = []Rule{
	{
		ID: "EC2.2", Framework: FSBP, Severity: High, ResourceTypes: []string{typeVpc},
		Title: "VPC default security groups should not allow inbound or outbound traffic",
		Fix:   "manage the VPC's default security group (aws.ec2.DefaultSecurityGroup) with no ingress or egress rules",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			managed := ctx.Pointing(typeDefaultSG, "vpcId", r)
			switch {
			case len(managed) == 0:
				return fail("the default security group is not managed, so it keeps AWS's allow-all rules")
			case len(managed[0].List("ingress"))+len(managed[0].List("egress")) > 0:
				return fail("the default security group keeps rules")
			}
			return pass()
		},
	},
	{
		ID: "EC2.6", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeVpc},
		Title: "VPC flow logging should be enabled in all VPCs",
		Fix:   "add an aws.ec2.FlowLog on the VPC with trafficType ALL (or REJECT)",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			for _, f := range ctx.Pointing(typeFlowLog, "vpcId", r) {
				if t := f.Str("trafficType"); t == "ALL" || t == "REJECT" {
					return pass()
				}
			}
			return fail("no flow log records this VPC's rejected traffic")
		},
	},
	{
		ID: "EC2.15", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeSubnet},
		Title: "Amazon EC2 subnets should not automatically assign public IP addresses",
		Fix:   "set mapPublicIpOnLaunch false; only the load balancer and NAT gateways need public addresses",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(!r.Bool("mapPublicIpOnLaunch"), "mapPublicIpOnLaunch is true")
		},
	},
	{
		ID: "EC2.18", Framework: FSBP, Severity: High, ResourceTypes: ingressTypes,
		Title: "Security groups should only allow unrestricted incoming traffic for authorized ports",
		Fix:   "open only 80 or 443 to 0.0.0.0/0; admit other ports from a security group or a prefix list",
		Check: worldOpen(func(p perm) bool {
			return p.allPorts() || p.from != p.to || !slices.Contains(authorizedPorts, p.from)
		}, "an unauthorized port is"),
	},
	{
		ID: "EC2.19", Framework: FSBP, Severity: Critical, ResourceTypes: ingressTypes,
		Title: "Security groups should not allow unrestricted access to ports with high risk",
		Fix:   "admit high-risk ports (22, 3389, 5432, 3306, ...) only from a security group or a private range",
		Check: worldOpen(func(p perm) bool { return coversAny(p, highRiskPorts) }, "a high-risk port is"),
	},
	{
		ID: "EC2.13", Framework: FSBP, Severity: High, ResourceTypes: ingressTypes,
		Title: "Security groups should not allow ingress from 0.0.0.0/0 or ::/0 to port 22",
		Fix:   "use Systems Manager Session Manager instead of SSH from the internet",
		Check: worldOpen(func(p perm) bool { return p.covers(22) }, "SSH is"),
	},
	{
		ID: "EC2.14", Framework: FSBP, Severity: High, ResourceTypes: ingressTypes,
		Title: "Security groups should not allow ingress from 0.0.0.0/0 or ::/0 to port 3389",
		Fix:   "use Systems Manager Session Manager instead of RDP from the internet",
		Check: worldOpen(func(p perm) bool { return p.covers(3389) }, "RDP is"),
	},
	{
		ID: "Canalco.1", Framework: Canalco, Severity: Low, ResourceTypes: []string{typeSG, typeIngressRule, typeEgressRule, typeSGRule},
		Title: "Security groups and their rules say what they are for",
		Fix:   "set description on the group and on every rule (the reviewer of a change reads it)",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			if r.Str("description") == "" {
				return fail("no description")
			}
			for _, dir := range []string{"ingress", "egress"} {
				for _, p := range perms(r, dir) {
					if p.description == "" && r.Type == typeSG {
						return fail("an inline " + dir + " rule has no description")
					}
				}
			}
			return pass()
		},
	},
	{
		ID: "Canalco.2", Framework: Canalco, Severity: Medium, ResourceTypes: []string{typeSG, typeEgressRule, typeSGRule},
		Title: "Security groups reach the internet only on the ports they need",
		Fix:   "replace an all-ports egress to 0.0.0.0/0 with the ports the workload uses (e.g. 443)",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			for _, p := range perms(r, "egress") {
				if p.world() && p.allPorts() {
					return fail("egress to the internet on all ports")
				}
			}
			return pass()
		},
	},
}
