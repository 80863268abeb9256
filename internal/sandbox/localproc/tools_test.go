package localproc_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/localproc"
)

// fakeGo puts a `go` first on PATH that records its arguments instead of building, and returns the file
// they are recorded in.
func fakeGo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	record := filepath.Join(dir, "go-args")
	script := "#!/bin/sh\necho \"$*\" >> " + record + "\n"
	if err := os.WriteFile(filepath.Join(dir, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	return record
}

func recorded(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// A binary of another version already in the bin directory is rebuilt; the right one is kept.
func TestInstallRebuildsAToolOfAnotherVersion(t *testing.T) {
	real, err := acctest.InstallVersityGW()
	if err != nil {
		t.Fatal(err)
	}
	record := fakeGo(t)

	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "terraform"), []byte("#!/bin/sh\necho Terraform v1.6.0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable() // a Go binary, but not versitygw
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(bin, "versitygw")); err != nil {
		t.Fatal(err)
	}
	if _, err := localproc.InstallTerraform(bin); err != nil {
		t.Fatal(err)
	}
	if _, err := localproc.InstallVersityGW(bin); err != nil {
		t.Fatal(err)
	}
	got := recorded(record)
	if !strings.Contains(got, "install github.com/hashicorp/terraform@v"+localproc.TerraformVersion) {
		t.Errorf("a Terraform of another version must be rebuilt; go ran with: %q", got)
	}
	if !strings.Contains(got, "install github.com/versity/versitygw/cmd/versitygw@"+localproc.VersityGWVersion) {
		t.Errorf("a versitygw binary of another module must be rebuilt; go ran with: %q", got)
	}

	good := t.TempDir()
	if err := os.WriteFile(filepath.Join(good, "terraform"), []byte("#!/bin/sh\necho Terraform v"+localproc.TerraformVersion+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, filepath.Join(good, "versitygw")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(record); err != nil {
		t.Fatal(err)
	}
	if _, err := localproc.InstallTerraform(good); err != nil {
		t.Fatal(err)
	}
	if _, err := localproc.InstallVersityGW(good); err != nil {
		t.Fatal(err)
	}
	if got := recorded(record); got != "" {
		t.Errorf("tools of the right versions must be kept; go ran with: %q", got)
	}
}
