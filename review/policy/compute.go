package policy

import (
	"fmt"

	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/review/graph"
)

const (
	typeLaunchTemplate = "aws:ec2/launchTemplate:LaunchTemplate"
	typeInstance       = "aws:ec2/instance:Instance"
	typeASG            = "aws:autoscaling/group:Group"
	typeEbsDefault     = "aws:ebs/encryptionByDefault:EncryptionByDefault"
	typeEcrRepo        = "aws:ecr/repository:Repository"
	typeEcrLifecycle   = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
)

// truthy reads a boolean that some schemas type as a string ("true").
func truthy(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case string:
		return t == "true"
	}
	return false
}

// hasLoadBalancer reports whether an Auto Scaling group registers with a load balancer.
func hasLoadBalancer(r *offline.Resource) bool {
	return len(r.List("targetGroupArns"))+len(r.List("loadBalancers"))+len(r.List("trafficSources")) > 0
}

var computeRules = []Rule{
	{
		ID: "EC2.8", Framework: FSBP, Severity: High, ResourceTypes: []string{typeLaunchTemplate, typeInstance},
		Title: "EC2 instances should use Instance Metadata Service Version 2 (IMDSv2)",
		Fix:   "set metadataOptions.httpTokens to required (checked on the launch template the instances start from)",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(r.Str("metadataOptions.httpTokens") == "required", "metadataOptions.httpTokens is not required, so IMDSv1 answers")
		},
	},
	{
		ID: "EC2.25", Framework: FSBP, Severity: High, ResourceTypes: []string{typeLaunchTemplate},
		Title: "Amazon EC2 launch templates should not assign public IPs to network interfaces",
		Fix:   "leave associatePublicIpAddress unset or false; instances reach out through the NAT gateways",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			for i := range r.List("networkInterfaces") {
				if truthy(r.Get(fmt.Sprintf("networkInterfaces.%d.associatePublicIpAddress", i))) {
					return fail(fmt.Sprintf("networkInterfaces.%d assigns a public IP", i))
				}
			}
			return pass()
		},
	},
	{
		ID: "EC2.9", Framework: FSBP, Severity: High, ResourceTypes: []string{typeInstance},
		Title: "Amazon EC2 instances should not have a public IPv4 address",
		Fix:   "launch the instance in a private subnet with associatePublicIpAddress false",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(!r.Bool("associatePublicIpAddress"), "associatePublicIpAddress is true")
		},
	},
	{
		ID: "EC2.3", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeLaunchTemplate},
		Title: "Attached Amazon EBS volumes should be encrypted at-rest",
		Fix:   "declare the root volume in blockDeviceMappings with ebs.encrypted true",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			maps := r.List("blockDeviceMappings")
			if len(maps) == 0 {
				return fail("no block device mapping: the root volume takes the AMI's (possibly unencrypted) setting")
			}
			for i := range maps {
				if !truthy(r.Get(fmt.Sprintf("blockDeviceMappings.%d.ebs.encrypted", i))) {
					return fail(fmt.Sprintf("%s is not encrypted", r.Str(fmt.Sprintf("blockDeviceMappings.%d.deviceName", i))))
				}
			}
			return pass()
		},
	},
	{
		ID: "EC2.7", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeEbsDefault},
		Title: "EBS default encryption should be enabled",
		Fix:   "set enabled true on aws.ebs.EncryptionByDefault",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(r.Get("enabled") == nil || r.Bool("enabled"), "EBS encryption by default is turned off")
		},
	},
	{
		ID: "AutoScaling.1", Framework: FSBP, Severity: Low, ResourceTypes: []string{typeASG},
		Title: "Auto Scaling groups associated with a load balancer should use ELB health checks",
		Fix:   "set healthCheckType ELB so instances the load balancer finds unhealthy are replaced",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(!hasLoadBalancer(r) || r.Str("healthCheckType") == "ELB", "healthCheckType is not ELB")
		},
	},
	{
		ID: "AutoScaling.2", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeASG},
		Title: "Amazon EC2 Auto Scaling group should cover multiple Availability Zones",
		Fix:   "list subnets of at least two AZs in vpcZoneIdentifiers",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			azs := ctx.AZs(r.Get("vpcZoneIdentifiers"))
			if len(azs) == 0 {
				azs = graph.Strings(r.Get("availabilityZones"))
			}
			return check(len(azs) >= 2, fmt.Sprintf("spans %d Availability Zone(s)", len(azs)))
		},
	},
	{
		ID: "AutoScaling.6", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeASG},
		Title: "Auto Scaling groups should use multiple instance types in multiple Availability Zones",
		Fix:   "use a mixedInstancesPolicy with at least two instance type overrides, over subnets in two AZs",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			types := len(r.List("mixedInstancesPolicy.launchTemplate.overrides"))
			azs := len(ctx.AZs(r.Get("vpcZoneIdentifiers")))
			return check(types >= 2 && azs >= 2, fmt.Sprintf("%d instance type override(s) in %d Availability Zone(s)", types, azs))
		},
	},
	{
		ID: "AutoScaling.9", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeASG},
		Title: "Amazon EC2 Auto Scaling groups should use Amazon EC2 launch templates",
		Fix:   "use launchTemplate (or mixedInstancesPolicy.launchTemplate) instead of a launch configuration",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(r.Get("launchTemplate") != nil || r.Get("mixedInstancesPolicy.launchTemplate") != nil, "no launch template")
		},
	},
	{
		ID: "ECR.1", Framework: FSBP, Severity: High, ResourceTypes: []string{typeEcrRepo},
		Title: "ECR private repositories should have image scanning configured",
		Fix:   "set imageScanningConfiguration.scanOnPush true",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(r.Bool("imageScanningConfiguration.scanOnPush"), "images are not scanned on push")
		},
	},
	{
		ID: "ECR.2", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeEcrRepo},
		Title: "ECR private repositories should have tag immutability configured",
		Fix:   "set imageTagMutability IMMUTABLE and deploy by unique tag",
		Check: func(r *offline.Resource, _ *Context) (bool, string) {
			return check(r.Str("imageTagMutability") == "IMMUTABLE", "tags can be overwritten")
		},
	},
	{
		ID: "ECR.3", Framework: FSBP, Severity: Medium, ResourceTypes: []string{typeEcrRepo},
		Title: "ECR repositories should have at least one lifecycle policy configured",
		Fix:   "add an aws.ecr.LifecyclePolicy that expires old images",
		Check: func(r *offline.Resource, ctx *Context) (bool, string) {
			return check(len(ctx.Pointing(typeEcrLifecycle, "repository", r)) > 0, "no lifecycle policy")
		},
	},
}
