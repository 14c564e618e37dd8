// Package graph answers the questions every review tool asks of a recorded plan: which
// resource a string input points at (an ID, ARN, name or domain), which resources point at a
// given one, and what an IAM policy document says.
package graph

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"

	"github.com/canalco/infra/offline"
)

// refKeys are the properties by which one resource names another: the outputs AWS assigns
// (id, arn, DNS names) and the names a program sets. Mock outputs copy the inputs, so hand-built
// resources in tests resolve the same way as recorded ones.
var refKeys = []string{"id", "arn", "name", "bucket", "url", "identifier", "functionName", "repositoryName",
	"repositoryUrl", "keyId", "dnsName", "bucketRegionalDomainName", "configurationSetName", "dashboardName"}

// Index resolves references between the resources of one plan.
type Index struct {
	Result *offline.Result
	refs   map[string][]*offline.Resource
	byURN  map[string]*offline.Resource
	byType map[string][]*offline.Resource
}

// New indexes a plan.
func New(res *offline.Result) *Index {
	x := &Index{Result: res, refs: map[string][]*offline.Resource{}, byURN: map[string]*offline.Resource{}, byType: map[string][]*offline.Resource{}}
	for _, r := range res.Resources {
		x.byURN[r.URN] = r
		x.byType[r.Type] = append(x.byType[r.Type], r)
		if !r.Custom {
			continue
		}
		seen := map[string]bool{}
		for _, props := range []map[string]any{r.Outputs, r.Inputs} {
			for _, k := range refKeys {
				if s, ok := props[k].(string); ok && s != "" && !seen[s] {
					seen[s] = true
					x.refs[s] = append(x.refs[s], r)
				}
			}
		}
	}
	return x
}

// OfType returns the resources of the type tokens, in plan order.
func (x *Index) OfType(types ...string) []*offline.Resource {
	var out []*offline.Resource
	for _, t := range types {
		out = append(out, x.byType[t]...)
	}
	return out
}

// ByURN returns the resource with the URN, or nil.
func (x *Index) ByURN(urn string) *offline.Resource { return x.byURN[urn] }

// Ref returns the resource the value names, limited to the types when given, or nil.
func (x *Index) Ref(value string, types ...string) *offline.Resource {
	for _, r := range x.refs[value] {
		if len(types) == 0 || slices.Contains(types, r.Type) {
			return r
		}
	}
	return nil
}

// Refs resolves a string or a list of strings.
func (x *Index) Refs(value any, types ...string) []*offline.Resource {
	var out []*offline.Resource
	for _, s := range Strings(value) {
		if r := x.Ref(s, types...); r != nil {
			out = append(out, r)
		}
	}
	return out
}

// Names reports whether the value is one of target's IDs, ARNs or names.
func (x *Index) Names(value string, target *offline.Resource) bool {
	for _, r := range x.refs[value] {
		if r == target {
			return true
		}
	}
	return false
}

// Pointing returns the resources of the type whose input at path names target (directly, or as
// one element of a list).
func (x *Index) Pointing(typ, path string, target *offline.Resource) []*offline.Resource {
	var out []*offline.Resource
	for _, r := range x.byType[typ] {
		for _, s := range Strings(r.Get(path)) {
			if x.Names(s, target) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// Ancestor returns the nearest component ancestor whose type starts with prefix, or nil.
func (x *Index) Ancestor(r *offline.Resource, prefix string) *offline.Resource {
	for p := x.byURN[r.Parent]; p != nil; p = x.byURN[p.Parent] {
		if strings.HasPrefix(p.Type, prefix) {
			return p
		}
	}
	return nil
}

// Strings returns a string value, or the strings of a list, unwrapping secrets.
func Strings(v any) []string {
	switch t := v.(type) {
	case offline.Secret:
		return Strings(t.Value)
	case string:
		if t == "" {
			return nil
		}
		return []string{t}
	case []any:
		var out []string
		for _, e := range t {
			out = append(out, Strings(e)...)
		}
		return out
	}
	return nil
}

// AZs returns the sorted distinct availability zones of the subnets the value names.
func (x *Index) AZs(subnets any) []string {
	set := map[string]bool{}
	for _, s := range x.Refs(subnets, "aws:ec2/subnet:Subnet") {
		if az := s.Str("availabilityZone"); az != "" {
			set[az] = true
		}
	}
	out := make([]string, 0, len(set))
	for az := range set {
		out = append(out, az)
	}
	sort.Strings(out)
	return out
}

// RedriveTarget returns the dead-letter queue ARN of a redrive policy (a JSON string or object).
func RedriveTarget(v any) string {
	var m map[string]any
	switch t := v.(type) {
	case string:
		_ = json.Unmarshal([]byte(t), &m)
	case map[string]any:
		m = t
	}
	s, _ := m["deadLetterTargetArn"].(string)
	return s
}

// LaunchTemplate returns the launch template an Auto Scaling group starts instances from,
// directly or through its mixed instances policy, or nil.
func (x *Index) LaunchTemplate(asg *offline.Resource) *offline.Resource {
	for _, path := range []string{"launchTemplate.id", "launchTemplate.name",
		"mixedInstancesPolicy.launchTemplate.launchTemplateSpecification.launchTemplateId",
		"mixedInstancesPolicy.launchTemplate.launchTemplateSpecification.launchTemplateName"} {
		if lt := x.Ref(asg.Str(path), "aws:ec2/launchTemplate:LaunchTemplate"); lt != nil {
			return lt
		}
	}
	return nil
}
