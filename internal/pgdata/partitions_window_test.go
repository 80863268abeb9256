package pgdata_test

import (
	"strings"
	"testing"
	"time"

	"github.com/alfred-platform/terraform-provider-alfred/internal/pgdata"
)

func TestWindow_dayCoversRetentionToPremake(t *testing.T) {
	keep, add, retire := pgdata.Window(nil, "ev", "day", 2, 3*24*time.Hour, at("2026-03-10T12:00:00Z"))
	want := days("ev", "2026-03-07", 6)
	if strings.Join(add, ",") != strings.Join(want, ",") || strings.Join(keep, ",") != strings.Join(want, ",") || len(retire) != 0 {
		t.Fatalf("keep %q add %q retire %q; want add = keep = %q", keep, add, retire, want)
	}
}

func TestWindow_movedClockRetiresAndAdds(t *testing.T) {
	var existing [][3]string
	for i, n := range days("ev", "2026-03-07", 6) {
		from := at("2026-03-07T00:00:00Z").AddDate(0, 0, i)
		existing = append(existing, [3]string{n, from.Format(time.RFC3339), from.AddDate(0, 0, 1).Format(time.RFC3339)})
	}
	keep, add, retire := pgdata.Window(existing, "ev", "day", 2, 3*24*time.Hour, at("2026-03-12T12:00:00Z"))
	if got, want := strings.Join(retire, ","), strings.Join(days("ev", "2026-03-07", 2), ","); got != want {
		t.Errorf("retire %q, want %q", got, want)
	}
	if got, want := strings.Join(add, ","), strings.Join(days("ev", "2026-03-13", 2), ","); got != want {
		t.Errorf("add %q, want %q", got, want)
	}
	if got, want := strings.Join(keep, ","), strings.Join(days("ev", "2026-03-09", 6), ","); got != want {
		t.Errorf("keep %q, want %q", got, want)
	}
}

func TestWindow_weeksStartOnMondayAndMonthsOnTheFirst(t *testing.T) {
	// 2026-03-01 is a Sunday: its ISO week starts on Monday 2026-02-23.
	_, add, _ := pgdata.Window(nil, "ev", "week", 1, 0, at("2026-03-01T23:00:00Z"))
	if got := strings.Join(add, ","); got != "ev_p20260223,ev_p20260302" {
		t.Errorf("weeks: %s", got)
	}
	_, add, _ = pgdata.Window(nil, "ev", "month", 2, 0, at("2026-12-31T23:59:59Z"))
	if got := strings.Join(add, ","); got != "ev_p202612,ev_p202701,ev_p202702" {
		t.Errorf("months: %s", got)
	}
}

func TestWindow_existingPartitionWithOtherNameIsAdoptedNotDuplicated(t *testing.T) {
	existing := [][3]string{{"legacy_march", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"}}
	keep, add, _ := pgdata.Window(existing, "ev", "month", 1, 0, at("2026-03-15T00:00:00Z"))
	if strings.Join(add, ",") != "ev_p202604" || strings.Join(keep, ",") != "legacy_march,ev_p202604" {
		t.Fatalf("keep %q add %q", keep, add)
	}
}

func TestParseRetention(t *testing.T) {
	for in, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "2w": 14 * 24 * time.Hour,
		"720h": 720 * time.Hour, "36h30m": 36*time.Hour + 30*time.Minute, "90m": 90 * time.Minute} {
		if got, err := pgdata.ParseRetention(in); err != nil || got != want {
			t.Errorf("%q: %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "forever", "-5d", "0d", "0s", "5 days", "1y", "-1h", "999999999w"} {
		if got, err := pgdata.ParseRetention(in); err == nil {
			t.Errorf("%q: accepted as %v", in, got)
		}
	}
}
