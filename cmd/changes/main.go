// Command changes prints what the change since a git ref would do to a stack, by the provider's
// replacement table (offline.Replacements): each resource updated in place, replaced (with the
// inputs that force it and the provider file that says so), deleted or created. A reviewer sees
// a replacement before any preview runs.
//
//	make plan BASE=origin/main [STACK=prod]
//	go run ./cmd/changes -stack prod -base origin/main
//
// The ref's program is planned offline in a temporary git worktree (the same offline harness,
// with that commit's code and stack files), the working tree's here.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/canalco/infra/offline"
)

// dumper is the program run in the ref's worktree: its offline plan's resources, as JSON.
const dumper = `package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/canalco/infra/offline"
)

func main() {
	r, err := offline.Run(".", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(r.Resources); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
`

func main() {
	stack := flag.String("stack", "dev", "stack to compare (Pulumi.<stack>.yaml)")
	base := flag.String("base", "", "git ref to compare with, e.g. origin/main")
	flag.Parse()
	if *base == "" {
		fmt.Fprintln(os.Stderr, "changes: -base <git ref> is required (make plan BASE=origin/main)")
		os.Exit(2)
	}
	before, err := planAt(*base, *stack)
	if err != nil {
		fmt.Fprintln(os.Stderr, "changes:", err)
		os.Exit(2)
	}
	now, err := offline.Run(".", *stack)
	if err != nil {
		fmt.Fprintln(os.Stderr, "changes:", err)
		os.Exit(2)
	}
	after, err := roundTrip(now.Resources)
	if err != nil {
		fmt.Fprintln(os.Stderr, "changes:", err)
		os.Exit(2)
	}
	fmt.Printf("Changes to %s since %s, by the provider's replacement table:\n", *stack, *base)
	Print(os.Stdout, offline.Diff(offline.NewResult(before), offline.NewResult(after)))
}

// planAt plans the stack as the ref's commit has it, in a temporary worktree.
func planAt(ref, stack string) ([]*offline.Resource, error) {
	dir, err := os.MkdirTemp("", "canalco-base-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	tree := filepath.Join(dir, "tree")
	if out, err := exec.Command("git", "worktree", "add", "--detach", tree, ref).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("git worktree add %s: %v: %s", ref, err, out)
	}
	defer exec.Command("git", "worktree", "remove", "--force", tree).Run() //nolint:errcheck // best effort: the temporary directory goes anyway
	if err := os.MkdirAll(filepath.Join(tree, "cmd", "basedump"), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(tree, "cmd", "basedump", "main.go"), []byte(dumper), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command("go", "run", "./cmd/basedump", stack)
	cmd.Dir = tree
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("planning %s at %s: %v: %s", stack, ref, err, errs.String())
	}
	var rs []*offline.Resource
	return rs, json.Unmarshal(out.Bytes(), &rs)
}

// roundTrip gives the working tree's resources the JSON form the ref's have, so that equal
// inputs compare equal.
func roundTrip(rs []*offline.Resource) ([]*offline.Resource, error) {
	data, err := json.Marshal(rs)
	if err != nil {
		return nil, err
	}
	var out []*offline.Resource
	return out, json.Unmarshal(data, &out)
}

// Print lists the differences, replacements and deletions first.
func Print(w io.Writer, diff map[string]offline.Difference) {
	order := []offline.Change{offline.Replace, offline.Delete, offline.Update, offline.Create}
	counts := map[offline.Change]int{}
	for _, change := range order {
		var lines []string
		for _, d := range diff {
			if d.Change != change {
				continue
			}
			counts[change]++
			line := fmt.Sprintf("  %-7s %s  %s", change, d.Resource.Type, d.Resource.Name)
			if len(d.Inputs) > 0 {
				slices.Sort(d.Inputs)
				line += "  (" + strings.Join(d.Inputs, ", ")
				if src := offline.SourceOf(d.Resource.Type); change == offline.Replace && src != "" {
					line += "; " + src
				}
				line += ")"
			}
			if (change == offline.Replace || change == offline.Delete) && (d.Resource.Protect || offline.Replacements[d.Resource.Type].Stateful) {
				line += "  HOLDS DATA"
			}
			lines = append(lines, line)
		}
		slices.Sort(lines)
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
	}
	fmt.Fprintf(w, "%d to replace, %d to delete, %d to update in place, %d to create\n",
		counts[offline.Replace], counts[offline.Delete], counts[offline.Update], counts[offline.Create])
}
