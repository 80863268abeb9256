package backup

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cespare/xxhash/v2"
)

// ChecksumCopy is the checksum method of tables whose stats come from the dump stream itself: the row
// count and the wrapping sum of xxhash64 over every line of the table's COPY data in the archive pg_dump
// writes, so a backup costs no second scan of the database. Verify recomputes it on the restored table
// with the COPY pg_dump runs (every column but dropped and generated ones, in order) in the session
// settings pg_dump sets (copySession).
const ChecksumCopy = "copy_xxh64"

// The parts of pg_dump's custom archive format (src/bin/pg_dump/pg_backup_archiver.c: WriteHead,
// WriteToc, ReadInt, ReadStr, ReadOffset; pg_backup_custom.c: _StartData, _CustomWriteFunc, _EndData,
// _StartLOs) that a stream written to a pipe holds: header, TOC, then one block per data entry.
const (
	archVersion114 = 1<<16 | 14<<8 // PostgreSQL 12-15
	archVersion115 = 1<<16 | 15<<8 // 16: the header names the compression algorithm
	archVersion116 = 1<<16 | 16<<8 // 17+: TOC entries carry relkind
	archCustom     = 1
	blkData        = 1
	blkBlobs       = 3
)

var errArchiveUnsupported = errors.New("archive not readable in-stream")

// archiveTable is one TABLE DATA entry of the archive and the stats of its COPY lines.
type archiveTable struct {
	table string // schema.table, as tableStats names it
	lines lineSum
}

// lineSum counts and hashes the lines written to it, up to a line that is exactly `\.` (the end of COPY
// data, which pg_dump writes after the rows); a line split across writes is hashed as one.
type lineSum struct {
	d     xxhash.Digest
	len   int
	head  [2]byte
	ended bool
	rows  int64
	sum   uint64
}

func (s *lineSum) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && !s.ended {
		i := bytes.IndexByte(p, '\n')
		part := p
		if i >= 0 {
			part = p[:i]
		}
		if s.len < 2 {
			copy(s.head[s.len:], part)
		}
		s.len += len(part)
		_, _ = s.d.Write(part)
		if i < 0 {
			break
		}
		if s.len == 2 && s.head == [2]byte{'\\', '.'} {
			s.ended = true
		} else {
			s.rows++
			s.sum += s.d.Sum64()
		}
		s.d.Reset()
		s.len = 0
		p = p[i+1:]
	}
	return n, nil
}

func (s *lineSum) stat(table string) TableStat {
	return TableStat{Table: table, Rows: s.rows, Checksum: fmt.Sprintf("%016x", s.sum), Method: ChecksumCopy}
}

// archiveReader parses a pg_dump -Fc -Z0 stream as it passes.
type archiveReader struct {
	r       *bufio.Reader
	intSize int
	offSize int
	version int
}

func (a *archiveReader) byte() (int, error) {
	b, err := a.r.ReadByte()
	return int(b), err
}

func (a *archiveReader) int() (int, error) {
	sign, err := a.byte()
	if err != nil {
		return 0, err
	}
	v := 0
	for i := 0; i < a.intSize; i++ {
		b, err := a.byte()
		if err != nil {
			return 0, err
		}
		v |= b << (8 * i)
	}
	if sign != 0 {
		v = -v
	}
	return v, nil
}

// str returns "" with ok false for a NULL string.
func (a *archiveReader) str() (s string, ok bool, err error) {
	n, err := a.int()
	if err != nil || n < 0 {
		return "", false, err
	}
	b := make([]byte, n)
	_, err = io.ReadFull(a.r, b)
	return string(b), true, err
}

func (a *archiveReader) strs(n int) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		s, _, err := a.str()
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// header reads up to the TOC and refuses what the in-stream stats cannot read: another format, a
// compressed archive, a version outside 1.14-1.16, or an encoding other than UTF8 (checked at the TOC).
func (a *archiveReader) header() error {
	var magic [8]byte
	if _, err := io.ReadFull(a.r, magic[:]); err != nil {
		return err
	}
	if string(magic[:5]) != "PGDMP" {
		return fmt.Errorf("%w: not a pg_dump archive", errArchiveUnsupported)
	}
	a.version = int(magic[5])<<16 | int(magic[6])<<8 | int(magic[7])
	if a.version < archVersion114 || a.version >= archVersion116+1<<8 {
		return fmt.Errorf("%w: archive version %d.%d", errArchiveUnsupported, magic[5], magic[6])
	}
	var sizes [3]byte
	if _, err := io.ReadFull(a.r, sizes[:]); err != nil {
		return err
	}
	a.intSize, a.offSize = int(sizes[0]), int(sizes[1])
	if sizes[2] != archCustom || a.intSize < 1 || a.intSize > 8 || a.offSize < 1 || a.offSize > 8 {
		return fmt.Errorf("%w: format %d", errArchiveUnsupported, sizes[2])
	}
	var compressed int
	var err error
	if a.version >= archVersion115 {
		compressed, err = a.byte() // pg_compress_algorithm: 0 is none
	} else {
		compressed, err = a.int() // compression level: 0 is none
	}
	if err != nil {
		return err
	}
	if compressed != 0 {
		return fmt.Errorf("%w: compressed archive", errArchiveUnsupported)
	}
	for i := 0; i < 7; i++ { // creation time: sec, min, hour, mday, mon, year, isdst
		if _, err := a.int(); err != nil {
			return err
		}
	}
	_, err = a.strs(3) // database name, server version, pg_dump version
	return err
}

// toc returns the TABLE DATA entries by dump ID.
func (a *archiveReader) toc() (map[int]*archiveTable, error) {
	count, err := a.int()
	if err != nil {
		return nil, err
	}
	tables := map[int]*archiveTable{}
	for i := 0; i < count; i++ {
		id, err := a.int()
		if err != nil {
			return nil, err
		}
		if _, err := a.int(); err != nil { // hadDumper
			return nil, err
		}
		f, err := a.strs(4) // tableoid, oid, tag, desc
		if err != nil {
			return nil, err
		}
		tag, desc := f[2], f[3]
		if _, err := a.int(); err != nil { // section
			return nil, err
		}
		g, err := a.strs(6) // defn, dropStmt, copyStmt, namespace, tablespace, tableam
		if err != nil {
			return nil, err
		}
		defn, copyStmt, namespace := g[0], g[2], g[3]
		if a.version >= archVersion116 {
			if _, err := a.int(); err != nil { // relkind
				return nil, err
			}
		}
		if _, err := a.strs(2); err != nil { // owner, "false" (WITH OIDS)
			return nil, err
		}
		for { // dependencies, up to a NULL string
			_, ok, err := a.str()
			if err != nil {
				return nil, err
			}
			if !ok {
				break
			}
		}
		if _, err := a.byte(); err != nil { // data offset: flag, then offSize bytes
			return nil, err
		}
		if _, err := a.r.Discard(a.offSize); err != nil {
			return nil, err
		}
		switch desc {
		case "ENCODING":
			if !strings.Contains(defn, "'UTF8'") {
				return nil, fmt.Errorf("%w: %s", errArchiveUnsupported, strings.TrimSpace(defn))
			}
		case "TABLE DATA":
			if !strings.HasSuffix(strings.TrimSpace(copyStmt), " FROM stdin;") { // text COPY data follows
				return nil, fmt.Errorf("%w: COPY statement %q", errArchiveUnsupported, copyStmt)
			}
			tables[id] = &archiveTable{table: namespace + "." + tag}
		}
	}
	return tables, nil
}

// chunks passes the chunks of one data block to w, up to the zero length that ends it.
func (a *archiveReader) chunks(w io.Writer) error {
	for {
		n, err := a.int()
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if n < 0 {
			return fmt.Errorf("%w: chunk length %d", errArchiveUnsupported, n)
		}
		// Peek and Discard, not io.CopyN: pg_dump writes a chunk per row, and CopyN allocates a buffer a call.
		for n > 0 {
			b, err := a.r.Peek(min(n, a.r.Size()))
			if err != nil {
				return err
			}
			_, _ = w.Write(b)
			_, _ = a.r.Discard(len(b))
			n -= len(b)
		}
	}
}

// archiveTableStats reads a whole pg_dump -Fc -Z0 stream from r and returns the row count and COPY-line
// checksum of every table whose data it holds, by "schema.table". An archive it cannot read gives an
// error wrapping errArchiveUnsupported; r is read to its end in every case, so a writer feeding it never
// blocks.
func archiveTableStats(r io.Reader) (map[string]TableStat, error) {
	defer func() { _, _ = io.Copy(io.Discard, r) }()
	a := &archiveReader{r: bufio.NewReaderSize(r, 1<<20)}
	if err := a.header(); err != nil {
		return nil, err
	}
	tables, err := a.toc()
	if err != nil {
		return nil, err
	}
	for {
		kind, err := a.byte()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		id, err := a.int()
		if err != nil {
			return nil, err
		}
		switch kind {
		case blkData:
			w := io.Discard
			if t := tables[id]; t != nil {
				w = &t.lines
			}
			if err := a.chunks(w); err != nil {
				return nil, err
			}
		case blkBlobs: // large objects: an OID, its chunks, ... up to OID 0
			for {
				oid, err := a.int()
				if err != nil {
					return nil, err
				}
				if oid == 0 {
					break
				}
				if err := a.chunks(io.Discard); err != nil {
					return nil, err
				}
			}
		default:
			return nil, fmt.Errorf("%w: block type %d", errArchiveUnsupported, kind)
		}
	}
	out := make(map[string]TableStat, len(tables))
	for _, t := range tables {
		out[t.table] = t.lines.stat(t.table)
	}
	return out, nil
}

// teeArchiveStats passes r through the reader it returns and reads the archive on the side. wait, called
// once that reader has been read to its end (readErr nil) or given up on (readErr the reason), returns what
// archiveTableStats found.
func teeArchiveStats(r io.Reader) (tee io.Reader, wait func(readErr error) (map[string]TableStat, error)) {
	pr, pw := io.Pipe()
	type result struct {
		tables map[string]TableStat
		err    error
	}
	done := make(chan result, 1)
	go func() {
		tables, err := archiveTableStats(pr)
		done <- result{tables, err}
	}()
	return io.TeeReader(r, pw), func(readErr error) (map[string]TableStat, error) {
		pw.CloseWithError(readErr)
		res := <-done
		return res.tables, res.err
	}
}
