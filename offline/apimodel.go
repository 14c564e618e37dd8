package offline

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// BotocoreData is where Debian's python3-botocore keeps AWS's API models (service-2.json), the
// rules the tests check names, limits and calls against (scripts/test-deps.sh installs it).
const BotocoreData = "/usr/lib/python3/dist-packages/botocore/data"

// APIModel is the part of an AWS service's API model the tests read.
type APIModel struct {
	Operations map[string]struct {
		Input struct{ Shape string } `json:"input"`
	} `json:"operations"`
	Shapes map[string]*APIShape `json:"shapes"`
}

// APIShape is one shape of an API model: a structure's members, a list's member, a value's
// bounds, pattern and allowed values.
type APIShape struct {
	Type     string                            `json:"type"`
	Min      *float64                          `json:"min"`
	Max      *float64                          `json:"max"`
	Pattern  string                            `json:"pattern"`
	Enum     []string                          `json:"enum"`
	Required []string                          `json:"required"`
	Members  map[string]struct{ Shape string } `json:"members"`
	Member   *struct{ Shape string }           `json:"member"`
}

// Input is the input shape of an operation, nil when the service has no such operation.
func (m *APIModel) Input(operation string) *APIShape {
	op, ok := m.Operations[operation]
	if !ok {
		return nil
	}
	return m.Shapes[op.Input.Shape]
}

// LoadAPIModel reads the newest API version of a service's model; the test fails, naming the
// command that installs the models, when there is none.
func LoadAPIModel(t testing.TB, service string) *APIModel {
	t.Helper()
	versions, err := filepath.Glob(filepath.Join(BotocoreData, service, "*", "service-2.json"))
	if err != nil || len(versions) == 0 {
		t.Fatalf("no botocore model of %s under %s: run scripts/test-deps.sh (python3-botocore)", service, BotocoreData)
	}
	sort.Strings(versions)
	raw, err := os.ReadFile(versions[len(versions)-1])
	if err != nil {
		t.Fatal(err)
	}
	var m APIModel
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("botocore model of %s: %v", service, err)
	}
	return &m
}
