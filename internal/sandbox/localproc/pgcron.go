package localproc

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// EnsurePgCron makes the pg_cron extension available to the server binaries in binDir: Debian's
// postgresql-<major>-cron package, installed with apt-get when missing and the process runs as root.
func EnsurePgCron(binDir string) error {
	lib := filepath.Join(filepath.Dir(binDir), "lib", "pg_cron.so")
	if _, err := os.Stat(lib); err == nil {
		return nil
	}
	pkg := fmt.Sprintf("postgresql-%d-cron", pgMajor(binDir))
	if os.Geteuid() != 0 {
		return fmt.Errorf("the pg_cron extension (%s) is not installed: `sudo apt-get install -y %s`", lib, pkg)
	}
	return withFileLock(os.TempDir(), "alfred-apt", func() error {
		if _, err := os.Stat(lib); err == nil {
			return nil
		}
		fmt.Fprintln(os.Stderr, "localproc: installing Debian's "+pkg+" package")
		aptGet := func(args ...string) error {
			cmd := exec.Command("apt-get", append([]string{"-o", "DPkg::Lock::Timeout=600"}, args...)...)
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("apt-get %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			return nil
		}
		// The package lists are usually fresh (the postgresql package came from them); update only if needed.
		if aptGet("install", "-y", "--no-install-recommends", pkg) == nil {
			return nil
		}
		if err := aptGet("update"); err != nil {
			return err
		}
		return aptGet("install", "-y", "--no-install-recommends", pkg)
	})
}
