package planreview

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Severity orders findings; --fail-on compares against it.
type Severity int

// Severities, lowest first.
const (
	Info Severity = iota
	Medium
	High
)

func (s Severity) String() string {
	switch s {
	case High:
		return "high"
	case Medium:
		return "medium"
	default:
		return "info"
	}
}

// ParseSeverity reads "high", "medium" or "info".
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "high":
		return High, nil
	case "medium":
		return Medium, nil
	case "info":
		return Info, nil
	}
	return Info, fmt.Errorf("unknown severity %q: use high, medium or info", s)
}

// Rule is one line of the severity table: what it looks at, when it fires, and how bad that is. Rules is
// the one table; docs/guides/plan-review.md shows it, and a test keeps the two equal.
type Rule struct {
	ID       string
	Severity Severity
	// Types are the resource types the rule reads; "*" is any.
	Types []string
	// When says, for the docs, what makes the rule fire.
	When string
	// check returns one message per finding for a change of one of Types.
	check func(c *change) []string
}

// Stateful resource types: replacing or deleting one loses data or an ongoing duty.
var stateful = map[string]string{
	"alfred_qdrant_collection":     "its points and payloads are lost",
	"alfred_supabase_read_replica": "the replica is dropped and rebuilt from the primary; reads routed to it fail meanwhile",
	"alfred_backup_policy":         "its scheduled backups stop (the runner job and its schedule are deleted)",
	"alfred_backup":                "the backup set is removed unless retain_on_destroy is true",
}

var statefulTypes = []string{"alfred_qdrant_collection", "alfred_supabase_read_replica", "alfred_backup_policy", "alfred_backup"}

// Rules is the severity table, in the order findings of one resource are reported.
var Rules = []Rule{
	{ID: "stateful-replaced", Severity: High, Types: statefulTypes,
		When: "the resource is replaced (destroyed and created again): its data or duty is recreated from nothing",
		check: func(c *change) []string {
			if !c.actions().Replace() {
				return nil
			}
			msg := "replaced: " + stateful[c.rc.Type]
			if p := c.replacePaths(); p != "" {
				msg += "; forced by " + p
			}
			return []string{msg + c.because()}
		}},
	{ID: "stateful-deleted", Severity: High, Types: statefulTypes,
		When: "the resource is destroyed (removed from the configuration, or `terraform destroy`)",
		check: func(c *change) []string {
			if !c.actions().Delete() {
				return nil
			}
			msg := "deleted: " + stateful[c.rc.Type]
			if c.rc.Type == "alfred_backup" && c.get(before, "retain_on_destroy") == true {
				msg = "deleted from state: retain_on_destroy is true, so the backup set stays in the bucket"
			}
			return []string{msg + c.because()}
		}},
	{ID: "backup-encryption-removed", Severity: High, Types: []string{"alfred_backup_policy"},
		When: "`encryption_key` is removed: new backups are written unencrypted",
		check: func(c *change) []string {
			if c.actions().Delete() || c.actions().Create() && !c.actions().Replace() || c.unknown("encryption_key") {
				return nil
			}
			if c.get(before, "encryption_key") != nil && c.get(after, "encryption_key") == nil {
				return []string{"encryption_key removed: new backups are written without client-side encryption"}
			}
			return nil
		}},
	{ID: "backup-sse-weakened", Severity: Medium, Types: []string{"alfred_backup_policy"},
		When: "`destination.sse` is removed or moves from `aws:kms` to `AES256`, or `destination.kms_key_id` is removed",
		check: func(c *change) []string {
			if !c.updates() {
				return nil
			}
			var out []string
			was, now := c.get(before, "destination", "sse"), c.get(after, "destination", "sse")
			if !c.unknown("destination", "sse") && was != nil && was != now && sseRank(now) < sseRank(was) {
				out = append(out, fmt.Sprintf("destination.sse weakened: %s -> %s",
					c.show(before, "destination", "sse"), c.show(after, "destination", "sse")))
			}
			if !c.unknown("destination", "kms_key_id") && c.get(before, "destination", "kms_key_id") != nil &&
				c.get(after, "destination", "kms_key_id") == nil {
				out = append(out, "destination.kms_key_id removed: objects are no longer encrypted with the customer-managed key")
			}
			return out
		}},
	{ID: "backup-retention-shortened", Severity: Medium, Types: []string{"alfred_backup_policy"},
		When: "`retention.keep_last` is lowered or `retention.max_age` shortened (or either set where it was unset): older backups are pruned",
		check: func(c *change) []string {
			if !c.updates() {
				return nil
			}
			var out []string
			for _, attr := range []string{"keep_last", "max_age"} {
				if c.unknown("retention", attr) {
					continue
				}
				was, now := c.get(before, "retention", attr), c.get(after, "retention", attr)
				if now == nil || format(was) == format(now) {
					continue
				}
				shorter, comparable := true, was != nil
				if comparable {
					shorter, comparable = less(attr, now, was)
				}
				if shorter || !comparable {
					note := ""
					if !comparable && was != nil {
						note = " (could not compare the two values: check by hand)"
					}
					out = append(out, fmt.Sprintf("retention.%s shortened: %s -> %s%s", attr,
						c.show(before, "retention", attr), c.show(after, "retention", attr), note))
				}
			}
			return out
		}},
	{ID: "agent-made-public", Severity: High, Types: []string{"alfred_agent_service"},
		When: "`invokers` gains `allUsers` or `allAuthenticatedUsers` (on create or update): anyone can call the agent",
		check: func(c *change) []string {
			if c.actions().Delete() && !c.actions().Replace() {
				return nil
			}
			var public []string
			for _, m := range c.added("invokers") {
				if m == "allUsers" || m == "allAuthenticatedUsers" {
					public = append(public, m)
				}
			}
			if len(public) == 0 {
				return nil
			}
			return []string{"made public: invokers gain " + c.members(after, public, "invokers")}
		}},
	{ID: "agent-ingress-widened", Severity: High, Types: []string{"alfred_agent_service"},
		When: "`ingress` widens: `internal` -> `internal-and-cloud-load-balancing` -> `all`",
		check: func(c *change) []string {
			if !c.updates() || c.unknown("ingress") {
				return nil
			}
			was, now := c.get(before, "ingress"), c.get(after, "ingress")
			if ingressRank(now) > ingressRank(was) {
				return []string{fmt.Sprintf("ingress widened: %s -> %s", c.show(before, "ingress"), c.show(after, "ingress"))}
			}
			return nil
		}},
	{ID: "rbac-permissions-widened", Severity: High, Types: []string{"alfred_rbac_role"},
		When:  "a role's `permissions` gain a member (on update): every holder of the role gains it",
		check: gained("permissions", "permissions widened: gains ")},
	{ID: "rbac-inheritance-added", Severity: High, Types: []string{"alfred_rbac_role"},
		When:  "a role's `inherits` gains a role (on update): its holders gain every permission of that role",
		check: gained("inherits", "inheritance added: now inherits ")},
	{ID: "rbac-table-policy-dropped", Severity: High, Types: []string{"alfred_rbac_table_policy"},
		When: "a table policy is destroyed or replaced: the table's rows are guarded by the application's policies alone (meanwhile, for a replacement)",
		check: func(c *change) []string {
			switch {
			case c.actions().Replace():
				return []string{"table policy replaced: dropped and created again" + c.because()}
			case c.actions().Delete():
				return []string{"table policy dropped: the table is left to the application's own policies" + c.because()}
			}
			return nil
		}},
	{ID: "rbac-table-policy-changed", Severity: High, Types: []string{"alfred_rbac_table_policy"},
		When: "a table policy's `select_permission`, `insert_permission`, `update_permission`, `delete_permission` or `owner_column` changes",
		check: func(c *change) []string {
			if !c.updates() {
				return nil
			}
			var out []string
			for _, attr := range []string{"select_permission", "insert_permission", "update_permission", "delete_permission", "owner_column"} {
				if c.unknown(attr) || format(c.get(before, attr)) == format(c.get(after, attr)) {
					continue
				}
				out = append(out, fmt.Sprintf("%s changed: %s -> %s", attr, c.show(before, attr), c.show(after, attr)))
			}
			return out
		}},
	{ID: "alert-disabled", Severity: Medium, Types: []string{"alfred_alert_policy"},
		When: "an alert policy's `enabled` goes from true to false",
		check: func(c *change) []string {
			if c.switchedOff("enabled") {
				return []string{"alert disabled: enabled true -> false"}
			}
			return nil
		}},
	{ID: "alert-channels-removed", Severity: Medium, Types: []string{"alfred_alert_policy"},
		When: "an alert policy loses a member of `notification_channels`: nobody is told when it fires",
		check: func(c *change) []string {
			if !c.updates() {
				return nil
			}
			if gone := c.removed("notification_channels"); len(gone) > 0 {
				msg := "notification channels removed: " + c.members(before, gone, "notification_channels")
				if len(stringSet(c.get(after, "notification_channels"))) == 0 {
					msg += " (none left)"
				}
				return []string{msg}
			}
			return nil
		}},
	{ID: "alert-deleted", Severity: Medium, Types: []string{"alfred_alert_policy"},
		When: "an alert policy is destroyed",
		check: func(c *change) []string {
			if c.actions().Delete() && !c.actions().Replace() {
				return []string{"alert policy deleted" + c.because()}
			}
			return nil
		}},
	{ID: "deletion-protection-off", Severity: Medium, Types: []string{"*"},
		When: "`deletion_protection` goes from true to false: the next change may destroy the resource",
		check: func(c *change) []string {
			if c.switchedOff("deletion_protection") {
				return []string{"deletion protection turned off"}
			}
			return nil
		}},
	{ID: "image-bump", Severity: Info, Types: []string{"alfred_agent_service"},
		When: "an agent's `image` changes: a new revision rolls out",
		check: func(c *change) []string {
			if !c.updates() || format(c.get(before, "image")) == format(c.get(after, "image")) && !c.unknown("image") {
				return nil
			}
			return []string{fmt.Sprintf("image: %s -> %s", c.show(before, "image"), c.show(after, "image"))}
		}},
	{ID: "moved", Severity: Info, Types: []string{"*"},
		When: "the address changes (a `moved` block) and the object is kept: a rename, not a replacement",
		check: func(c *change) []string {
			prev := c.rc.PreviousAddress
			if prev == "" || prev == c.rc.Address || c.actions().Replace() || c.actions().Delete() {
				return nil
			}
			return []string{"moved from " + prev + ": renamed only, the object is kept"}
		}},
}

// gained reports, on an update, the members the set attr gains.
func gained(attr, prefix string) func(c *change) []string {
	return func(c *change) []string {
		if !c.updates() {
			return nil
		}
		if add := c.added(attr); len(add) > 0 {
			return []string{prefix + c.members(after, add, attr)}
		}
		return nil
	}
}

// switchedOff: an update turns the boolean attr from true to false.
func (c *change) switchedOff(attr string) bool {
	return c.updates() && !c.unknown(attr) && c.get(before, attr) == true && c.get(after, attr) == false
}

// updates: the object is kept and changed (an update, or a no-op for rules that look at moves).
func (c *change) updates() bool { return c.actions().Update() }

func (c *change) because() string {
	if c.rc.DeposedKey != "" {
		return " (deposed object " + c.rc.DeposedKey + ")"
	}
	if r, ok := reasons[c.reason]; ok {
		return " (" + r + ")"
	}
	return ""
}

// reasons translates action_reason (Terraform's JSON output format, resource_changes[].action_reason).
var reasons = map[string]string{
	"replace_because_tainted":           "the object is tainted",
	"replace_because_cannot_update":     "the provider cannot change it in place",
	"replace_by_request":                "replacement requested with -replace",
	"replace_by_triggers":               "replace_triggered_by fired",
	"delete_because_no_resource_config": "its configuration was removed",
	"delete_because_no_module":          "its module was removed",
	"delete_because_wrong_repetition":   "count/for_each changed form",
	"delete_because_count_index":        "count shrank",
	"delete_because_each_key":           "its for_each key is gone",
	"delete_because_no_move_target":     "a moved block points nowhere",
}

// replacePaths renders replace_paths (the attributes that force the replacement) as attribute paths; the
// keys below a sensitive value are not shown.
func (c *change) replacePaths() string {
	var out []string
	for _, p := range c.rc.Change.ReplacePaths {
		steps, _ := p.([]any)
		var b strings.Builder
		var names []string
		for _, s := range steps {
			if len(names) > 0 && c.sensitive(before, names...) {
				b.WriteString("[(sensitive)]")
				break
			}
			switch x := s.(type) {
			case string:
				if identifier.MatchString(x) {
					if b.Len() > 0 {
						b.WriteByte('.')
					}
					b.WriteString(x)
				} else {
					fmt.Fprintf(&b, "[%q]", x)
				}
				names = append(names, x)
			case float64:
				fmt.Fprintf(&b, "[%d]", int(x))
				names = append(names, strconv.Itoa(int(x)))
			}
		}
		if b.Len() > 0 {
			out = append(out, b.String())
		}
	}
	return strings.Join(out, ", ")
}

var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

var ingressOrder = map[string]int{"internal": 1, "internal-and-cloud-load-balancing": 2, "all": 3}

func ingressRank(v any) int {
	s, _ := v.(string)
	return ingressOrder[s]
}

func sseRank(v any) int {
	s, _ := v.(string)
	switch strings.ToLower(s) {
	case "aws:kms", "aws:kms:dsse":
		return 2
	case "aes256":
		return 1
	}
	return 0
}

// less reports whether a < b for keep_last (numbers) or max_age (durations: Go's units plus d and w);
// comparable is false when either does not parse.
func less(attr string, a, b any) (isLess, comparable bool) {
	if attr == "keep_last" {
		x, ok1 := a.(float64)
		y, ok2 := b.(float64)
		return x < y, ok1 && ok2
	}
	x, err1 := parseAge(a)
	y, err2 := parseAge(b)
	return x < y, err1 == nil && err2 == nil
}

var dayUnits = regexp.MustCompile(`(\d+(?:\.\d+)?)([dw])`)

func parseAge(v any) (time.Duration, error) {
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("not a string")
	}
	s = dayUnits.ReplaceAllStringFunc(strings.TrimSpace(s), func(m string) string {
		p := dayUnits.FindStringSubmatch(m)
		n, _ := strconv.ParseFloat(p[1], 64)
		if p[2] == "w" {
			n *= 7
		}
		return strconv.FormatFloat(n*24, 'f', -1, 64) + "h"
	})
	return time.ParseDuration(s)
}
