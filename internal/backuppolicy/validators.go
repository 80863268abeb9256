package backuppolicy

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

// cronParser reads the unix-cron schedules Cloud Scheduler takes (five fields: "the crontab format",
// https://cloud.google.com/scheduler/docs/configuring/cron-job-schedules), with robfig/cron's CRON_TZ=
// (or TZ=) prefix for the zone; descriptors such as @daily are not Cloud Scheduler syntax and are refused.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// splitSchedule separates a CRON_TZ=/TZ= prefix from the cron fields.
func splitSchedule(s string) (zone, fields string) {
	s = strings.TrimSpace(s)
	for _, p := range []string{"CRON_TZ=", "TZ="} {
		if strings.HasPrefix(s, p) {
			z, rest, _ := strings.Cut(s[len(p):], " ")
			return z, strings.TrimSpace(rest)
		}
	}
	return "", s
}

// checkSchedule returns a sentence when the schedule is not one Cloud Scheduler would run.
func checkSchedule(s string) string {
	if strings.HasPrefix(strings.TrimSpace(s), "@") {
		return fmt.Sprintf("%q is a cron descriptor; Cloud Scheduler takes five unix-cron fields, e.g. \"0 3 * * *\" (03:00 every day).", s)
	}
	sched, err := cronParser.Parse(s)
	if err != nil {
		return fmt.Sprintf("%q is not a unix-cron schedule (minute hour day-of-month month day-of-week, optionally prefixed with CRON_TZ=Zone/Name): %v.", s, err)
	}
	if sched.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return fmt.Sprintf("%q never fires (no such date).", s)
	}
	return ""
}

var scheduleValidator = shared.StringCheck{Summary: "Invalid schedule", Desc: "five unix-cron fields, optionally prefixed with CRON_TZ=Zone/Name", Fn: checkSchedule}

var zoneValidator = shared.StringCheck{Summary: "Invalid time zone", Desc: "a tz database time zone name", Fn: func(z string) string {
	if _, err := time.LoadLocation(z); err != nil || z == "" || z == "Local" {
		return fmt.Sprintf("%q is not a time zone of the tz database, e.g. \"Europe/Berlin\" or \"Etc/UTC\".", z)
	}
	return ""
}}

var durationValidator = shared.StringCheck{Summary: "Invalid max_age", Desc: "a duration of at least 1h, such as 720h", Fn: func(s string) string {
	if d, err := time.ParseDuration(s); err != nil || d < time.Hour {
		return fmt.Sprintf("%q must be a duration of at least 1h in hours, minutes or seconds, e.g. \"720h\" for 30 days (0 would delete every set but the newest).", s)
	}
	return ""
}}

// keysetValidator never quotes the value: it is a secret.
var keysetValidator = shared.StringCheck{Summary: "Invalid encryption key", Desc: "a Tink keyset (JSON) with an AES256_GCM_HKDF_1MB streaming AEAD key", Fn: func(s string) string {
	if strings.TrimSpace(s) == "" {
		return "encryption_key is empty: set it to a Tink keyset (JSON), e.g. file(\"backup.keyset.json\") after `alfredctl backup keygen --out backup.keyset.json`."
	}
	if err := backup.ParseKeyset([]byte(s)); err != nil {
		return "encryption_key must be a Tink keyset (JSON) holding a streaming AEAD key (`alfredctl backup keygen` makes one): " + err.Error() + "."
	}
	return ""
}}

// S3 bucket names: 3-63 characters, lowercase letters, digits, dots and hyphens, beginning and ending
// with a letter or digit, no two adjacent dots, not formatted as an IP address
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
var bucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

var bucketValidator = shared.StringCheck{Summary: "Invalid bucket name", Desc: "an S3 bucket name", Fn: func(b string) string {
	if !bucketRE.MatchString(b) || strings.Contains(b, "..") || net.ParseIP(b) != nil {
		return fmt.Sprintf("%q is not an S3 bucket name: 3 to 63 lowercase letters, digits, dots and hyphens, beginning and ending with a letter or digit, no \"..\", not an IP address.", b)
	}
	return ""
}}

// Prefixes: non-empty, relative, ending in "/", so that the sets of a policy are one "directory" and the
// pinned sets of alfred_backup (PREFIX without "/" + "-pinned/") are outside it, never pruned by the policy.
var prefixRE = regexp.MustCompile(`^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*/$`)

var prefixValidator = shared.StringCheck{Summary: "Invalid prefix", Desc: "a key prefix ending in /, e.g. alfred/ or prod/db/", Fn: func(p string) string {
	if !prefixRE.MatchString(p) || strings.HasSuffix(p, "-pinned/") {
		return fmt.Sprintf("%q must be a non-empty key prefix of safe characters (letters, digits, ! _ . * ' ( ) -) in /-separated parts, ending in \"/\", e.g. \"alfred/\"; it may not end in \"-pinned/\" (reserved for alfred_backup).", p)
	}
	return ""
}}

// kvDSNRE is the start of a keyword/value connection string ("host=db user=backup ...").
var kvDSNRE = regexp.MustCompile(`^\s*[A-Za-z_]+\s*=`)

// dsnValidator checks the form of postgres.dsn only (a postgres:// URL, or keyword=value pairs): pgx parses it
// on the runner, where its environment and certificate files are, not at plan. It never quotes the value:
// the DSN may hold a password.
var dsnValidator = shared.StringCheck{Summary: "Invalid postgres.dsn", Desc: "a PostgreSQL connection string: a postgres:// URL or keyword=value pairs", Fn: func(s string) string {
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return "postgres.dsn is empty: set it to the cluster's connection string, e.g. \"postgres://backup@db.internal:5432/postgres\" or \"host=db.internal user=backup\"."
	case strings.ContainsRune(t, 0):
		return "postgres.dsn contains a NUL byte, which no connection string can hold."
	case strings.HasPrefix(t, "postgres://"), strings.HasPrefix(t, "postgresql://"):
		if _, err := url.Parse(t); err != nil {
			return "postgres.dsn is not a valid postgres:// URL (the value is not shown: it may hold a password)."
		}
		return ""
	case !kvDSNRE.MatchString(t):
		return "postgres.dsn must be a postgres:// (or postgresql://) URL or keyword=value pairs such as \"host=db.internal user=backup dbname=postgres\" (the value is not shown: it may hold a password)."
	}
	return ""
}}
