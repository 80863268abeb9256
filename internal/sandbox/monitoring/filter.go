package monitoring

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// A filter is the subset of the Monitoring filter language (https://cloud.google.com/monitoring/api/v3/filters
// and https://cloud.google.com/monitoring/api/v3/sorting-and-filtering) the sandbox understands:
// comparisons joined by AND, each `field = "value"`, `field != "value"`, `field = starts_with("p")`,
// `field = ends_with("s")`, `field = has_substring("x")` or `field = true|false`. Anything else is
// INVALID_ARGUMENT rather than silently matching everything.
type filter []term

type term struct {
	field string
	neg   bool
	fn    string // "", starts_with, ends_with, has_substring
	value string
}

var (
	termRE = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(!=|=)\s*(.+?)\s*$`)
	fnRE   = regexp.MustCompile(`^(starts_with|ends_with|has_substring)\s*\(\s*("(?:[^"\\]|\\.)*")\s*\)$`)
)

func parseFilter(s string) (filter, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out filter
	for _, part := range splitAnd(s) {
		m := termRE.FindStringSubmatch(part)
		if m == nil {
			return nil, status.Errorf(codes.InvalidArgument, "could not parse filter term %q (the sandbox supports `field = \"value\"` terms joined by AND)", strings.TrimSpace(part))
		}
		t := term{field: m[1], neg: m[2] == "!="}
		v := m[3]
		switch {
		case strings.HasPrefix(v, `"`):
			u, err := strconv.Unquote(v)
			if err != nil {
				return nil, status.Errorf(codes.InvalidArgument, "bad string in filter term %q", part)
			}
			t.value = u
		case fnRE.MatchString(v):
			fm := fnRE.FindStringSubmatch(v)
			u, err := strconv.Unquote(fm[2])
			if err != nil {
				return nil, status.Errorf(codes.InvalidArgument, "bad string in filter term %q", part)
			}
			t.fn, t.value = fm[1], u
		case v == "true" || v == "false" || isNumber(v):
			t.value = v
		default:
			return nil, status.Errorf(codes.InvalidArgument, "could not parse value %q in filter term %q", v, part)
		}
		out = append(out, t)
	}
	return out, nil
}

func isNumber(v string) bool { _, err := strconv.ParseFloat(v, 64); return err == nil }

// splitAnd splits on the AND keyword outside double quotes.
func splitAnd(s string) []string {
	var parts []string
	inQ, esc, last := false, false, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case esc:
			esc = false
		case c == '\\' && inQ:
			esc = true
		case c == '"':
			inQ = !inQ
		case !inQ && i+5 <= len(s) && s[i:i+5] == " AND ":
			parts = append(parts, s[last:i])
			last = i + 5
			i += 4
		}
	}
	return append(parts, s[last:])
}

// match reports whether lookup(field) satisfies every term. lookup returns the field's string form and
// whether the field is known; an unknown field is INVALID_ARGUMENT.
func (f filter) match(lookup func(field string) (string, bool, bool)) (bool, error) {
	for _, t := range f {
		v, present, known := lookup(t.field)
		if !known {
			return false, status.Errorf(codes.InvalidArgument, "filter field %q is not supported here", t.field)
		}
		var ok bool
		switch t.fn {
		case "":
			ok = present && v == t.value
		case "starts_with":
			ok = present && strings.HasPrefix(v, t.value)
		case "ends_with":
			ok = present && strings.HasSuffix(v, t.value)
		case "has_substring":
			ok = present && strings.Contains(v, t.value)
		}
		if ok == t.neg {
			return false, nil
		}
	}
	return true, nil
}

// protoLookup resolves a dotted field path on a message: scalar fields, wrapper messages (enabled),
// enums (by name) and map keys (user_labels.team). Unknown fields are reported as not known.
func protoLookup(m proto.Message, aliases map[string]string) func(string) (string, bool, bool) {
	return func(field string) (string, bool, bool) {
		if a, ok := aliases[field]; ok {
			field = a
		}
		msg := m.ProtoReflect()
		parts := strings.Split(field, ".")
		for i, p := range parts {
			fd := msg.Descriptor().Fields().ByName(protoreflect.Name(p))
			if fd == nil {
				return "", false, false
			}
			if fd.IsMap() {
				if i != len(parts)-2 {
					return "", false, false
				}
				v := msg.Get(fd).Map().Get(protoreflect.ValueOfString(parts[i+1]).MapKey())
				if !v.IsValid() {
					return "", false, true
				}
				return v.String(), true, true
			}
			if fd.IsList() {
				return "", false, false
			}
			if fd.Message() != nil {
				sub := msg.Get(fd).Message()
				if i == len(parts)-1 {
					// wrappers such as google.protobuf.BoolValue
					if vf := fd.Message().Fields().ByName("value"); vf != nil && fd.Message().Fields().Len() == 1 {
						return fmt.Sprint(sub.Get(vf).Interface()), msg.Has(fd), true
					}
					return "", false, false
				}
				msg = sub
				continue
			}
			if i != len(parts)-1 {
				return "", false, false
			}
			v := msg.Get(fd)
			if fd.Enum() != nil {
				if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
					return string(ev.Name()), true, true
				}
			}
			return fmt.Sprint(v.Interface()), true, true
		}
		return "", false, false
	}
}
