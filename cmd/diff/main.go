// Command diff compares two stacks without deploying either: the settings that differ, the
// resources only one has, and the properties that differ.
//
//	go run ./cmd/diff -a staging -b prod
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/canalco/infra/review/diff"
	"github.com/canalco/infra/review/stack"
)

func main() {
	a := flag.String("a", "staging", "first stack")
	b := flag.String("b", "prod", "second stack")
	dir := flag.String("dir", ".", "folder with Pulumi.yaml and the stack files")
	flag.Parse()
	ra, sa, err := stack.Load(*dir, *a)
	if err != nil {
		fmt.Fprintln(os.Stderr, "diff:", err)
		os.Exit(2)
	}
	rb, sb, err := stack.Load(*dir, *b)
	if err != nil {
		fmt.Fprintln(os.Stderr, "diff:", err)
		os.Exit(2)
	}
	w := bufio.NewWriter(os.Stdout)
	diff.Compare(ra, sa, rb, sb).Write(w)
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "diff:", err)
		os.Exit(2)
	}
}
