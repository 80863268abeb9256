// Package logquery checks the syntax of the two small languages of Cloud Logging log-based metrics: the
// Logging query language of a metric's filter, and the extractor expressions (EXTRACT, REGEXP_EXTRACT) of
// its label_extractors and value_extractor. The provider checks them at plan time and the sandbox's
// Logging emulator refuses what they refuse, so both say the same thing about the same text.
//
// It checks syntax only, as far as the documentation lets it be checked faithfully: a filter that passes
// can still match nothing (unknown fields are not known here), and the values of comparisons are not
// typed. Sources: https://cloud.google.com/logging/docs/view/logging-query-language and the LogMetric
// proto comments (google/logging/v2/logging_metrics.proto).
package logquery

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxFilterLength is the documented bound of LogMetric.filter ("The maximum length of the filter is 20000
// characters").
const MaxFilterLength = 20000

// Error is a syntax error at a 1-based line and column of the checked text.
type Error struct {
	Line, Column int
	Msg          string
}

func (e *Error) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

type tokKind int

const (
	tkEOF tokKind = iota
	tkLParen
	tkRParen
	tkComma
	tkOp    // = != > < >= <= : =~ !~
	tkAnd   // AND
	tkOr    // OR
	tkNot   // NOT or a leading -
	tkValue // a field path, a bare literal or a quoted string (adjacent pieces joined)
)

type token struct {
	kind tokKind
	text string
	pos  int // byte offset
}

type lexer struct {
	src  string
	pos  int
	toks []token
}

// isBreak reports the characters that end a bare literal.
func isBreak(r rune, allowColon bool) bool {
	if unicode.IsSpace(r) {
		return true
	}
	switch r {
	case '(', ')', ',', '"', '=', '<', '>', '!':
		return true
	case ':':
		return !allowColon
	}
	return false
}

func (l *lexer) errAt(pos int, format string, args ...any) *Error {
	line, col := 1, 1
	for i, r := range l.src {
		if i >= pos {
			break
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return &Error{Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

// lex splits the filter into tokens. A bare literal that directly follows a comparison operator may hold
// colons (timestamps, URLs), as the operator's right-hand side.
func (l *lexer) lex() *Error {
	for l.pos < len(l.src) {
		r, w := utf8.DecodeRuneInString(l.src[l.pos:])
		switch {
		case unicode.IsSpace(r):
			l.pos += w
			continue
		case strings.HasPrefix(l.src[l.pos:], "--"):
			// A comment runs to the end of the line.
			if i := strings.IndexByte(l.src[l.pos:], '\n'); i >= 0 {
				l.pos += i
			} else {
				l.pos = len(l.src)
			}
			continue
		case r == '(':
			l.toks = append(l.toks, token{tkLParen, "(", l.pos})
			l.pos++
			continue
		case r == ')':
			l.toks = append(l.toks, token{tkRParen, ")", l.pos})
			l.pos++
			continue
		case r == ',':
			l.toks = append(l.toks, token{tkComma, ",", l.pos})
			l.pos++
			continue
		}
		for _, op := range []string{">=", "<=", "!=", "=~", "!~", "=", "<", ">", ":"} {
			if strings.HasPrefix(l.src[l.pos:], op) {
				l.toks = append(l.toks, token{tkOp, op, l.pos})
				l.pos += len(op)
				goto next
			}
		}
		if r == '!' {
			return l.errAt(l.pos, "unexpected '!': the operators are =, !=, <, <=, >, >=, :, =~ and !~")
		}
		if r == '-' && l.pos+1 < len(l.src) && !isBreak(rune(l.src[l.pos+1]), false) && l.startsOperand() {
			l.toks = append(l.toks, token{tkNot, "-", l.pos})
			l.pos++
			continue
		}
		if err := l.value(); err != nil {
			return err
		}
	next:
	}
	l.toks = append(l.toks, token{tkEOF, "", len(l.src)})
	return nil
}

// startsOperand reports whether a '-' here negates the next operand (it stands where an operand starts)
// rather than being part of a literal after an operator.
func (l *lexer) startsOperand() bool {
	if len(l.toks) == 0 {
		return true
	}
	switch l.toks[len(l.toks)-1].kind {
	case tkOp, tkComma:
		return false
	}
	return true
}

// value reads adjacent bare pieces and quoted strings as one token: labels."k8s-pod/app", "a b", x.y.
func (l *lexer) value() *Error {
	start := l.pos
	allowColon := len(l.toks) > 0 && l.toks[len(l.toks)-1].kind == tkOp
	var b strings.Builder
	for l.pos < len(l.src) {
		r, w := utf8.DecodeRuneInString(l.src[l.pos:])
		if r == '"' {
			end, err := l.quoted(l.pos)
			if err != nil {
				return err
			}
			b.WriteString(l.src[l.pos:end])
			l.pos = end
			continue
		}
		if isBreak(r, allowColon) {
			break
		}
		b.WriteRune(r)
		l.pos += w
	}
	if l.pos == start {
		return l.errAt(start, "unexpected character %q", l.src[start:start+1])
	}
	text := b.String()
	kind := tkValue
	switch text {
	case "AND":
		kind = tkAnd
	case "OR":
		kind = tkOr
	case "NOT":
		kind = tkNot
	}
	l.toks = append(l.toks, token{kind, text, start})
	return nil
}

// quoted returns the offset just past the string literal that starts at pos.
func (l *lexer) quoted(pos int) (int, *Error) {
	for i := pos + 1; i < len(l.src); i++ {
		switch l.src[i] {
		case '\\':
			i++
		case '"':
			return i + 1, nil
		}
	}
	return 0, l.errAt(pos, "unterminated string: the quote here is never closed")
}

type parser struct {
	l *lexer
	i int
}

func (p *parser) peek() token { return p.l.toks[p.i] }
func (p *parser) next() token { t := p.l.toks[p.i]; p.i++; return t }

// expr := unary { [AND | OR] unary }   (juxtaposition is an implicit AND)
func (p *parser) expr(closing bool) *Error {
	if err := p.unary(); err != nil {
		return err
	}
	for {
		t := p.peek()
		switch t.kind {
		case tkEOF:
			return nil
		case tkRParen:
			if closing {
				return nil
			}
			return p.l.errAt(t.pos, "unbalanced parentheses: ')' without a matching '('")
		case tkComma:
			if closing {
				return nil
			}
			return p.l.errAt(t.pos, "unexpected ','")
		case tkAnd, tkOr:
			p.next()
			if n := p.peek(); n.kind == tkEOF || n.kind == tkRParen || n.kind == tkAnd || n.kind == tkOr {
				return p.l.errAt(t.pos, "%s has nothing after it", t.text)
			}
		}
		if err := p.unary(); err != nil {
			return err
		}
	}
}

func (p *parser) unary() *Error {
	t := p.peek()
	switch t.kind {
	case tkNot:
		p.next()
		if n := p.peek(); n.kind == tkEOF || n.kind == tkRParen {
			return p.l.errAt(t.pos, "%s has nothing after it", t.text)
		}
		return p.unary()
	case tkAnd, tkOr:
		return p.l.errAt(t.pos, "%s has nothing before it", t.text)
	}
	return p.primary()
}

func (p *parser) group() *Error {
	open := p.next()
	if p.peek().kind == tkRParen {
		return p.l.errAt(open.pos, "empty parentheses")
	}
	if err := p.expr(true); err != nil {
		return err
	}
	switch t := p.peek(); t.kind {
	case tkRParen:
		p.next()
		return nil
	case tkComma:
		return p.l.errAt(t.pos, "unexpected ','")
	}
	return p.l.errAt(open.pos, "unbalanced parentheses: this '(' is never closed")
}

// primary := '(' expr ')' | operand [op rhs]
func (p *parser) primary() *Error {
	t := p.peek()
	switch t.kind {
	case tkLParen:
		return p.group()
	case tkValue:
		if err := p.operand(); err != nil {
			return err
		}
		if op := p.peek(); op.kind == tkOp {
			p.next()
			switch r := p.peek(); r.kind {
			case tkLParen:
				return p.group()
			case tkValue:
				return p.operand()
			case tkNot:
				if r.text == "NOT" {
					return p.l.errAt(op.pos, "comparison operator '%s' has no value", op.text)
				}
				return p.operand()
			default:
				return p.l.errAt(op.pos, "comparison operator '%s' has no value", op.text)
			}
		}
		return nil
	case tkOp:
		return p.l.errAt(t.pos, "comparison operator '%s' has no field before it", t.text)
	case tkRParen:
		return p.l.errAt(t.pos, "unbalanced parentheses: ')' without a matching '('")
	case tkComma:
		return p.l.errAt(t.pos, "unexpected ','")
	case tkEOF:
		return p.l.errAt(t.pos, "the filter ends where a restriction is expected")
	}
	return p.l.errAt(t.pos, "unexpected %q", t.text)
}

// operand := value [ '(' args ')' ]   (a function call such as sample(insertId, 0.1) or log_id("x"))
func (p *parser) operand() *Error {
	v := p.next()
	if v.kind == tkNot { // a negative number after an operator: "-5"
		if n := p.peek(); n.kind == tkValue {
			p.next()
		}
		return nil
	}
	if n := p.peek(); n.kind == tkLParen && n.pos == v.pos+len(v.text) {
		open := p.next()
		if p.peek().kind == tkRParen {
			p.next()
			return nil
		}
		for {
			if err := p.expr(true); err != nil {
				return err
			}
			switch t := p.next(); t.kind {
			case tkRParen:
				return nil
			case tkComma:
				continue
			default:
				return p.l.errAt(open.pos, "unbalanced parentheses: the arguments of %s( are never closed", v.text)
			}
		}
	}
	return nil
}

// CheckFilter reports the first syntax error of a Logging query language filter, or nil. An empty (or
// only whitespace and comments) filter is an error: a log-based metric's filter is required.
func CheckFilter(filter string) error {
	if strings.TrimSpace(filter) == "" {
		return &Error{Line: 1, Column: 1, Msg: "the filter is empty"}
	}
	if n := utf8.RuneCountInString(filter); n > MaxFilterLength {
		return &Error{Line: 1, Column: 1, Msg: fmt.Sprintf("the filter has %d characters; at most %d are allowed", n, MaxFilterLength)}
	}
	l := &lexer{src: filter}
	if err := l.lex(); err != nil {
		return err
	}
	if len(l.toks) == 1 {
		return &Error{Line: 1, Column: 1, Msg: "the filter has only comments"}
	}
	p := &parser{l: l}
	if err := p.expr(false); err != nil {
		return err
	}
	return nil
}

var (
	extractorRE  = regexp.MustCompile(`^\s*([A-Za-z_]+)\s*\((.*)\)\s*$`)
	bareSegment  = regexp.MustCompile(`^[A-Za-z0-9_@-]+$`)
	firstSegment = regexp.MustCompile(`^[A-Za-z]`)
)

// CheckExtractor reports why expr is not an extractor expression of a log-based metric, or nil:
// EXTRACT(field) or REGEXP_EXTRACT(field, "regex") where field is a log entry field path
// (jsonPayload.user, labels."k8s-pod/app") and regex an RE2 expression with exactly one capture group
// ("It is an error to specify a regex that does not include exactly one capture group").
func CheckExtractor(expr string) error {
	m := extractorRE.FindStringSubmatch(expr)
	if m == nil {
		return fmt.Errorf(`%q is not an extractor: write EXTRACT(field) or REGEXP_EXTRACT(field, "regex with one (group)")`, expr)
	}
	fn, args := m[1], m[2]
	switch fn {
	case "EXTRACT":
		if err := checkFieldPath(strings.TrimSpace(args)); err != nil {
			return fmt.Errorf("EXTRACT: %w", err)
		}
		return nil
	case "REGEXP_EXTRACT":
		field, rest, ok := splitFieldArg(args)
		if !ok {
			return fmt.Errorf(`REGEXP_EXTRACT takes two arguments, a field and a quoted regex: REGEXP_EXTRACT(jsonPayload.msg, "user=(\\w+)")`)
		}
		if err := checkFieldPath(field); err != nil {
			return fmt.Errorf("REGEXP_EXTRACT: %w", err)
		}
		re, err := unquote(strings.TrimSpace(rest))
		if err != nil {
			return fmt.Errorf("REGEXP_EXTRACT: the second argument %w", err)
		}
		c, err := regexp.Compile(re)
		if err != nil {
			return fmt.Errorf("REGEXP_EXTRACT: the regex %q does not compile as RE2: %v", re, err)
		}
		if n := c.NumSubexp(); n != 1 {
			return fmt.Errorf("REGEXP_EXTRACT: the regex %q has %d capture groups; it must have exactly one", re, n)
		}
		return nil
	}
	return fmt.Errorf("%s is not an extractor function: only EXTRACT and REGEXP_EXTRACT exist", fn)
}

// splitFieldArg splits "field, rest" at the first comma outside a quoted segment of the field.
func splitFieldArg(args string) (field, rest string, ok bool) {
	inQuote := false
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case '\\':
			if inQuote {
				i++
			}
		case '"':
			inQuote = !inQuote
		case ',':
			if !inQuote {
				return strings.TrimSpace(args[:i]), args[i+1:], true
			}
		}
	}
	return "", "", false
}

// unquote reads a double-quoted string in which \" stands for a quote; other backslashes are kept, as
// RE2 reads them (REGEXP_EXTRACT(jsonPayload.request, ".*quantity=(\d+).*") is the documented example).
func unquote(s string) (string, error) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", fmt.Errorf("must be a double-quoted string, got %s", s)
	}
	body := s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		if body[i] == '\\' && i+1 < len(body) && body[i+1] == '"' {
			b.WriteByte('"')
			i++
			continue
		}
		if body[i] == '"' {
			return "", fmt.Errorf("has an unescaped quote inside it")
		}
		b.WriteByte(body[i])
	}
	return b.String(), nil
}

// checkFieldPath accepts a dotted log entry field path whose segments are bare (letters, digits, _, @, -)
// or double-quoted; the first starts with a letter.
func checkFieldPath(path string) error {
	if path == "" {
		return fmt.Errorf("the field is empty")
	}
	var segs []string
	for rest := path; ; {
		var seg string
		if strings.HasPrefix(rest, `"`) {
			end := -1
			for i := 1; i < len(rest); i++ {
				if rest[i] == '\\' {
					i++
					continue
				}
				if rest[i] == '"' {
					end = i
					break
				}
			}
			if end < 0 {
				return fmt.Errorf("the field %s has an unterminated quoted segment", path)
			}
			seg, rest = rest[:end+1], rest[end+1:]
			if len(seg) == 2 {
				return fmt.Errorf("the field %s has an empty quoted segment", path)
			}
		} else {
			i := strings.IndexByte(rest, '.')
			if i < 0 {
				i = len(rest)
			}
			seg, rest = rest[:i], rest[i:]
			if !bareSegment.MatchString(seg) {
				return fmt.Errorf("%q is not a log entry field path (segments of letters, digits, _, @ or -, "+
					"separated by dots; quote a segment with other characters: labels.\"k8s-pod/app\")", path)
			}
		}
		segs = append(segs, seg)
		if rest == "" {
			break
		}
		if rest[0] != '.' || len(rest) == 1 {
			return fmt.Errorf("%q is not a log entry field path: segments are separated by single dots", path)
		}
		rest = rest[1:]
	}
	if !firstSegment.MatchString(segs[0]) {
		return fmt.Errorf("%q is not a log entry field path: it must start with a field name such as jsonPayload, textPayload, labels, httpRequest or resource", path)
	}
	return nil
}
