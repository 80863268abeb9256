package backup

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// A line split across writes hashes as the whole line; lines after `\.` are not rows; the sum does not
// depend on row order; one changed byte changes it.
func TestLineSum(t *testing.T) {
	sum := func(writes ...string) lineSum {
		var s lineSum
		for _, w := range writes {
			_, _ = s.Write([]byte(w))
		}
		return s
	}
	whole := sum("1\ta\tx\n2\tb\\ty\n\\N\t\t\n\\.\n\n\n")
	split := sum("1\ta", "\tx\n2", "\tb\\", "ty\n\\N\t\t", "\n\\", ".\n\n", "\n")
	swapped := sum("2\tb\\ty\n\\N\t\t\n1\ta\tx\n\\.\n")
	changed := sum("1\ta\tx\n2\tb\\tz\n\\N\t\t\n\\.\n")
	if whole.rows != 3 || whole.sum != split.sum || split.rows != 3 || swapped.sum != whole.sum || swapped.rows != 3 {
		t.Fatalf("whole %d/%x, split %d/%x, swapped %d/%x", whole.rows, whole.sum, split.rows, split.sum, swapped.rows, swapped.sum)
	}
	if changed.sum == whole.sum {
		t.Fatal("a changed byte left the sum as it was")
	}
	// Empty lines before `\.` are rows (a table without columns writes one per row).
	if s := sum("\n\n\\.\n"); s.rows != 2 {
		t.Fatalf("rows of a column-less table: %d, want 2", s.rows)
	}
	// "\\." (an escaped backslash then a dot) is data, not the end.
	if s := sum("\\\\.\n\\.\n"); s.rows != 1 {
		t.Fatalf(`rows with a "\\." value: %d, want 1`, s.rows)
	}
}

// What the stream reader cannot read is refused as unsupported, so the engine scans the tables instead.
func TestArchiveTableStats_refusesWhatItCannotRead(t *testing.T) {
	head := func(version, format, compression byte) []byte {
		b := []byte("PGDMP")
		b = append(b, 1, version, 0, 4, 8, format)
		if version >= 15 {
			return append(b, compression)
		}
		return append(b, 0, compression, 0, 0, 0)
	}
	for name, in := range map[string][]byte{
		"plain SQL":        []byte("--\n-- PostgreSQL database dump\n"),
		"version 1.13":     head(13, 1, 0),
		"version 1.17":     head(17, 1, 0),
		"tar format":       head(14, 3, 0),
		"gzip (1.14)":      head(14, 1, 6),
		"zstd (1.15)":      head(15, 1, 3),
		"directory (1.16)": head(16, 5, 0),
	} {
		_, err := archiveTableStats(bytes.NewReader(append(in, make([]byte, 64)...)))
		if !errors.Is(err, errArchiveUnsupported) {
			t.Errorf("%s: %v, want errArchiveUnsupported", name, err)
		}
	}
	// A truncated archive is an error, but not "unsupported": the run fails rather than scanning.
	_, err := archiveTableStats(strings.NewReader("PGDMP\x01\x0e\x00\x04\x08\x01"))
	if err == nil || errors.Is(err, errArchiveUnsupported) {
		t.Fatalf("truncated archive: %v", err)
	}
}
