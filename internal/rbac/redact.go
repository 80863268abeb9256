package rbac

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

const mask = "xxxxx"

// minSecretLen avoids masking one- or two-letter "passwords" all over a message, which would make it unreadable
// while protecting nothing.
const minSecretLen = 3

func rememberSecret(s string) {
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

// rememberSecrets finds the password values in a DSN by its text alone, so that they can be masked even
// when the DSN does not parse.
func rememberSecrets(dsn string) {
	for _, m := range kvPasswordRe.FindAllStringSubmatch(dsn, -1) {
		v := m[1]
		rememberSecret(v)
		if strings.HasPrefix(v, "'") {
			inner := strings.TrimSuffix(strings.TrimPrefix(v, "'"), "'")
			rememberSecret(inner)
			rememberSecret(strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(inner))
		}
	}
	if m := urlUserRe.FindStringSubmatch(dsn); m != nil {
		if _, pw, ok := strings.Cut(m[1], ":"); ok {
			rememberSecret(pw)
			if d, err := url.PathUnescape(pw); err == nil {
				rememberSecret(d)
			}
		}
	}
	for _, m := range urlQueryRe.FindAllStringSubmatch(dsn, -1) {
		rememberSecret(m[1])
		if d, err := url.QueryUnescape(m[1]); err == nil {
			rememberSecret(d)
		}
	}
}

// redact masks every known password, and the password of any postgres:// URL, in msg.
func redact(msg string) string {
	msg = urlInMsgRe.ReplaceAllString(msg, "$1:"+mask+"@")
	secretsMu.RLock()
	defer secretsMu.RUnlock()
	for s := range secrets {
		msg = strings.ReplaceAll(msg, s, mask)
	}
	return msg
}

// redactErr is err's message with passwords masked.
func redactErr(err error) string { return redact(err.Error()) }

// parseProblem is what is wrong with a DSN that pgx could not parse, without quoting the DSN: pgx's message
// is "cannot parse `<dsn>`: <problem>", and only the problem is useful (and safe) to show.
func parseProblem(err error) string {
	msg := err.Error()
	var pce *pgconn.ParseConfigError
	if errors.As(err, &pce) {
		if i := strings.LastIndex(msg, "`: "); i >= 0 {
			msg = msg[i+3:]
		}
	}
	return redact(msg)
}
