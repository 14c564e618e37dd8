package offline_test

import (
	"strings"
	"testing"

	"github.com/canalco/infra/offline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixedNames are the resource types whose physical name the program may fix (their name
// input), each with sameName: whether a change of its replacing inputs keeps the name (nil:
// always; a type whose name carries such an input is renamed with it). When another replacing input (offline.Replacements)
// changes, Pulumi creates the replacement before deleting the old resource; under the same
// fixed name AWS refuses the create and the update never converges. So a fixed-name resource
// that sets such an input needs DeleteBeforeReplace, or no fixed name (a prefix or Pulumi's
// auto-name). Inputs the program does not set cannot change without a code change, which this
// test then sees.
var fixedNames = map[string]func(r *offline.Resource) bool{
	"aws:ec2/securityGroup:SecurityGroup":     nil,
	"aws:lb/targetGroup:TargetGroup":          nil,
	"aws:lb/loadBalancer:LoadBalancer":        nil,
	"aws:iam/role:Role":                       nil,
	"aws:iam/policy:Policy":                   nil,
	"aws:iam/instanceProfile:InstanceProfile": nil,
	"aws:sns/topic:Topic":                     nil,
	"aws:scheduler/schedule:Schedule":         nil,
	"aws:cloudwatch/eventRule:EventRule":      nil,
	// The group's name carries the family and its description the major version, so every
	// replacing change also renames it: the new group never collides with the old.
	"aws:rds/parameterGroup:ParameterGroup": func(r *offline.Resource) bool { return !strings.HasSuffix(r.Str("name"), r.Str("family")) },
	// CloudFront accepts only CLOUDFRONT-scoped web ACLs, so the scope never changes.
	"aws:wafv2/webAcl:WebAcl": func(r *offline.Resource) bool { return r.Str("scope") != "CLOUDFRONT" },
}

// Every resource of every stack: a replacement converges (or, for data, fails before harm).
func TestReplacementsConverge(t *testing.T) {
	for _, stack := range offline.Stacks {
		res := offline.Stack(t, stack)
		seen := map[string]int{}
		for typ, sameName := range fixedNames {
			c, ok := offline.Replacements[typ]
			require.True(t, ok, "%s: no row in offline.Replacements", typ)
			for _, r := range res.OfType(typ) {
				seen[typ]++
				var set []string
				for _, in := range c.Inputs {
					if v := r.Get(in); in != "name" && in != "namePrefix" && v != nil && v != "" {
						set = append(set, in)
					}
				}
				if r.Str("name") != "" && len(set) > 0 && (sameName == nil || sameName(r)) {
					assert.True(t, r.DeleteBeforeReplace, "%s %s %q: %v force a replacement under the same name (%s): use DeleteBeforeReplace or a name prefix",
						stack, r.Name, r.Str("name"), set, offline.SourceOf(typ))
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
