package acctest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/alfred-platform/terraform-provider-alfred/internal/provider"
)

// CLI runs the Terraform CLI (TF_ACC_TERRAFORM_PATH) against the real provider binary, installed through
// dev_overrides in a CLI configuration of its own: what benchmarks use to time Terraform end to end.
type CLI struct {
	// Terraform is the path of the Terraform binary.
	Terraform string
	// PluginDir holds the freshly built terraform-provider-alfred.
	PluginDir string
	// ConfigFile is the CLI configuration (TF_CLI_CONFIG_FILE) with the dev_overrides for provider.Address.
	ConfigFile string
	// MirrorDir holds the same binary in the layout of `terraform init -plugin-dir`, for configurations
	// that need init (modules): no registry is reachable.
	MirrorDir string
	// Env holds extra KEY=value variables for every command, after the defaults so that they win (a
	// sandbox's environment, TF_REATTACH_PROVIDERS, TF_LOG for a log scan).
	Env []string
}

// NewCLI builds the provider from RepoRoot() into a temporary plugin directory and writes a CLI
// configuration whose dev_overrides point provider.Address at it.
func NewCLI(tb testing.TB) *CLI {
	tb.Helper()
	PreCheck(tb)
	return NewCLIFor(tb, os.Getenv("TF_ACC_TERRAFORM_PATH"), provider.Address)
}

// OpenTofuAddress is the provider's address for OpenTofu, whose default registry host is
// registry.opentofu.org (what TF_ACC_PROVIDER_HOST names for terraform-plugin-testing).
var OpenTofuAddress = "registry.opentofu.org/" + strings.SplitN(provider.Address, "/", 2)[1]

// NewCLIFor is NewCLI for another CLI binary (OpenTofu) that knows the provider as address.
func NewCLIFor(tb testing.TB, binary, address string) *CLI {
	tb.Helper()
	dir := tb.TempDir()
	c := &CLI{
		Terraform:  binary,
		PluginDir:  filepath.Join(dir, "plugins"),
		ConfigFile: filepath.Join(dir, "terraformrc"),
		MirrorDir:  filepath.Join(dir, "mirror"),
	}
	build := exec.Command("go", "build", "-o", filepath.Join(c.PluginDir, "terraform-provider-alfred"), ".")
	build.Dir = RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("building the provider: %v\n%s", err, out)
	}
	mirrored := filepath.Join(c.MirrorDir, address, "0.0.1", runtime.GOOS+"_"+runtime.GOARCH)
	if err := os.MkdirAll(mirrored, 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.Link(filepath.Join(c.PluginDir, "terraform-provider-alfred"), filepath.Join(mirrored, "terraform-provider-alfred_v0.0.1")); err != nil {
		tb.Fatal(err)
	}
	rc := fmt.Sprintf(`provider_installation {
  dev_overrides {
    %q = %q
  }
  direct {}
}
`, address, c.PluginDir)
	if err := os.WriteFile(c.ConfigFile, []byte(rc), 0o644); err != nil {
		tb.Fatal(err)
	}
	return c
}

// Run runs `terraform args...` in workDir with the CLI configuration, no TF_LOG (unless Env sets it) and no
// checkpoint calls, and returns its exit code and combined output. An exit code outside okCodes fails tb with the output.
func (c *CLI) Run(tb testing.TB, workDir string, okCodes []int, args ...string) (exitCode int, output string) {
	tb.Helper()
	cmd := c.Command(workDir, args...)
	out, err := cmd.CombinedOutput()
	code := cmd.ProcessState.ExitCode() // -1 when the command did not start
	if !slices.Contains(okCodes, code) {
		tb.Fatalf("terraform %v: exit code %d: %v\n%s", args, code, err, out)
	}
	return code, string(out)
}

// Output runs `terraform args...` like Run and returns its standard output alone (e.g. `show -json`, whose
// warnings go to standard error); a non-zero exit fails tb.
func (c *CLI) Output(tb testing.TB, workDir string, args ...string) []byte {
	tb.Helper()
	cmd := c.Command(workDir, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("terraform %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

// Command is `terraform args...` in workDir with the CLI configuration, Env, no TF_LOG and no checkpoint
// calls, not started: for callers that start, time or kill it themselves.
func (c *CLI) Command(workDir string, args ...string) *exec.Cmd {
	cmd := exec.Command(c.Terraform, args...)
	cmd.Dir = workDir
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+c.ConfigFile, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "TF_LOG=")
	cmd.Env = append(cmd.Env, c.Env...)
	return cmd
}

// Init runs `terraform init` in workDir with the provider taken from MirrorDir; later commands still run
// the binary through dev_overrides.
func (c *CLI) Init(tb testing.TB, workDir string) {
	tb.Helper()
	c.Run(tb, workDir, []int{0}, "init", "-input=false", "-no-color", "-plugin-dir="+c.MirrorDir)
}
