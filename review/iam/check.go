// Package iamcheck checks the program's IAM policies offline against AWS's IAM reference
// and policy evaluation logic, as packaged on npm by @cloud-copilot (iam-data: the Service
// Authorization Reference as data, dated; iam-simulate: the evaluator). check.mjs runs them;
// this package hands it the documents and the requests as JSON and reads the answers.
package iamcheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"

	"github.com/canalco/infra/env"
)

// Simulation is one request to evaluate: a principal calls an action on a resource, with
// the request's context, under identity policies, a permissions boundary and the
// resource's own policy (all named in Input.Documents).
type Simulation struct {
	ID             string         `json:"id"`
	Principal      string         `json:"principal"`
	Account        string         `json:"account"`
	Action         string         `json:"action"`
	Resource       string         `json:"resource"`
	Context        map[string]any `json:"context"`
	Identity       []string       `json:"identity"`
	Boundary       []string       `json:"boundary,omitempty"`
	ResourcePolicy string         `json:"resourcePolicy,omitempty"`
	// Untyped is why the dataset has no resource type for this request, when the caller
	// knows it cannot: the request is then evaluated without the dataset's type check.
	Untyped string `json:"untyped,omitempty"`
}

// Input is what check.mjs reads: named policy documents and the requests.
type Input struct {
	Documents   map[string]json.RawMessage `json:"documents"`
	Simulations []Simulation               `json:"simulations"`
}

// Unknown is an action or condition key of a document that the IAM reference does not list.
type Unknown struct {
	Document, Kind, Value, Sid string
}

// Result is the evaluator's decision: Allowed, ImplicitlyDenied, ExplicitlyDenied, or Error
// (with the evaluator's validation errors, such as a resource of the wrong type).
type Result struct {
	ID, Decision, Errors string
	// Untyped: evaluated without the dataset's type check (Simulation.Untyped).
	Untyped bool
}

// Output is check.mjs's answer.
type Output struct {
	DataVersion, DataUpdatedAt string
	Unknown                    []Unknown
	Results                    []Result
}

// Run evaluates the input with the packages installed by scripts/test-deps.sh.
func Run(in Input) (*Output, error) {
	root, err := env.ProjectRoot()
	if err != nil {
		return nil, fmt.Errorf("iamcheck: %w", err)
	}
	body, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("iamcheck: %w", err)
	}
	cmd := exec.Command("node", "check.mjs")
	cmd.Dir = filepath.Join(root, "review", "iam")
	cmd.Stdin = bytes.NewReader(body)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("iamcheck: node check.mjs (run scripts/test-deps.sh first): %w: %s", err, stderr.String())
	}
	var out Output
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("iamcheck: %w", err)
	}
	return &out, nil
}
