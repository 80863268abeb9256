// Package pgredact masks PostgreSQL passwords in error messages. Every area that connects with a DSN
// remembers it here; every message it shows passes through Redact.
package pgredact

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
)

// Passwords of every DSN this process has seen. Error messages pass through redactErr, which masks them
// wherever they appear, whatever produced the message. pgx masks passwords in the connection strings it
// quotes, but only on a best-effort basis: it misses `password = secret` (spaces around =) and quoted
// values with escaped quotes.
var (
	secretsMu sync.RWMutex
	secrets   = map[string]struct{}{}
)

// Mask replaces a password in a message.
const Mask = "xxxxx"

// minSecretLen avoids masking one- or two-letter "passwords" all over a message, which would make it unreadable
// while protecting nothing.
const minSecretLen = 3

// RememberPassword remembers one password (and its URL-escaped forms) to mask.
func RememberPassword(s string) {
	if len(s) < minSecretLen {
		return
	}
	secretsMu.Lock()
	defer secretsMu.Unlock()
	secrets[s] = struct{}{}
	if e := url.QueryEscape(s); e != s {
		secrets[e] = struct{}{}
	}
	if e := url.PathEscape(s); e != s {
		secrets[e] = struct{}{}
	}
}

var (
	kvPasswordRe = regexp.MustCompile(`(?i)(?:^|\s)(?:ssl)?password\s*=\s*('(?:[^'\\]|\\.)*'?|\S*)`)
	urlUserRe    = regexp.MustCompile(`(?i)^postgres(?:ql)?://([^@/]*)@`)
	urlQueryRe   = regexp.MustCompile(`(?i)[?&](?:ssl)?password=([^&#]*)`)
	urlInMsgRe   = regexp.MustCompile(`(?i)(postgres(?:ql)?://[^:/@\s` + "`" + `]*):[^@\s` + "`" + `]*@`)
)

// Remember finds the password values in a DSN by its text alone, so that they can be masked even
// when the DSN does not parse.
func Remember(dsn string) {
	for _, m := range kvPasswordRe.FindAllStringSubmatch(dsn, -1) {
		v := m[1]
		RememberPassword(v)
		if strings.HasPrefix(v, "'") {
			inner := strings.TrimSuffix(strings.TrimPrefix(v, "'"), "'")
			RememberPassword(inner)
			RememberPassword(strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(inner))
		}
	}
	if m := urlUserRe.FindStringSubmatch(dsn); m != nil {
		if _, pw, ok := strings.Cut(m[1], ":"); ok {
			RememberPassword(pw)
			if d, err := url.PathUnescape(pw); err == nil {
				RememberPassword(d)
			}
		}
	}
	for _, m := range urlQueryRe.FindAllStringSubmatch(dsn, -1) {
		RememberPassword(m[1])
		if d, err := url.QueryUnescape(m[1]); err == nil {
			RememberPassword(d)
		}
	}
}

// Redact masks every known password, and the password of any postgres:// URL, in msg.
func Redact(msg string) string {
	msg = urlInMsgRe.ReplaceAllString(msg, "$1:"+Mask+"@")
	secretsMu.RLock()
	defer secretsMu.RUnlock()
	for s := range secrets {
		msg = strings.ReplaceAll(msg, s, Mask)
	}
	return msg
}

// RedactErr is err's message with passwords masked.
func RedactErr(err error) string { return Redact(err.Error()) }

// ParseProblem is what is wrong with a DSN that pgx could not parse, without quoting the DSN: pgx's message
// is "cannot parse `<dsn>`: <problem>", and only the problem is useful (and safe) to show.
func ParseProblem(err error) string {
	msg := err.Error()
	var pce *pgconn.ParseConfigError
	if errors.As(err, &pce) {
		if i := strings.LastIndex(msg, "`: "); i >= 0 {
			msg = msg[i+3:]
		}
	}
	return Redact(msg)
}
