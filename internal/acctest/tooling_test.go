package acctest_test

// Tests of the developer tooling on a fresh machine: scripts/install-deps.sh and the GNUmakefile's tool
// rules, run with a PATH of fake commands that record what they were asked to do, so nothing is installed.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

// fakeBin returns a directory (reachable by every user) holding the real commands named in real and a
// recording script for each name in fake: it appends "name args" to the file record.
func fakeBin(t *testing.T, real []string, fake ...string) (dir, record string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "alfred-fakebin-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	record = filepath.Join(dir, "record")
	for _, name := range real {
		p, err := exec.LookPath(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(p, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range fake {
		script := "#!/bin/sh\necho \"" + name + " $*\" >> " + record + "\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir, record
}

func installDeps(t *testing.T, path string, cred *syscall.Credential) (string, error) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bash, filepath.Join(acctest.RepoRoot(), "scripts", "install-deps.sh"))
	cmd.Env = []string{"PATH=" + path, "HOME=/"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Without root, missing packages are named with the command that installs them, and the script fails.
func TestInstallDepsAsNonRootNamesWhatToInstall(t *testing.T) {
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		cred = &syscall.Credential{Uid: 65534, Gid: 65534} // nobody
	}
	dir, _ := fakeBin(t, []string{"ls", "id"}, "initdb", "psql") // no promtool
	out, err := installDeps(t, dir, cred)
	if err == nil {
		t.Fatalf("install-deps must fail when a package is missing and it cannot install it:\n%s", out)
	}
	if !strings.Contains(out, "missing Debian packages: prometheus.") || !strings.Contains(out, "sudo apt-get install -y --no-install-recommends prometheus") {
		t.Errorf("the message must name the package and the command:\n%s", out)
	}
}

// As root on a fresh machine: apt lists are updated before installing, apt waits for a dpkg lock held by
// another apt, and the services Debian autostarts are stopped where systemd is not running.
func TestInstallDepsAsRootUpdatesThenInstalls(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the apt-get path runs as root")
	}
	dir, record := fakeBin(t, []string{"ls", "id"}, "initdb", "apt-get", "service") // no psql, no promtool
	if out, err := installDeps(t, dir, nil); err != nil {
		t.Fatalf("install-deps: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(record)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 4 {
		t.Fatalf("want apt-get update, apt-get install, two service stops; got:\n%s", b)
	}
	if !strings.HasPrefix(lines[0], "apt-get -o DPkg::Lock::Timeout=") || !strings.HasSuffix(lines[0], " update -qq") {
		t.Errorf("first an apt-get update that waits for the dpkg lock: %q", lines[0])
	}
	if !strings.Contains(lines[1], " install -y -qq --no-install-recommends postgresql-client prometheus") {
		t.Errorf("then the install of what is missing: %q", lines[1])
	}
	if lines[2] != "service prometheus stop" || lines[3] != "service postgresql stop" {
		t.Errorf("then the autostarted services are stopped: %q", lines[2:])
	}
}

func TestInstallDepsDoesNothingWhenEverythingIsThere(t *testing.T) {
	dir, record := fakeBin(t, []string{"ls", "id"}, "initdb", "psql", "promtool", "apt-get")
	if out, err := installDeps(t, dir, nil); err != nil || out != "" {
		t.Fatalf("install-deps: %v\n%s", err, out)
	}
	if b, err := os.ReadFile(record); err == nil {
		t.Errorf("nothing must be run: %s", b)
	}
}

// make takes an existing file as up to date: the tool rules must still rebuild a bin/terraform,
// bin/versitygw or bin/tofu of another version, and keep the right ones.
func TestMakeRebuildsToolsOfAnotherVersion(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	vgw, err := acctest.InstallVersityGW()
	if err != nil {
		t.Fatal(err)
	}
	realGo, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	makeTools := func(bin string) string {
		t.Helper()
		// The GNUmakefile puts $(BIN) first on PATH: the fake go there records `go install` and hands
		// `go version -m` (the versitygw check) to the real go; `go mod download -json` (OpenTofu's source)
		// answers with bin as the module's directory.
		script := "#!/bin/sh\nif [ \"$1\" = version ]; then exec " + realGo + " \"$@\"; fi\necho \"go $*\" >> " + bin + "/record\n" +
			"if [ \"$1\" = mod ]; then echo '\t\"Dir\": \"" + bin + "\",'; fi\n"
		if err := os.WriteFile(filepath.Join(bin, "go"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("make", "-f", filepath.Join(acctest.RepoRoot(), "GNUmakefile"), "BIN="+bin, "tools")
		cmd.Dir = acctest.RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make tools: %v\n%s", err, out)
		}
		b, _ := os.ReadFile(filepath.Join(bin, "record"))
		return string(b)
	}

	stale := t.TempDir()
	if err := os.WriteFile(filepath.Join(stale, "terraform"), []byte("#!/bin/sh\necho Terraform v1.6.0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(realGo, filepath.Join(stale, "versitygw")); err != nil { // a Go binary, not versitygw
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stale, "tofu"), []byte("#!/bin/sh\necho OpenTofu v1.6.0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	got := makeTools(stale)
	if !strings.Contains(got, "go install github.com/hashicorp/terraform@v1.5.7") {
		t.Errorf("a bin/terraform of another version must be rebuilt; go ran with: %q", got)
	}
	if !strings.Contains(got, "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0") {
		t.Errorf("a bin/versitygw of another version must be rebuilt; go ran with: %q", got)
	}
	if !strings.Contains(got, "go mod download -json github.com/opentofu/opentofu@v1.12.6") || !strings.Contains(got, "version.dev=no -o "+stale+"/tofu ./cmd/tofu") {
		t.Errorf("a bin/tofu of another version must be rebuilt from OpenTofu's module; go ran with: %q", got)
	}

	good := t.TempDir()
	if err := os.WriteFile(filepath.Join(good, "terraform"), []byte("#!/bin/sh\necho Terraform v1.5.7\necho on linux_amd64\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(vgw, filepath.Join(good, "versitygw")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(good, "tofu"), []byte("#!/bin/sh\necho OpenTofu v1.12.6\necho on linux_amd64\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := makeTools(good); got != "" {
		t.Errorf("tools of the right versions must be kept; go ran with: %q", got)
	}
}
