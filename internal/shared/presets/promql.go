package presets

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
)

// The parser with Prometheus' default options: the functions and syntax a stock Prometheus accepts.
var promqlParser = parser.NewParser(parser.Options{})

// Parser returns the PromQL parser the catalogue checks expressions with.
func Parser() parser.Parser { return promqlParser }

// ParsePromQL parses an expression with the Prometheus PromQL parser.
func ParsePromQL(expr string) (parser.Expr, error) { return promqlParser.ParseExpr(expr) }

// CheckAlertExpr parses an alerting expression and returns a sentence a person can act on, or "". A
// parse error keeps the parser's position (line:column); an expression that is not an instant vector or
// a scalar cannot be an alert.
func CheckAlertExpr(expr string) string {
	e, err := ParsePromQL(expr)
	if err != nil {
		var perrs parser.ParseErrors
		if errors.As(err, &perrs) && len(perrs) > 0 {
			pe := perrs[0]
			return fmt.Sprintf("PromQL does not parse at %s: %v (in %q).",
				pe.PositionRange.StartPosInput(pe.Query, pe.LineOffset), pe.Err, expr)
		}
		return fmt.Sprintf("PromQL does not parse: %v (in %q).", err, expr)
	}
	switch t := e.Type(); t {
	case parser.ValueTypeVector, parser.ValueTypeScalar:
		return ""
	case parser.ValueTypeMatrix:
		return fmt.Sprintf("PromQL %q is a range vector; an alert needs an instant vector (e.g. wrap the range selector in rate(...)).", expr)
	default:
		return fmt.Sprintf("PromQL %q is a %s; an alert needs an instant vector (e.g. wrap a range selector in rate(...)).", expr, t)
	}
}

// ParseDuration parses a Prometheus duration (such as 30s, 5m, 1h30m) within [0, MaxDuration], or returns
// a sentence saying what is allowed.
func ParseDuration(s string) (time.Duration, string) {
	d, err := model.ParseDuration(s)
	if err != nil {
		return 0, fmt.Sprintf("%q is not a Prometheus duration; use a number and a unit (ms, s, m, h, d, w, y) such as 30s, 5m or 1h30m.", s)
	}
	if time.Duration(d) > MaxDuration {
		return 0, fmt.Sprintf("%q is longer than %s; express conditions over long spans in the expression.", s, model.Duration(MaxDuration))
	}
	return time.Duration(d), ""
}

// FormatDuration prints a duration in Prometheus' canonical form (1h30m, 0s).
func FormatDuration(d time.Duration) string { return model.Duration(d).String() }
