package pgdata

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// clockOverride, when set, is the time the partition window is planned from instead of the system clock.
// Only tests set it (export_test.go), to move the window without waiting for days.
var clockOverride atomic.Pointer[time.Time]

// clock is the time the partition window is planned from.
func clock() time.Time {
	if t := clockOverride.Load(); t != nil {
		return *t
	}
	return time.Now()
}

// Intervals a partition set can step by. Bounds are in UTC, as PostgreSQL's date_trunc computes them in a
// session whose TimeZone is UTC: a day starts at 00:00, a week on Monday (ISO), a month on its first day.
var intervals = []string{"day", "week", "month"}

// truncate is date_trunc(unit, t) in UTC.
func truncate(t time.Time, unit string) time.Time {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch unit {
	case "week":
		return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	case "month":
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return d
}

// step adds n intervals to t.
func step(t time.Time, unit string, n int) time.Time {
	switch unit {
	case "week":
		return t.AddDate(0, 0, 7*n)
	case "month":
		return t.AddDate(0, n, 0)
	}
	return t.AddDate(0, 0, n)
}

// partitionName is the name of the partition starting at lo: <table>_pYYYYMMDD (day, week) or
// <table>_pYYYYMM (month), as alfred_pgdata.maintain_partitions names them.
func partitionName(table, unit string, lo time.Time) string {
	if unit == "month" {
		return table + "_p" + lo.Format("200601")
	}
	return table + "_p" + lo.Format("20060102")
}

// maxTableLen leaves room in PostgreSQL's 63-byte identifiers for the partition suffix (_pYYYYMMDD, _default).
const maxTableLen = 53

// partition is one range partition of the table: [From, To) in UTC.
type partition struct {
	Name     string
	From, To time.Time
}

func (p partition) overlaps(lo, hi time.Time) bool { return p.To.After(lo) && p.From.Before(hi) }

// window is what a partition set keeps at time now: the partitions it adds (every interval from the one
// holding now - retention, or now without retention, to premake intervals after now's, where no existing
// partition overlaps it) and the existing ones it retires (upper bound at or before now - retention).
func window(existing []partition, table, unit string, premake int, retention time.Duration, now time.Time) (keep, add, retire []partition) {
	now = now.UTC()
	lo := truncate(now, unit)
	var cutoff time.Time
	if retention > 0 {
		cutoff = now.Add(-retention)
		lo = truncate(cutoff, unit)
	}
	for _, p := range existing {
		if retention > 0 && !p.To.After(cutoff) {
			retire = append(retire, p)
		} else {
			keep = append(keep, p)
		}
	}
	last := step(truncate(now, unit), unit, premake)
	for t := lo; !t.After(last); t = step(t, unit, 1) {
		hi := step(t, unit, 1)
		covered := false
		for _, p := range keep {
			if p.overlaps(t, hi) {
				covered = true
				break
			}
		}
		if !covered {
			p := partition{Name: partitionName(table, unit, t), From: t, To: hi}
			add = append(add, p)
			keep = append(keep, p)
		}
	}
	sortPartitions(keep)
	return keep, add, retire
}

func sortPartitions(ps []partition) {
	sort.Slice(ps, func(i, j int) bool { return ps[i].From.Before(ps[j].From) })
}

// inferInterval names the interval of an existing layout from its partitions' widths, for an import.
func inferInterval(ps []partition) (string, bool) {
	if len(ps) == 0 {
		return "", false
	}
	unit := ""
	for _, p := range ps {
		var u string
		switch {
		case p.To.Equal(p.From.AddDate(0, 0, 1)) && truncate(p.From, "day").Equal(p.From):
			u = "day"
		case p.To.Equal(p.From.AddDate(0, 0, 7)) && truncate(p.From, "week").Equal(p.From):
			u = "week"
		case p.To.Equal(p.From.AddDate(0, 1, 0)) && truncate(p.From, "month").Equal(p.From):
			u = "month"
		default:
			return "", false
		}
		if unit != "" && u != unit {
			return "", false
		}
		unit = u
	}
	return unit, true
}

var durationRe = regexp.MustCompile(`^(\d+)(s|m|h|d|w)$`)

// parseRetention reads a retention: a whole number and a unit, s, m, h, d (24h) or w (7d), e.g. `30d`,
// `12w`, `720h`; or any Go duration such as `36h30m`.
func parseRetention(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if m := durationRe.FindStringSubmatch(s); m != nil {
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return 0, err
		}
		unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour,
			"d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
		if n > int64(100*365*24*time.Hour/unit) {
			return 0, fmt.Errorf("%q is longer than 100 years", s)
		}
		if n == 0 {
			return 0, fmt.Errorf("%q is zero: leave retention unset to keep every partition", s)
		}
		return time.Duration(n) * unit, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration: write a whole number and a unit, e.g. 30d, 12w, 720h", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q is not positive: leave retention unset to keep every partition", s)
	}
	return d, nil
}
