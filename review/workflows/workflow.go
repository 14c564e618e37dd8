package workflows

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Workflow is the part of a workflow file that decides what runs.
type Workflow struct {
	On   map[string]Trigger
	Jobs map[string]*Job
}

// Trigger is one event of `on:` with its inputs' defaults (a schedule's list has none).
type Trigger struct {
	Inputs map[string]struct{ Default any }
}

// UnmarshalYAML reads a trigger's mapping and ignores the other forms (schedule's list, null).
func (t *Trigger) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	type plain Trigger
	return n.Decode((*plain)(t))
}

// Job is one job: steps of its own, or a call of a reusable workflow (Uses).
type Job struct {
	Needs    any
	If       string
	Uses     string
	With     map[string]any
	Strategy struct{ Matrix map[string][]any }
	Steps    []Step
}

// Step is one step of a job.
type Step struct {
	Name, If, Uses, Run string
	With                map[string]any
}

// Run is one job as it runs: its steps that run, with their `with:` and `run:` interpolated,
// and the runs it waited for (transitively), which are the only ones whose artifacts it sees
// finished.
type Run struct {
	// Name is the job's path: workflow file, job and matrix values, through reusable workflows.
	Name     string
	Steps    []Step
	Upstream []*Run
}

// Set is the workflows of one directory by file name; tests change a copy to check that a
// check fails.
type Set map[string]*Workflow

// Load reads every .yml of dir.
func Load(dir string) (Set, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yml"))
	if err != nil {
		return nil, err
	}
	set := Set{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var w Workflow
		if err := yaml.Unmarshal(data, &w); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		set[filepath.Base(f)] = &w
	}
	return set, nil
}

// Event is what starts a workflow: its name (push, pull_request, workflow_dispatch, schedule)
// and the inputs a person or a caller gave.
type Event struct {
	Name   string
	Inputs map[string]any
}

// Runs works out which jobs of file run for ev, assuming every job that runs succeeds.
func (s Set) Runs(file string, ev Event) ([]*Run, error) {
	return s.runs(file, ev, "", nil)
}

func (s Set) runs(file string, ev Event, prefix string, before []*Run) ([]*Run, error) {
	w, ok := s[file]
	if !ok {
		return nil, fmt.Errorf("no workflow %s", file)
	}
	inputs := map[string]any{}
	if on, ok := w.On[ev.Name]; ok && (ev.Name == "workflow_dispatch" || ev.Name == "workflow_call") {
		for k, in := range on.Inputs {
			inputs[k] = number2float(in.Default)
		}
	} else if !ok {
		return nil, fmt.Errorf("%s does not run on %s", file, ev.Name)
	}
	for k, v := range ev.Inputs {
		inputs[k] = v
	}
	base := map[string]any{
		"inputs": inputs,
		"github": map[string]any{
			"event_name": ev.Name,
			"repository": "canalco/infra",
			"sha":        "3f2a9c1e5d0b4a7c8e9f6a1b2c3d4e5f6a7b8c9d",
			"event":      map[string]any{"pull_request": map[string]any{"head": map[string]any{"repo": map[string]any{"full_name": "canalco/infra"}}}},
		},
		"cancelled()": false, "failure()": false, "always()": true,
	}

	ran := map[string][]*Run{}   // job -> its runs (several with a matrix or a reusable workflow)
	skipped := map[string]bool{} // job -> did not run
	var all []*Run
	for len(ran)+len(skipped) < len(w.Jobs) {
		progress := false
		for _, id := range slices.Sorted(maps.Keys(w.Jobs)) {
			if ran[id] != nil || skipped[id] {
				continue
			}
			job := w.Jobs[id]
			needs := needsOf(job)
			ready, allRan := true, true
			upstream := slices.Clone(before)
			for _, n := range needs {
				if !skipped[n] && ran[n] == nil {
					ready = false
				}
				for _, r := range ran[n] {
					upstream = append(upstream, append(slices.Clone(r.Upstream), r)...)
				}
				allRan = allRan && !anySkippedAncestor(w, n, skipped)
			}
			if !ready {
				continue
			}
			progress = true
			ctx := with(base, "success()", allRan)
			cond := job.If
			if cond == "" {
				cond = "success()"
			} else if !usesStatus(cond) {
				cond = "success() && (" + strip(cond) + ")"
			}
			v, err := Eval(strip(cond), ctx)
			if err != nil {
				return nil, fmt.Errorf("%s job %s: %w", file, id, err)
			}
			if !Truthy(v) {
				skipped[id] = true
				continue
			}
			for _, m := range matrix(job) {
				jctx := with(ctx, "matrix", m)
				name := prefix + file + "/" + id + matrixName(m)
				if job.Uses != "" {
					callInputs := map[string]any{}
					for k, raw := range job.With {
						if callInputs[k], err = interpolateAny(raw, jctx); err != nil {
							return nil, fmt.Errorf("%s job %s: %w", file, id, err)
						}
					}
					sub, err := s.runs(filepath.Base(job.Uses), Event{Name: "workflow_call", Inputs: callInputs}, name+" > ", upstream)
					if err != nil {
						return nil, err
					}
					ran[id] = append(ran[id], sub...)
					all = append(all, sub...)
					continue
				}
				r := &Run{Name: name, Upstream: upstream}
				for _, st := range job.Steps {
					if st.If != "" {
						v, err := Eval(strip(st.If), with(jctx, "success()", true))
						if err != nil {
							return nil, fmt.Errorf("%s job %s step %q: %w", file, id, st.Name, err)
						}
						if !Truthy(v) {
							continue
						}
					}
					out := st
					out.With = map[string]any{}
					for k, raw := range st.With {
						if out.With[k], err = interpolateAny(raw, jctx); err != nil {
							return nil, fmt.Errorf("%s job %s step %q: %w", file, id, st.Name, err)
						}
					}
					r.Steps = append(r.Steps, out)
				}
				ran[id] = append(ran[id], r)
				all = append(all, r)
			}
			if ran[id] == nil {
				ran[id] = []*Run{}
			}
		}
		if !progress {
			return nil, fmt.Errorf("%s: a job needs one that does not exist, or a cycle", file)
		}
	}
	return all, nil
}

// anySkippedAncestor: success() is false when any job before, even indirectly, was skipped.
func anySkippedAncestor(w *Workflow, id string, skipped map[string]bool) bool {
	if skipped[id] {
		return true
	}
	for _, n := range needsOf(w.Jobs[id]) {
		if anySkippedAncestor(w, n, skipped) {
			return true
		}
	}
	return false
}

func needsOf(j *Job) []string {
	switch n := j.Needs.(type) {
	case string:
		return []string{n}
	case []any:
		var out []string
		for _, x := range n {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}

func usesStatus(cond string) bool {
	for _, f := range []string{"success()", "failure()", "cancelled()", "always()"} {
		if strings.Contains(cond, f) {
			return true
		}
	}
	return false
}

// strip removes the ${{ }} an `if:` may be written with.
func strip(cond string) string {
	c := strings.TrimSpace(cond)
	if strings.HasPrefix(c, "${{") && strings.HasSuffix(c, "}}") {
		return strings.TrimSpace(c[3 : len(c)-2])
	}
	return c
}

func with(ctx map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(ctx)+1)
	for key, val := range ctx {
		out[key] = val
	}
	out[k] = v
	return out
}

// matrix is every combination of a job's matrix (one empty one without a matrix).
func matrix(j *Job) []map[string]any {
	combos := []map[string]any{{}}
	for _, k := range slices.Sorted(maps.Keys(j.Strategy.Matrix)) {
		var next []map[string]any
		for _, c := range combos {
			for _, v := range j.Strategy.Matrix[k] {
				next = append(next, with(c, k, fmt.Sprint(v)))
			}
		}
		combos = next
	}
	return combos
}

func matrixName(m map[string]any) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprint(m[k]))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func interpolateAny(raw any, ctx map[string]any) (any, error) {
	if s, ok := raw.(string); ok {
		return Interpolate(s, ctx)
	}
	return number2float(raw), nil
}

// number2float gives YAML's integers the expression language's one number type.
func number2float(v any) any {
	if i, ok := v.(int); ok {
		return float64(i)
	}
	return v
}
