// Package diff compares two stacks: the settings that differ, the resources only one of them
// has, and the properties that differ between the resources both have. Names and references
// are compared with the stack name normalized away, so only real differences remain.
package diff

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/canalco/infra/compute"
	"github.com/canalco/infra/offline"
	"github.com/canalco/infra/settings"
)

// Setting is one setting whose values differ.
type Setting struct{ Key, A, B string }

// Property is one input that differs between two matched resources.
type Property struct{ Path, A, B string }

// Changed is a resource both stacks have, with the inputs that differ.
type Changed struct {
	Resource   string // type and normalized name
	Properties []Property
}

// Diff is the comparison of stack A with stack B.
type Diff struct {
	A, B         string
	Settings     []Setting
	OnlyA, OnlyB []string
	Changed      []Changed
}

// Compare compares two planned stacks and their settings.
func Compare(a *offline.Result, sa *settings.Settings, b *offline.Result, sb *settings.Settings) *Diff {
	d := &Diff{A: sa.Stack, B: sb.Stack, Settings: compareSettings(sa, sb)}
	na, nb := newNormalizer(a), newNormalizer(b)
	ra, rb := na.resources(a), nb.resources(b)
	for _, key := range slices.Sorted(maps.Keys(ra)) {
		other, ok := rb[key]
		if !ok {
			d.OnlyA = append(d.OnlyA, key)
			continue
		}
		if props := compareInputs(na.flatten(ra[key]), nb.flatten(other)); len(props) > 0 {
			d.Changed = append(d.Changed, Changed{key, props})
		}
	}
	for _, key := range slices.Sorted(maps.Keys(rb)) {
		if _, ok := ra[key]; !ok {
			d.OnlyB = append(d.OnlyB, key)
		}
	}
	return d
}

func compareSettings(sa, sb *settings.Settings) []Setting {
	var out []Setting
	for _, k := range settings.Keys() {
		va, vb := settingValue(k, sa), settingValue(k, sb)
		if va != vb {
			out = append(out, Setting{k.FullName(), va, vb})
		}
	}
	return out
}

func settingValue(k settings.Key, s *settings.Settings) string {
	v := k.Value(s)
	if k.Secret {
		if v == "" {
			return "(not set)"
		}
		return "(secret)"
	}
	if l, ok := v.([]string); ok {
		return "[" + strings.Join(l, ", ") + "]"
	}
	return orNone(fmt.Sprint(v))
}

// generated matches the hexadecimal run of an identifier AWS generates.
var generated = regexp.MustCompile(`[0-9a-f]{8,}`)

// normalizer rewrites one stack's names and references into a stack-independent form.
type normalizer struct {
	stack   *regexp.Regexp // the stack's name or its account
	account string
	// refs replaces the identifiers AWS generates (IDs, key ARNs, DKIM tokens) with the
	// normalized name of their resource, the same in both stacks.
	refs *strings.Replacer
}

func newNormalizer(res *offline.Result) *normalizer {
	// Each stack runs in its own account, whose ID is in bucket names and ARNs.
	names := regexp.QuoteMeta(res.Config.Stack)
	if account := res.Config.Account(); account != "" {
		names += "|" + account
	}
	n := &normalizer{stack: regexp.MustCompile(`\b(` + names + `)\b`), account: res.Config.Account()}
	type pair struct{ from, to string }
	var pairs []pair
	seen := map[string]bool{}
	for _, r := range res.Resources {
		inputs := map[string]bool{}
		strs(r.Inputs, "", func(_, s string) { inputs[s] = true })
		strs(r.Outputs, "", func(path, s string) {
			if seen[s] || inputs[s] || !generated.MatchString(s) {
				return
			}
			seen[s] = true
			pairs = append(pairs, pair{s, "<" + n.name(r.Name) + "." + path + ">"})
		})
	}
	// Longest first, so an ARN is replaced whole before the ID inside it.
	sort.Slice(pairs, func(i, j int) bool {
		if len(pairs[i].from) != len(pairs[j].from) {
			return len(pairs[i].from) > len(pairs[j].from)
		}
		return pairs[i].from < pairs[j].from
	})
	var args []string
	for _, p := range pairs {
		args = append(args, p.from, p.to)
	}
	n.refs = strings.NewReplacer(args...)
	return n
}

// strs calls f with the path and value of every string in v.
func strs(v any, path string, f func(path, s string)) {
	switch t := v.(type) {
	case string:
		f(path, t)
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(t)) { // sorted: a value under two keys gets one stable name
			strs(t[k], join(path, k), f)
		}
	case []any:
		for i, e := range t {
			strs(e, join(path, strconv.Itoa(i)), f)
		}
	}
}

func (n *normalizer) name(s string) string {
	return n.stack.ReplaceAllStringFunc(s, func(m string) string {
		if m == n.account {
			return "{account}"
		}
		return "{stack}"
	})
}

func (n *normalizer) value(s string) string { return n.name(n.refs.Replace(s)) }

// resources keys a stack's resources by type and normalized name.
func (n *normalizer) resources(res *offline.Result) map[string]*offline.Resource {
	out := map[string]*offline.Resource{}
	for _, r := range res.Resources {
		out[r.Type+"  "+n.name(r.Name)] = r
	}
	return out
}

// flatten returns a resource's inputs as path → normalized value; JSON documents (policies,
// redrive policies) are flattened too, so a difference shows the statement that differs.
func (n *normalizer) flatten(r *offline.Resource) map[string]string {
	out := map[string]string{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, e := range t {
				walk(join(path, k), e)
			}
		case []any:
			for i, e := range t {
				walk(join(path, strconv.Itoa(i)), e)
			}
		case string:
			var doc any
			if strings.HasPrefix(t, "{") && json.Unmarshal([]byte(t), &doc) == nil {
				walk(path, doc)
				return
			}
			if text, _, err := compute.DecodeUserData(t); err == nil && strings.HasSuffix(path, "userData") {
				t = text // compare the boot script, not its encoding
			}
			out[path] = n.value(t)
		case offline.Secret:
			out[path] = "[secret]"
		case offline.Unknown:
			out[path] = "(known after deploy)"
		case offline.Archive:
			out[path] = "archive " + t.Path
		case offline.Asset:
			out[path] = "asset " + t.Path + t.Hash
		case nil:
		default:
			out[path] = n.value(fmt.Sprint(t))
		}
	}
	walk("", r.Inputs)
	return out
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func compareInputs(a, b map[string]string) []Property {
	var out []Property
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		switch {
		case a[k] == b[k]:
		case strings.Contains(a[k]+b[k], "\n"):
			out = append(out, Property{k + " (lines)", lineDiff(a[k], b[k]), lineDiff(b[k], a[k])})
		default:
			out = append(out, Property{k, orNone(a[k]), orNone(b[k])})
		}
	}
	return out
}

// lineDiff returns the lines of a that b lacks, so a script shows only what changed.
func lineDiff(a, b string) string {
	have := map[string]bool{}
	for _, l := range strings.Split(b, "\n") {
		have[l] = true
	}
	var only []string
	for _, l := range strings.Split(a, "\n") {
		if !have[l] && strings.TrimSpace(l) != "" {
			only = append(only, strings.TrimSpace(l))
		}
	}
	return orNone(strings.Join(only, " | "))
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// Write prints the diff.
func (d *Diff) Write(w io.Writer) {
	fmt.Fprintf(w, "== Settings that differ (%d) ==\n", len(d.Settings))
	if len(d.Settings) > 0 {
		fmt.Fprintf(w, "  %-36s %-30s %s\n", "key", d.A, d.B)
	}
	for _, s := range d.Settings {
		fmt.Fprintf(w, "  %-36s %-30s %s\n", s.Key, s.A, s.B)
	}
	for _, side := range []struct {
		name string
		list []string
	}{{d.A, d.OnlyA}, {d.B, d.OnlyB}} {
		fmt.Fprintf(w, "\n== Resources only in %s (%d) ==\n", side.name, len(side.list))
		for _, r := range side.list {
			fmt.Fprintf(w, "  %s\n", r)
		}
	}
	fmt.Fprintf(w, "\n== Properties that differ (%d resources; %s → %s) ==\n", len(d.Changed), d.A, d.B)
	for _, c := range d.Changed {
		fmt.Fprintf(w, "  %s\n", c.Resource)
		for _, p := range c.Properties {
			fmt.Fprintf(w, "    %s: %s → %s\n", p.Path, p.A, p.B)
		}
	}
}
