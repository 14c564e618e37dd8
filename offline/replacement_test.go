package offline_test

import (
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/assert"
)

// replacing lists, per resource type whose physical name forces replacement, the other inputs
// that force it too (ForceNew in the provider's schema, terraform-provider-aws, file named).
// When one of them changes, Pulumi creates the replacement before deleting the old resource;
// under the same fixed name AWS refuses the create and the update never converges. So a
// fixed-name resource that sets such an input needs DeleteBeforeReplace, or no fixed name (a
// prefix or Pulumi's auto-name). Inputs the program does not set cannot change without a code
// change, which this test then sees.
var replacing = []struct {
	typ, name string
	inputs    []string
	source    string
	// sameName reports whether a change of the inputs keeps the name (true when unsure).
	sameName func(r *offline.Resource) bool
}{
	{typ: "aws:ec2/securityGroup:SecurityGroup", name: "name", inputs: []string{"description", "vpcId"}, source: "internal/service/ec2/vpc_security_group.go"},
	{typ: "aws:lb/targetGroup:TargetGroup", name: "name", inputs: []string{"port", "protocol", "protocolVersion", "targetType", "vpcId", "ipAddressType"}, source: "internal/service/elbv2/target_group.go"},
	{typ: "aws:lb/loadBalancer:LoadBalancer", name: "name", inputs: []string{"internal", "loadBalancerType", "customerOwnedIpv4Pool"}, source: "internal/service/elbv2/load_balancer.go"},
	{typ: "aws:iam/role:Role", name: "name", inputs: []string{"path"}, source: "internal/service/iam/role.go"},
	{typ: "aws:iam/policy:Policy", name: "name", inputs: []string{"path", "description"}, source: "internal/service/iam/policy.go"},
	{typ: "aws:iam/instanceProfile:InstanceProfile", name: "name", inputs: []string{"path"}, source: "internal/service/iam/instance_profile.go"},
	{typ: "aws:sns/topic:Topic", name: "name", inputs: []string{"fifoTopic"}, source: "internal/service/sns/topic.go"},
	{typ: "aws:scheduler/schedule:Schedule", name: "name", inputs: []string{"groupName"}, source: "internal/service/scheduler/schedule.go"},
	{typ: "aws:cloudwatch/eventRule:EventRule", name: "name", inputs: []string{"eventBusName"}, source: "internal/service/events/rule.go"},
	// The group's name carries the family and its description the major version, so every
	// replacing change also renames it: the new group never collides with the old.
	{typ: "aws:rds/parameterGroup:ParameterGroup", name: "name", inputs: []string{"family", "description"}, source: "internal/service/rds/parameter_group.go",
		sameName: func(r *offline.Resource) bool { return !strings.HasSuffix(r.Str("name"), r.Str("family")) }},
	// CloudFront accepts only CLOUDFRONT-scoped web ACLs, so the scope never changes.
	{typ: "aws:wafv2/webAcl:WebAcl", name: "name", inputs: []string{"scope"}, source: "internal/service/wafv2/web_acl.go",
		sameName: func(r *offline.Resource) bool { return r.Str("scope") != "CLOUDFRONT" }},
}

// Every resource of every stack: a replacement converges (or, for data, fails before harm).
func TestReplacementsConverge(t *testing.T) {
	for _, stack := range offline.Stacks {
		res := offline.Stack(t, stack)
		seen := map[string]int{}
		for _, c := range replacing {
			for _, r := range res.OfType(c.typ) {
				seen[c.typ]++
				fixed := r.Str(c.name) != ""
				var set []string
				for _, in := range c.inputs {
					if v := r.Get(in); v != nil && v != "" {
						set = append(set, in)
					}
				}
				if fixed && len(set) > 0 && (c.sameName == nil || c.sameName(r)) {
					assert.True(t, r.DeleteBeforeReplace, "%s %s %q: %v force a replacement under the same name (%s): use DeleteBeforeReplace or a name prefix",
						stack, r.Name, r.Str(c.name), set, c.source)
				}
			}
		}
		// Stateful types must never be deleted first: a replacement must fail until someone
		// moves the data, and their protection says so.
		for typ, c := range offline.Replacements {
			for _, r := range res.OfType(typ) {
				assert.False(t, c.Stateful && r.DeleteBeforeReplace, "%s %s: holds data, so a replacement must not delete it first", stack, r.Name)
			}
		}
		for _, typ := range []string{"aws:ec2/securityGroup:SecurityGroup", "aws:lb/targetGroup:TargetGroup", "aws:lb/loadBalancer:LoadBalancer", "aws:iam/role:Role"} {
			assert.Positive(t, seen[typ], "%s registers no %s: the table is stale", stack, typ)
		}
	}
}
