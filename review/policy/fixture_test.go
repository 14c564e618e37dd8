package policy

import (
	"strings"

	"github.com/canalco/infra/offline"
)

// res builds a resource as the offline run records it: inputs from dotted path/value pairs,
// and the outputs the mocks would give (id and ARN from the name).
func res(typ, name string, kv ...any) *offline.Resource {
	r := &offline.Resource{
		Type: typ, Name: name, Custom: !strings.HasPrefix(typ, "canalco:"),
		URN:     "urn:pulumi:test::canalco::" + typ + "::" + name,
		Inputs:  map[string]any{},
		Outputs: map[string]any{"id": name, "arn": "arn:aws:test:::" + name},
	}
	for i := 0; i+1 < len(kv); i += 2 {
		set(r.Inputs, kv[i].(string), kv[i+1])
	}
	if typ == typeBucket {
		r.Outputs["bucketRegionalDomainName"] = name + ".s3.us-east-1.amazonaws.com"
		r.Inputs["bucket"] = name
	}
	return r
}

// set writes a value at a dotted path of nested maps.
func set(m map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}

// list builds an input list.
func list(v ...any) []any { return v }

// obj builds a nested input object from path/value pairs.
func obj(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		set(m, kv[i].(string), kv[i+1])
	}
	return m
}

// Shared fixtures: two subnets in two AZs and one in a single AZ.
var (
	subnetA = res(typeSubnet, "subnet-a", "availabilityZone", "us-east-1a")
	subnetB = res(typeSubnet, "subnet-b", "availabilityZone", "us-east-1b")
)

func policyDoc(statements string) string {
	return `{"Version":"2012-10-17","Statement":[` + statements + `]}`
}
