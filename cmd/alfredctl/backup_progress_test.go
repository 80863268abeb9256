package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/creack/pty"
)

// runCLIWithStderr runs alfredctl with stdout in a buffer and stderr on the file made by open (a pipe, or a
// pseudo-terminal's slave end), and returns everything written to stderr.
func runCLIWithStderr(t *testing.T, open func() (read io.ReadCloser, write *os.File, err error), args ...string) (stdout, stderr string, err error) {
	t.Helper()
	r, w, err := open()
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(r) // a pty master ends in EIO once the slave is closed
		got <- b
	}()
	var out bytes.Buffer
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(w)
	err = root.ExecuteContext(context.Background())
	_ = w.Close()
	b := <-got
	_ = r.Close()
	return out.String(), string(b), err
}

func openPipe() (io.ReadCloser, *os.File, error) { return os.Pipe() }

func openTerminal() (io.ReadCloser, *os.File, error) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		return nil, nil, err
	}
	_ = pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 120})
	return ptmx, tty, nil
}

// run, verify and restore draw progress bars on a terminal and print plain lines on a pipe; both print
// their summary tables on stdout.
func TestAccBackupCLI_progressBarsOnTerminalPlainLinesOnPipe(t *testing.T) {
	db, pg := backupCLIFixture(t)
	key := filepath.Join(t.TempDir(), "keyset.json")
	if _, _, err := runCLI(t, "backup", "keygen", "--out", key); err != nil {
		t.Fatal(err)
	}
	common := []string{"--keyset-file", key, "--pg-bin", pg.BinDir}
	bar := regexp.MustCompile(`\r.*100% \|█+\|`) // redrawn in place (\r), full at the end (long labels leave no room: see restore)
	for _, mode := range []struct {
		name string
		open func() (io.ReadCloser, *os.File, error)
	}{{"pipe", openPipe}, {"terminal", openTerminal}} {
		check := func(step, stderr string, plain ...string) {
			t.Helper()
			for _, line := range plain {
				if has := strings.Contains(stderr, line+"\n"); has != (mode.name == "pipe") {
					t.Errorf("%s on a %s: plain line %q printed: %t\n%q", step, mode.name, line, has, stderr)
				}
			}
			if has := strings.Contains(stderr, "\r"); has != (mode.name == "terminal") {
				t.Errorf("%s on a %s: redrawn in place: %t\n%q", step, mode.name, has, stderr)
			}
		}
		out, stderr, err := runCLIWithStderr(t, mode.open, append([]string{"backup", "run", "--database", db}, common...)...)
		if err != nil {
			t.Fatalf("run: %v\n%s", err, stderr)
		}
		check("run", stderr, "backup "+db+": started")
		if mode.name == "terminal" && !regexp.MustCompile(`\r. backup `+db+` \(\d+(\.\d+)? [kM]?B, `).MatchString(stderr) {
			t.Errorf("run on a terminal draws no byte counter:\n%q", stderr)
		}
		set := regexp.MustCompile(`set (\S+) complete[\s\S]*KIND\s+NAME\s+DUMP BYTES\s+STORED BYTES\s+TABLES\s+SHA256\npostgres\s+` + db + `\s+\d+\s+\d+\s+1\s+[0-9a-f]{64}\n`).FindStringSubmatch(out)
		if set == nil {
			t.Fatalf("run printed no summary table:\n%s", out)
		}

		out, stderr, err = runCLIWithStderr(t, mode.open, append([]string{"backup", "verify", set[1]}, common...)...)
		if err != nil {
			t.Fatalf("verify: %v\n%s", err, stderr)
		}
		check("verify", stderr, "check "+db+": started")
		if mode.name == "terminal" && !bar.MatchString(stderr) {
			t.Errorf("verify on a terminal draws no full bar:\n%q", stderr)
		}
		if !regexp.MustCompile(`DATABASE\s+TABLE\s+ROWS \(BACKUP\)\s+ROWS \(RESTORED\)\s+CHECKSUM\n` + db + `\s+public\.notes\s+500\s+500\s+match\n`).MatchString(out) {
			t.Fatalf("verify printed no summary table:\n%s", out)
		}

		target := db + "_" + mode.name
		out, stderr, err = runCLIWithStderr(t, mode.open, append([]string{"backup", "restore", set[1], "--database", db, "--target", target}, common...)...)
		if err != nil {
			t.Fatalf("restore: %v\n%s", err, stderr)
		}
		check("restore", stderr, "check "+db+": started", "restore "+db+" -> "+target+": started")
		if mode.name == "terminal" && !regexp.MustCompile(`\rrestore `+db+` -> `+target+`.*100% \|█*\|`).MatchString(stderr) {
			t.Errorf("restore on a terminal draws no full bar:\n%q", stderr)
		}
		if !regexp.MustCompile(`SET\s+DATABASE\s+RESTORED AS\s+TIME\n` + regexp.QuoteMeta(set[1]) + `\s+` + db + `\s+` + target + `\s+\S+\n`).MatchString(out) {
			t.Fatalf("restore printed no summary table:\n%s", out)
		}
	}
}
