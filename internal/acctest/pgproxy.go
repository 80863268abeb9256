package acctest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// PGProxy is a TCP proxy in front of PostgreSQL that can lose the reply to a COMMIT: the server commits,
// then the connection breaks before the client hears it, as when the network drops between a provider
// and its database. It is the database's form of the sandbox's lost_reply fault. It speaks just enough of
// the wire protocol (v3, without TLS: the harness's DSNs have sslmode=disable) to see statements and COMMITs.
type PGProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	armed []string // each entry loses the reply of one COMMIT of a transaction that ran a statement containing it
	lost  []string // the entries that did
}

// StartPGProxy starts a proxy to the server of dsn (a URL) and returns it with the DSN that goes through it.
func StartPGProxy(t testing.TB, dsn string) (*PGProxy, string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("PGProxy: parsing the DSN: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &PGProxy{ln: ln, target: u.Host}
	t.Cleanup(func() { _ = ln.Close() })
	go p.serve()
	u.Host = ln.Addr().String()
	return p, u.String()
}

// LoseCommitReply arms the proxy: for each statement fragment given, the next COMMIT of a transaction that
// ran a statement containing it is applied by the server and its reply lost (the connection is closed).
func (p *PGProxy) LoseCommitReply(fragments ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.armed = append(p.armed, fragments...)
}

// Lost returns the fragments whose COMMIT reply was lost so far.
func (p *PGProxy) Lost() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lost...)
}

func (p *PGProxy) matching(sql string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.armed {
		if strings.Contains(sql, f) {
			return f
		}
	}
	return ""
}

// take disarms fragment f and records it as lost; false when another transaction took it first.
func (p *PGProxy) take(f string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, a := range p.armed {
		if a == f {
			p.armed = append(p.armed[:i], p.armed[i+1:]...)
			p.lost = append(p.lost, f)
			return true
		}
	}
	return false
}

func (p *PGProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		var drop atomic.Bool
		closeBoth := func() { _ = c.Close(); _ = s.Close() }
		go func() { defer closeBoth(); p.frontend(c, s, &drop) }()
		go func() { defer closeBoth(); backend(s, c, &drop) }()
	}
}

// frontend copies the client's messages to the server, noting the statements of the open transaction. When
// one matched an armed fragment, the COMMIT that ends it sets drop before it is forwarded.
func (p *PGProxy) frontend(c, s net.Conn, drop *atomic.Bool) {
	var hdr [4]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil { // the startup message has no type byte
		return
	}
	startup := make([]byte, binary.BigEndian.Uint32(hdr[:])-4)
	if _, err := io.ReadFull(c, startup); err != nil {
		return
	}
	if _, err := s.Write(append(hdr[:], startup...)); err != nil {
		return
	}
	stmts := map[string]string{} // prepared statement name -> text
	pending := ""                // the armed fragment the open transaction ran
	note := func(sql string) {
		if f := p.matching(sql); f != "" {
			pending = f
		}
	}
	for {
		typ, body, err := readMessage(c)
		if err != nil {
			return
		}
		switch typ {
		case 'P': // Parse: statement name, query
			parts := bytes.SplitN(body, []byte{0}, 3)
			if len(parts) == 3 {
				stmts[string(parts[0])] = string(parts[1])
				note(string(parts[1]))
			}
		case 'B': // Bind: portal name, statement name
			parts := bytes.SplitN(body, []byte{0}, 3)
			if len(parts) == 3 {
				note(stmts[string(parts[1])])
			}
		case 'Q': // simple query
			sql := strings.ToLower(strings.TrimSpace(strings.TrimRight(string(body), "\x00")))
			switch {
			case sql == "commit" || sql == "end":
				if pending != "" && p.take(pending) {
					drop.Store(true)
				}
				pending = ""
			case strings.HasPrefix(sql, "begin") || sql == "rollback":
				pending = ""
			default:
				note(string(body))
			}
		}
		if err := writeMessage(s, typ, body); err != nil {
			return
		}
	}
}

// backend copies the server's messages to the client until drop is set and the server has confirmed the
// COMMIT: then the connection breaks, reply unsent.
func backend(s, c net.Conn, drop *atomic.Bool) {
	for {
		typ, body, err := readMessage(s)
		if err != nil {
			return
		}
		if typ == 'C' && drop.Load() && bytes.HasPrefix(body, []byte("COMMIT")) {
			return
		}
		if err := writeMessage(c, typ, body); err != nil {
			return
		}
	}
}

func readMessage(r io.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n < 4 || n > 1<<30 {
		return 0, nil, errors.New("PGProxy: bad message length")
	}
	body := make([]byte, n-4)
	_, err := io.ReadFull(r, body)
	return hdr[0], body, err
}

func writeMessage(w io.Writer, typ byte, body []byte) error {
	msg := make([]byte, 5, 5+len(body))
	msg[0] = typ
	binary.BigEndian.PutUint32(msg[1:], uint32(len(body)+4))
	_, err := w.Write(append(msg, body...))
	return err
}
