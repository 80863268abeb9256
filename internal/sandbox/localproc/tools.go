package localproc

import (
	"bytes"
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// TerraformVersion is the Terraform CLI the project tests and demos with (the last MPL release).
const TerraformVersion = "1.5.7"

// withFileLock runs fn holding an exclusive lock, so that test binaries of several packages running at
// once do not build the same tool twice.
func withFileLock(binDir, name string, fn func() error) error {
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(binDir, "."+name+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }()
	return fn()
}

// GoInstall builds pkg@version into binDir unless check reports that the binary there is already right.
func GoInstall(binDir, binary, pkg string, check func(path string) bool) (string, error) {
	path := filepath.Join(binDir, binary)
	err := withFileLock(binDir, binary, func() error {
		if _, err := os.Stat(path); err == nil && (check == nil || check(path)) {
			return nil
		}
		fmt.Fprintf(os.Stderr, "acctest: installing %s into %s (go install %s)\n", binary, binDir, pkg)
		cmd := exec.Command("go", "install", pkg)
		cmd.Env = append(os.Environ(), "GOBIN="+binDir, "GOFLAGS=-buildvcs=false")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go install %s: %v\n%s", pkg, err, out.String())
		}
		return nil
	})
	return path, err
}

// InstallTerraform makes sure binDir/terraform is Terraform 1.5.7, building it with go install when absent
// (no download site is reachable), and returns its path.
func InstallTerraform(binDir string) (string, error) {
	return GoInstall(binDir, "terraform", "github.com/hashicorp/terraform@v"+TerraformVersion, func(path string) bool {
		out, err := exec.Command(path, "version").CombinedOutput()
		return err == nil && strings.Contains(string(out), "v"+TerraformVersion)
	})
}

// VersityGWVersion is the versitygw release the sandbox and the tests run.
const VersityGWVersion = "v1.8.0"

// InstallVersityGW makes sure binDir/versitygw is versitygw VersityGWVersion (a binary of another version
// is rebuilt) and returns its path.
func InstallVersityGW(binDir string) (string, error) {
	return GoInstall(binDir, "versitygw", "github.com/versity/versitygw/cmd/versitygw@"+VersityGWVersion, func(path string) bool {
		info, err := buildinfo.ReadFile(path)
		return err == nil && info.Main.Path == "github.com/versity/versitygw" && info.Main.Version == VersityGWVersion
	})
}
