package planreview

import (
	"fmt"
	"io"
	"strings"
)

// Summary is the one line that opens both formats.
func (r *Report) Summary() string {
	var b strings.Builder
	if len(r.Findings) == 0 {
		fmt.Fprintf(&b, "no findings in %d resource change%s", r.Changes, plural(r.Changes))
	} else {
		fmt.Fprintf(&b, "%d high, %d medium, %d info in %d resource change%s", r.Count(High), r.Count(Medium),
			r.Count(Info), r.Changes, plural(r.Changes))
	}
	if r.Moved > 0 {
		fmt.Fprintf(&b, " (%d moved)", r.Moved)
	}
	if r.Errored {
		b.WriteString("; the plan is the partial plan of a failed `terraform plan`, it does not show every change")
	}
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

var marker = map[Severity]string{High: "🔴 high", Medium: "🟠 medium", Info: "⚪ info"}

// Markdown writes the review as a pull-request comment: a summary line, a table of the findings (worst
// first) and, collapsed in <details>, each finding with its rule and Terraform's action.
func (r *Report) Markdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### alfredctl plan review: %s\n\n", r.Summary())
	if len(r.Findings) > 0 {
		b.WriteString("| Severity | Address | Finding |\n|---|---|---|\n")
		for _, f := range r.Findings {
			fmt.Fprintf(&b, "| %s | `%s` | %s |\n", marker[f.Severity], cell(f.Address), cell(f.Message))
		}
		b.WriteString("\n<details><summary>Rules and actions</summary>\n\n")
		for _, f := range r.Findings {
			fmt.Fprintf(&b, "- `%s` (%s, %s): rule `%s`: %s\n", cell(f.Address), f.Type, f.Action, f.Rule, cell(f.Message))
		}
		b.WriteString("\nSeverity rules: docs/guides/plan-review.md.\n</details>\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cell keeps a value inside one Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "`", "'")
	return strings.ReplaceAll(s, "\n", " ")
}

// Text writes the review for a terminal: the summary, then one line per finding.
func (r *Report) Text(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "plan review: %s\n", r.Summary())
	width := 0
	for _, f := range r.Findings {
		width = max(width, len(f.Address))
	}
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "%-6s  %-*s  %s  [%s]\n", strings.ToUpper(f.Severity.String()), width, f.Address, f.Message, f.Rule)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// RulesMarkdown renders Rules as the table in docs/guides/plan-review.md.
func RulesMarkdown() string {
	var b strings.Builder
	b.WriteString("| rule | severity | resource types | fires when |\n|---|---|---|---|\n")
	for _, r := range Rules {
		types := make([]string, len(r.Types))
		for i, t := range r.Types {
			types[i] = "`" + t + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", r.ID, r.Severity, strings.Join(types, ", "), r.When)
	}
	return b.String()
}
