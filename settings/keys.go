package settings

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Namespace is the Pulumi config namespace of every project setting.
const Namespace = "canalco"

// Kind is a setting's type as declared in Pulumi.yaml's config schema.
type Kind string

// The config types Pulumi.yaml can declare. A Tristate is declared as a string because
// Pulumi applies one project-wide default, while its default here depends on the environment.
const (
	String   Kind = "string"
	Integer  Kind = "integer"
	Boolean  Kind = "boolean"
	Tristate Kind = "tristate"
	List     Kind = "array"
)

// SchemaType is the type Pulumi.yaml declares for the kind.
func (k Kind) SchemaType() string {
	if k == Tristate {
		return string(String)
	}
	return string(k)
}

// SchemaDefault is the project-level default Pulumi.yaml declares. Pulumi injects it into
// every stack that does not set the key, so it must mean "use the environment's profile":
// the empty value for strings, integers and lists, and the one shared value for booleans.
func (k Kind) SchemaDefault(profile any) any {
	switch k {
	case Integer:
		return 0
	case Boolean:
		return profile
	case List:
		return []string{}
	default:
		return ""
	}
}

// Key describes one setting: its name without namespace, type, meaning, and where it lives
// in Settings.
type Key struct {
	Name   string
	Kind   Kind
	Doc    string
	Secret bool
	field  func(*Settings) any
}

// FullName is the namespaced key as users type it: canalco:<name>.
func (k Key) FullName() string { return Namespace + ":" + k.Name }

// Value returns the key's value in s, for documentation and environment diffs.
func (k Key) Value(s *Settings) any {
	switch p := k.field(s).(type) {
	case *string:
		return *p
	case *int:
		return *p
	case *bool:
		return *p
	case *[]string:
		return append([]string{}, *p...)
	}
	panic("settings: unsupported field type for " + k.Name)
}

func str(name, doc string, f func(*Settings) *string) Key {
	return Key{Name: name, Kind: String, Doc: doc, field: func(s *Settings) any { return f(s) }}
}

func secret(name, doc string, f func(*Settings) *string) Key {
	k := str(name, doc, f)
	k.Secret = true
	return k
}

func integer(name, doc string, f func(*Settings) *int) Key {
	return Key{Name: name, Kind: Integer, Doc: doc, field: func(s *Settings) any { return f(s) }}
}

func boolean(name, doc string, f func(*Settings) *bool) Key {
	return Key{Name: name, Kind: Boolean, Doc: doc, field: func(s *Settings) any { return f(s) }}
}

func tristate(name, doc string, f func(*Settings) *bool) Key {
	return Key{Name: name, Kind: Tristate, Doc: doc, field: func(s *Settings) any { return f(s) }}
}

func list(name, doc string, f func(*Settings) *[]string) Key {
	return Key{Name: name, Kind: List, Doc: doc, field: func(s *Settings) any { return f(s) }}
}

// apply decodes a raw config value into the key's field. Empty values (and 0 for integers)
// leave the profile default in place: that is what Pulumi passes for a key the stack omits.
func (k Key) apply(s *Settings, raw string, p *problems) {
	raw = strings.TrimSpace(raw)
	switch k.Kind {
	case String:
		if raw != "" {
			*k.field(s).(*string) = raw
		}
	case Integer:
		if raw == "" || raw == "0" {
			return
		}
		n, err := strconv.Atoi(raw)
		if err != nil {
			p.add(k.Name, raw, "a whole number")
			return
		}
		*k.field(s).(*int) = n
	case Boolean, Tristate:
		if raw == "" && k.Kind == Tristate {
			return
		}
		b, err := strconv.ParseBool(raw)
		if err != nil || (raw != "true" && raw != "false") {
			p.add(k.Name, raw, "true or false")
			return
		}
		*k.field(s).(*bool) = b
	case List:
		if raw == "" || raw == "[]" {
			return
		}
		var items []string
		if err := json.Unmarshal([]byte(raw), &items); err != nil {
			p.add(k.Name, raw, `a list of strings, e.g. ["a", "b"] in the stack file`)
			return
		}
		*k.field(s).(*[]string) = items
	}
}

// problems collects every invalid setting so that one run reports them all.
type problems []string

func (p *problems) add(key string, value any, expected string) {
	*p = append(*p, fmt.Sprintf("%s:%s = %s: expected %s", Namespace, key, quote(value), expected))
}

func (p *problems) addf(format string, args ...any) {
	*p = append(*p, fmt.Sprintf(format, args...))
}

func quote(v any) string {
	switch t := v.(type) {
	case string:
		return strconv.Quote(t)
	case []string:
		b, _ := json.Marshal(t)
		return string(b)
	}
	return fmt.Sprint(v)
}

// closest suggests the known key nearest to a misspelt one.
func closest(name string, keys []Key) string {
	best, bestDist := "", 4
	for _, k := range keys {
		if d := distance(strings.ToLower(name), strings.ToLower(k.Name)); d < bestDist {
			best, bestDist = k.Name, d
		}
	}
	return best
}

// distance is the Levenshtein edit distance.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// Keys returns every setting, sorted by name.
func Keys() []Key {
	var all []Key
	for _, sec := range sections {
		all = append(all, sec.keys...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	return all
}
