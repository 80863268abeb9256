// Command modulesdoc writes the inputs and outputs of every module under the given directories (default
// modules/) into the module's README.md, between modulesdoc.Begin and modulesdoc.End. Run by make generate.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/alfred-platform/terraform-provider-alfred/internal/modulesdoc"
)

func main() {
	roots := os.Args[1:]
	if len(roots) == 0 {
		roots = []string{"modules"}
	}
	for _, root := range roots {
		dirs, err := filepath.Glob(filepath.Join(root, "*", "variables.tf"))
		if err != nil {
			fail(err)
		}
		for _, f := range dirs {
			dir := filepath.Dir(f)
			want, have, err := modulesdoc.Want(dir)
			if err != nil {
				fail(err)
			}
			if want != have {
				if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte(want), 0o644); err != nil {
					fail(err)
				}
				fmt.Println("wrote", filepath.Join(dir, "README.md"))
			}
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "modulesdoc:", err)
	os.Exit(1)
}
