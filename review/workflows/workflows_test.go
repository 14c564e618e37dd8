package workflows_test

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/canalco/infra/review/workflows"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scenario is one flow a team runs: a workflow, the event that starts it, and what must happen.
type scenario struct {
	name string
	file string
	ev   workflows.Event
	// want is a step every stack's job must run (a command of deploy-backend.sh or a pulumi
	// command), once per stack.
	want string
}

var stacks = []string{"dev", "staging", "prod"}

var scenarios = []scenario{
	{"pull request", "pull-request.yml", workflows.Event{Name: "pull_request"}, "pulumi preview"},
	{"merge to main", "deploy.yml", workflows.Event{Name: "push"}, "deploy-backend.sh up"},
	{"update by hand", "deploy.yml", workflows.Event{Name: "workflow_dispatch"}, "deploy-backend.sh up"},
	{"release by hand", "deploy.yml", workflows.Event{Name: "workflow_dispatch", Inputs: map[string]any{"image-tag": "3f2a9c1"}}, "deploy-backend.sh deploy"},
	{"rollback", "deploy.yml", workflows.Event{Name: "workflow_dispatch", Inputs: map[string]any{"image-tag": "2c3d4e5", "rollback": true}}, "deploy-backend.sh rollback"},
	{"backend release", "backend.yml", workflows.Event{Name: "push"}, "deploy-backend.sh deploy"},
}

// command is what a step does, as one line: pulumi/actions' command, or its run script.
func command(st workflows.Step) string {
	if strings.HasPrefix(st.Uses, "pulumi/actions@") && st.With["command"] != nil {
		return fmt.Sprintf("pulumi %v", st.With["command"])
	}
	return st.Run
}

var (
	runsProgram = regexp.MustCompile(`pulumi (preview|up|refresh)\b|deploy-backend\.sh up\b`)
	releases    = regexp.MustCompile(`deploy-backend\.sh (deploy|rollback)\b`)
	audits      = regexp.MustCompile(`pip[-_]audit`)
	buildsLayer = regexp.MustCompile(`make lambdas\b`)
)

func uses(st workflows.Step, action string) bool { return strings.HasPrefix(st.Uses, action+"@") }

// layersBuilt is true when a run's step, before step i, builds the layers or downloads an
// artifact that a run it waited for built with `make lambdas` and uploaded from build/layers.
func layersBuilt(r *workflows.Run, i int) bool {
	for _, st := range r.Steps[:i] {
		if buildsLayer.MatchString(st.Run) {
			return true
		}
		if !uses(st, "actions/download-artifact") || st.With["path"] != "build/layers" {
			continue
		}
		for _, up := range r.Upstream {
			built := false
			for _, u := range up.Steps {
				built = built || buildsLayer.MatchString(u.Run)
				if built && uses(u, "actions/upload-artifact") && u.With["path"] == "build/layers" && u.With["name"] == st.With["name"] {
					return true
				}
			}
		}
	}
	return false
}

// problems checks every run of a flow: a step that runs the program has, before it in its job,
// Go, the Pulumi CLI, AWS credentials and the functions' layers; a release or rollback waits for
// no audit and no layer build (an advisory or the package index must never block it); pip-audit
// runs from a virtual environment of its own.
func problems(runs []*workflows.Run) []string {
	var out []string
	for _, r := range runs {
		for i, st := range r.Steps {
			cmd := command(st)
			before := r.Steps[:i]
			if runsProgram.MatchString(cmd) {
				need := map[string]bool{
					"Go (actions/setup-go)":       slices.ContainsFunc(before, func(s workflows.Step) bool { return uses(s, "actions/setup-go") }),
					"the Pulumi CLI":              slices.ContainsFunc(before, func(s workflows.Step) bool { return uses(s, "pulumi/actions") }),
					"AWS credentials":             slices.ContainsFunc(before, func(s workflows.Step) bool { return uses(s, "aws-actions/configure-aws-credentials") }),
					"the layers (`make lambdas`)": layersBuilt(r, i),
				}
				for what, ok := range need {
					if !ok {
						out = append(out, fmt.Sprintf("%s: step %q runs the program without %s", r.Name, st.Name, what))
					}
				}
			}
			if releases.MatchString(cmd) {
				for _, up := range append(slices.Clone(r.Upstream), r) {
					for _, u := range up.Steps {
						if audits.MatchString(u.Run) || buildsLayer.MatchString(u.Run) {
							out = append(out, fmt.Sprintf("%s: step %q waits for %q of %s", r.Name, st.Name, u.Name, up.Name))
						}
					}
				}
			}
			if audits.MatchString(st.Run) && (!strings.Contains(st.Run, "-m venv") || regexp.MustCompile(`python3 -m pip install`).MatchString(st.Run)) {
				out = append(out, fmt.Sprintf("%s: step %q installs pip-audit into the runner's Python instead of a virtual environment", r.Name, st.Name))
			}
		}
	}
	return out
}

func load(t *testing.T) workflows.Set {
	t.Helper()
	set, err := workflows.Load("../../.github/workflows")
	require.NoError(t, err)
	require.NotEmpty(t, set)
	return set
}

// Each flow a team runs, as GitHub would run it: every stack gets its step, and the step has
// what it needs and waits for nothing that could block it.
func TestEveryFlowRunsWithWhatTheProgramNeeds(t *testing.T) {
	set := load(t)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			runs, err := set.Runs(sc.file, sc.ev)
			require.NoError(t, err)
			assert.Empty(t, problems(runs))
			for _, stack := range stacks {
				found := 0
				for _, r := range runs {
					for _, st := range r.Steps {
						if strings.Contains(command(st), sc.want) && strings.Contains(r.Name, stack) {
							found++
						}
					}
				}
				assert.Equal(t, 1, found, "%s: %s runs %q %d times", sc.name, stack, sc.want, found)
			}
			for _, r := range runs {
				for _, st := range r.Steps {
					cmd := command(st)
					if sc.want != "deploy-backend.sh rollback" {
						assert.NotContains(t, cmd, "deploy-backend.sh rollback", "%s: %s rolls back", sc.name, r.Name)
					}
				}
			}
		})
	}
}

// The functions' packages are audited on every pull request and weekly.
func TestThePinnedPackagesAreAuditedOnPullRequestsAndWeekly(t *testing.T) {
	set := load(t)
	for _, c := range []struct {
		file string
		ev   workflows.Event
	}{{"pull-request.yml", workflows.Event{Name: "pull_request"}}, {"lambdas.yml", workflows.Event{Name: "schedule"}}} {
		runs, err := set.Runs(c.file, c.ev)
		require.NoError(t, err)
		audited := false
		for _, r := range runs {
			for _, st := range r.Steps {
				audited = audited || audits.MatchString(st.Run)
			}
		}
		assert.True(t, audited, "%s on %s runs no pip-audit", c.file, c.ev.Name)
		assert.Empty(t, problems(runs))
	}
}

// The check fails when a job that runs the program lacks the layers, and when a rollback waits
// for an audit: the workflows as they were before the layers were built for previews.
func TestTheCheckCatchesAMissingLayerBuildAndABlockedRollback(t *testing.T) {
	set := load(t)
	preview := set["pull-request.yml"].Jobs["preview"]
	preview.Steps = slices.DeleteFunc(slices.Clone(preview.Steps), func(s workflows.Step) bool {
		return uses(s, "actions/download-artifact")
	})
	runs, err := set.Runs("pull-request.yml", workflows.Event{Name: "pull_request"})
	require.NoError(t, err)
	assert.Len(t, problems(runs), 3, "one preview per stack without its layers")

	set = load(t)
	set["deploy.yml"].Jobs["layers"].If = ""
	set["deploy.yml"].Jobs["layers"].With = map[string]any{}
	runs, err = set.Runs("deploy.yml", workflows.Event{Name: "workflow_dispatch", Inputs: map[string]any{"image-tag": "2c3d4e5", "rollback": true}})
	require.NoError(t, err)
	p := problems(runs)
	assert.NotEmpty(t, p)
	assert.Contains(t, strings.Join(p, "\n"), "Audit the functions' pinned packages")
}

func TestExpressions(t *testing.T) {
	ctx := map[string]any{"inputs": map[string]any{"image-tag": "", "rollback": true, "n": 3.0}, "success()": true}
	for expr, want := range map[string]any{
		"!inputs.image-tag":                          true,
		"inputs.image-tag == ''":                     true,
		"inputs.missing == ''":                       true, // null and '' are both 0
		"inputs.image-tag != '' && !inputs.rollback": false,
		"inputs.missing || 'x'":                      "x",
		"inputs.rollback && 'yes'":                   "yes",
		"inputs.n == '3'":                            true,
		"'ABC' == 'abc'":                             true,
		"!(success() && false)":                      true,
	} {
		got, err := workflows.Eval(expr, ctx)
		require.NoError(t, err, expr)
		assert.Equal(t, want, got, expr)
	}
}

// docs/delivery.md's Actions allow-list (Settings → Actions → General) covers every action the
// workflows use: an action outside it is refused by GitHub and its job never runs.
func TestTheDocumentedAllowListCoversEveryAction(t *testing.T) {
	doc, err := os.ReadFile("../../docs/delivery.md")
	require.NoError(t, err)
	text := string(doc)
	start := strings.Index(text, "allow only GitHub's actions")
	require.GreaterOrEqual(t, start, 0, "docs/delivery.md has no allow-list")
	end := strings.Index(text[start:], "Every action")
	require.Positive(t, end)
	var allowed []string
	for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(text[start:start+end], -1) {
		allowed = append(allowed, m[1])
	}
	set := load(t)
	for file, w := range set {
		for id, job := range w.Jobs {
			for _, st := range job.Steps {
				if st.Uses == "" || strings.HasPrefix(st.Uses, "./") {
					continue
				}
				action, _, _ := strings.Cut(st.Uses, "@")
				ok := slices.ContainsFunc(allowed, func(a string) bool {
					owner, _, _ := strings.Cut(action, "/")
					return a == action || a == owner+"/*"
				})
				assert.True(t, ok, "%s job %s uses %s, which the allow-list %v omits", file, id, action, allowed)
			}
		}
	}
}
