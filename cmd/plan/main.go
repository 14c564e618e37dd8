// Command plan prints what `pulumi up` would create for a stack, without AWS credentials or the
// Pulumi CLI: the component tree, counts by type, the security policy report and the monthly
// cost estimate; it writes the stack's architecture diagram.
//
//	go run ./cmd/plan -stack dev [-strict] [-diagram docs/architecture-dev.md]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/canalco/infra/review/diagram"
	"github.com/canalco/infra/review/report"
	"github.com/canalco/infra/review/stack"
)

func main() {
	name := flag.String("stack", "dev", "stack to plan (Pulumi.<stack>.yaml)")
	strict := flag.Bool("strict", false, "exit 1 when a security rule fails (for CI)")
	dir := flag.String("dir", ".", "folder with Pulumi.yaml and the stack files")
	out := flag.String("diagram", "", "where to write the Mermaid diagram, '' to skip (default docs/architecture-<stack>.md)")
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "diagram" })
	if !given {
		*out = filepath.Join(*dir, "docs", "architecture-"+*name+".md")
	}
	os.Exit(run(*dir, *name, *out, *strict))
}

func run(dir, name, diagramPath string, strict bool) int {
	res, s, err := stack.Load(dir, name)
	if err != nil {
		fmt.Fprintln(os.Stderr, "plan:", err)
		return 2
	}
	w := bufio.NewWriter(os.Stdout)
	rep := report.Plan(w, res, s)
	if diagramPath != "" {
		if err := os.WriteFile(diagramPath, []byte(diagram.Document(res)), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "plan:", err)
			return 2
		}
		fmt.Fprintf(w, "\nDiagram written to %s\n", diagramPath)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "plan:", err)
		return 2
	}
	if strict && len(rep.Failures) > 0 {
		fmt.Fprintf(os.Stderr, "plan: %d security rule(s) fail in %s (-strict)\n", len(rep.Failures), name)
		return 1
	}
	return 0
}
