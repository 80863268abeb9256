// Package acctest is the shared test harness: provider factories, pre-checks, and real components started
// per test run (Terraform CLI 1.5.7, a throwaway PostgreSQL cluster, versitygw as S3). Nothing depends on
// services left running by someone else.
package acctest

import (
	"os"
	"path/filepath"
	"sync"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/localproc"
)

var (
	rootOnce sync.Once
	rootDir  string
)

// RepoRoot is the directory holding go.mod.
func RepoRoot() string {
	rootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			panic(err)
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				rootDir = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				panic("acctest: go.mod not found above the working directory")
			}
			dir = parent
		}
	})
	return rootDir
}

// BinDir is ./bin of the repository, where the harness installs the tools it builds.
func BinDir() string { return filepath.Join(RepoRoot(), "bin") }

// InstallTerraform makes sure ./bin/terraform is Terraform 1.5.7 and returns its path.
func InstallTerraform() (string, error) { return localproc.InstallTerraform(BinDir()) }

// InstallVersityGW makes sure ./bin/versitygw exists and returns its path.
func InstallVersityGW() (string, error) { return localproc.InstallVersityGW(BinDir()) }

// WriteCLIConfig writes a Terraform CLI configuration file of the harness's own and points
// TF_CLI_CONFIG_FILE at it: the machine's variable may name a missing file, whose warning breaks the
// version check. extra is appended verbatim (module tests put provider_installation dev_overrides there).
func WriteCLIConfig(dir, extra string) (string, error) {
	path := filepath.Join(dir, "terraformrc")
	if err := os.WriteFile(path, []byte("# written by internal/acctest\n"+extra), 0o644); err != nil {
		return "", err
	}
	return path, os.Setenv("TF_CLI_CONFIG_FILE", path)
}
