package acctest

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/alfred-platform/terraform-provider-alfred/internal/provider"
)

// ProtoV6ProviderFactories serves the provider in-process to terraform-plugin-testing.
var ProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"alfred": providerserver.NewProtocol6WithError(provider.New("test")()),
}

var (
	cleanupMu sync.Mutex
	cleanups  []func()
)

func addCleanup(fn func()) {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	cleanups = append(cleanups, fn)
}

func runCleanups() {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	cleanups = nil
}

// Main is the TestMain of every package with acceptance tests. With TF_ACC set it installs Terraform
// 1.5.7 into ./bin when absent, points TF_ACC_TERRAFORM_PATH at it and writes a CLI configuration of its
// own; after the tests it stops every component it started (PostgreSQL, versitygw, sandboxes).
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Getenv("TF_ACC") != "" {
		if err := setupTerraform(); err != nil {
			fmt.Fprintln(os.Stderr, "acctest:", err)
			return 1
		}
	}
	defer runCleanups()
	return m.Run()
}

func setupTerraform() error {
	if os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
		path, err := InstallTerraform()
		if err != nil {
			return err
		}
		if err := os.Setenv("TF_ACC_TERRAFORM_PATH", path); err != nil {
			return err
		}
	}
	dir, err := os.MkdirTemp("", "alfred-tfcli-")
	if err != nil {
		return err
	}
	addCleanup(func() { _ = os.RemoveAll(dir) })
	_, err = WriteCLIConfig(dir, "")
	// Keep Terraform away from the network and from checkpoint calls.
	_ = os.Setenv("CHECKPOINT_DISABLE", "1")
	return err
}

// PreCheck fails the test early when the harness is not set up for acceptance tests.
func PreCheck(t testing.TB) {
	t.Helper()
	if os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
		t.Fatal("TF_ACC_TERRAFORM_PATH is not set: run acceptance tests through acctest.Main (make testacc)")
	}
}
