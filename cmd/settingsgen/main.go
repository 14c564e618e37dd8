// Command settingsgen writes Pulumi.yaml, docs/settings.md and the README's settings table
// from the settings package, so the config schema and its reference never drift from the code.
package main

import (
	"log"
	"os"

	"github.com/canalco/infra/settings"
)

func main() {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		log.Fatal(err)
	}
	table, err := settings.WithTable(string(readme))
	if err != nil {
		log.Fatal(err)
	}
	for path, content := range map[string]string{
		"Pulumi.yaml":      settings.ProjectFile(),
		"docs/settings.md": settings.Reference(),
		"README.md":        table,
	} {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
