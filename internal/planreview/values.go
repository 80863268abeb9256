package planreview

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
)

// side picks the value before or after a change.
type side int

const (
	before side = iota
	after
)

// change is one resource instance's change with the lookups the rules need. Every value a rule prints goes
// through show, which never returns a value that before_sensitive/after_sensitive marks.
type change struct {
	rc     *tfjson.ResourceChange
	reason string // action_reason: why Terraform replaces or deletes
}

func (c *change) actions() tfjson.Actions { return c.rc.Change.Actions }

// lookup walks v along path. A list of one object on the way (a nested block in the JSON plan) is
// stepped into, so rules work whether a provider writes `retention` as a block or a nested attribute.
func lookup(v any, path ...string) (any, bool) {
	for _, p := range path {
		if l, ok := v.([]any); ok && len(l) == 1 {
			v = l[0]
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[p]; !ok {
			return nil, false
		}
	}
	return v, true
}

// marked reports whether the marks object (after_sensitive, before_sensitive, after_unknown) marks path
// or anything above it true. A mark on a list of one (a block) covers the block.
func marked(marks any, path ...string) bool {
	for _, p := range path {
		if b, ok := marks.(bool); ok {
			return b
		}
		if l, ok := marks.([]any); ok && len(l) == 1 {
			marks = l[0]
		}
		m, ok := marks.(map[string]any)
		if !ok {
			return false
		}
		marks = m[p]
	}
	return containsTrue(marks)
}

// containsTrue: a value whose marks hold any true below it (a map with one sensitive key) is treated as
// marked as a whole when printed.
func containsTrue(marks any) bool {
	switch m := marks.(type) {
	case bool:
		return m
	case []any:
		for _, e := range m {
			if containsTrue(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range m {
			if containsTrue(e) {
				return true
			}
		}
	}
	return false
}

func (c *change) get(s side, path ...string) any {
	var v any
	if s == before {
		v = c.rc.Change.Before
	} else {
		v = c.rc.Change.After
	}
	out, _ := lookup(v, path...)
	return out
}

func (c *change) sensitive(s side, path ...string) bool {
	if s == before {
		return marked(c.rc.Change.BeforeSensitive, path...)
	}
	return marked(c.rc.Change.AfterSensitive, path...)
}

func (c *change) unknown(path ...string) bool { return marked(c.rc.Change.AfterUnknown, path...) }

// show renders the value at path for a reader: "(sensitive)" when either marks say so, "(known after
// apply)" when unknown, "null" when absent.
func (c *change) show(s side, path ...string) string {
	if c.sensitive(s, path...) {
		return "(sensitive)"
	}
	if s == after && c.unknown(path...) {
		return "(known after apply)"
	}
	return format(c.get(s, path...))
}

func format(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("%q", x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = format(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}

// stringSet returns the strings of a list or set value.
func stringSet(v any) map[string]bool {
	out := map[string]bool{}
	l, _ := v.([]any)
	for _, e := range l {
		if s, ok := e.(string); ok {
			out[s] = true
		}
	}
	return out
}

// added returns, sorted, the members of the set at path after the change that were not in it before.
func (c *change) added(path ...string) []string { return c.only(after, before, path...) }

// removed returns, sorted, the members of the set at path before the change that are gone after it.
func (c *change) removed(path ...string) []string { return c.only(before, after, path...) }

// only returns the members of the set at path on side in that are not on side notIn; nothing while the
// value after the change is unknown.
func (c *change) only(in, notIn side, path ...string) []string {
	if c.unknown(path...) {
		return nil
	}
	have, other := stringSet(c.get(in, path...)), stringSet(c.get(notIn, path...))
	var out []string
	for s := range have {
		if !other[s] {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// members renders set members for a finding, or says how many when the set is sensitive.
func (c *change) members(s side, list []string, path ...string) string {
	if c.sensitive(s, path...) {
		return fmt.Sprintf("%d (sensitive)", len(list))
	}
	q := make([]string, len(list))
	for i, m := range list {
		q[i] = fmt.Sprintf("%q", m)
	}
	return strings.Join(q, ", ")
}
