package dump

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/canalco/infra/offline"
)

func TestDump(t *testing.T) {
	stack := os.Getenv("STACK")
	res, err := offline.Run(os.Getenv("ROOT"), stack)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Resources {
		if os.Getenv("TYPE") != "" && r.Type != os.Getenv("TYPE") {
			continue
		}
		b, _ := json.MarshalIndent(r.Inputs, "", " ")
		fmt.Printf("== %s %s protect=%v parent=%s\n%s\n", r.Type, r.Name, r.Protect, r.Parent, b)
	}
}
