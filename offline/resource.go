package offline

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Resource is one registered resource as `pulumi up` would receive it.
type Resource struct {
	URN    string
	Type   string
	Name   string
	Parent string // URN of the parent
	Custom bool
	// Inputs are plain Go values: map[string]any, []any, string, float64, bool, nil, plus
	// Secret, Unknown, Archive and Asset for the values Pulumi treats specially.
	Inputs  map[string]any
	Outputs map[string]any
	// Dependencies are the URNs this resource waits for (explicit DependsOn and inputs).
	Dependencies   []string
	Protect        bool
	RetainOnDelete bool
	IgnoreChanges  []string
	// ReplaceOnChanges: a change of these inputs replaces the resource instead of updating it.
	ReplaceOnChanges []string
	// DeleteBeforeReplace: on a replacement the old resource goes first, so a fixed name is free.
	DeleteBeforeReplace bool
	Provider            string
}

// Secret wraps a value Pulumi keeps encrypted in state.
type Secret struct{ Value any }

// Unknown stands for a value known only after deployment.
type Unknown struct{}

// Archive is a file archive input such as a Lambda package.
type Archive struct {
	Path   string
	Hash   string
	Assets map[string]any
}

// Asset is a file or text asset input.
type Asset struct {
	Path, Text, Hash string
}

// Get returns the input at a dotted path; list elements are addressed by index ("rules.0.port").
func (r *Resource) Get(path string) any {
	var cur any = r.Inputs
	for _, part := range strings.Split(path, ".") {
		if s, ok := cur.(Secret); ok {
			cur = s.Value
		}
		switch c := cur.(type) {
		case map[string]any:
			cur = c[part]
		case []any:
			var i int
			if _, err := fmt.Sscanf(part, "%d", &i); err != nil || i < 0 || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

// Str returns the input at path as a string, or "" when absent or not a string.
func (r *Resource) Str(path string) string {
	s, _ := r.Get(path).(string)
	return s
}

// Num returns the input at path as a number, or 0.
func (r *Resource) Num(path string) float64 {
	n, _ := r.Get(path).(float64)
	return n
}

// Bool returns the input at path as a boolean, or false.
func (r *Resource) Bool(path string) bool {
	b, _ := r.Get(path).(bool)
	return b
}

// List returns the input at path as a list, or nil.
func (r *Resource) List(path string) []any {
	l, _ := r.Get(path).([]any)
	return l
}

// Strings returns the input at path as a list of strings.
func (r *Resource) Strings(path string) []string {
	var out []string
	for _, v := range r.List(path) {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// DependsOn reports whether r waits for the resource with the given URN.
func (r *Resource) DependsOn(urn string) bool {
	for _, d := range r.Dependencies {
		if d == urn {
			return true
		}
	}
	return false
}

// plain converts Pulumi's property values into plain Go values.
func plain(v resource.PropertyValue) any {
	switch {
	case v.IsNull():
		return nil
	case v.IsBool():
		return v.BoolValue()
	case v.IsNumber():
		return v.NumberValue()
	case v.IsString():
		return v.StringValue()
	case v.IsArray():
		out := make([]any, 0, len(v.ArrayValue()))
		for _, e := range v.ArrayValue() {
			out = append(out, plain(e))
		}
		return out
	case v.IsObject():
		return plainMap(v.ObjectValue())
	case v.IsSecret():
		return Secret{Value: plain(v.SecretValue().Element)}
	case v.IsComputed():
		return Unknown{}
	case v.IsOutput():
		o := v.OutputValue()
		if !o.Known {
			return Unknown{}
		}
		if o.Secret {
			return Secret{Value: plain(o.Element)}
		}
		return plain(o.Element)
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	case v.IsArchive():
		a := v.ArchiveValue()
		assets := map[string]any{}
		for k, e := range a.Assets {
			assets[k] = fmt.Sprint(e)
		}
		return Archive{Path: a.Path, Hash: a.Hash, Assets: assets}
	case v.IsAsset():
		a := v.AssetValue()
		return Asset{Path: a.Path, Text: a.Text, Hash: a.Hash}
	}
	return fmt.Sprint(v)
}

func plainMap(m resource.PropertyMap) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[string(k)] = plain(v)
	}
	return out
}

// Result is everything a stack registers.
type Result struct {
	Config    *Config
	Resources []*Resource
	// Calls are the provider functions the program invoked, in order.
	Calls []Call
	byURN map[string]*Resource
}

// ByURN returns the resource with the URN, or nil.
func (r *Result) ByURN(urn string) *Resource { return r.byURN[urn] }

// OfType returns the resources of a type token, in registration order.
func (r *Result) OfType(token string) []*Resource {
	var out []*Resource
	for _, res := range r.Resources {
		if res.Type == token {
			out = append(out, res)
		}
	}
	return out
}

// Named returns the resource of the type with the logical name, or nil.
func (r *Result) Named(token, name string) *Resource {
	for _, res := range r.OfType(token) {
		if res.Name == name {
			return res
		}
	}
	return nil
}

// Children returns the resources whose parent is urn.
func (r *Result) Children(urn string) []*Resource {
	var out []*Resource
	for _, res := range r.Resources {
		if res.Parent == urn {
			out = append(out, res)
		}
	}
	return out
}

// Ancestor returns the nearest component ancestor of res with the type token, or nil.
func (r *Result) Ancestor(res *Resource, token string) *Resource {
	for p := r.byURN[res.Parent]; p != nil; p = r.byURN[p.Parent] {
		if p.Type == token {
			return p
		}
	}
	return nil
}

// CountByType counts resources per type token, sorted by token.
func (r *Result) CountByType() []TypeCount {
	counts := map[string]int{}
	for _, res := range r.Resources {
		counts[res.Type]++
	}
	out := make([]TypeCount, 0, len(counts))
	for t, n := range counts {
		out = append(out, TypeCount{t, n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}

// TypeCount is the number of resources of one type.
type TypeCount struct {
	Type  string
	Count int
}
