package backuppolicy

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/robfig/cron/v3"

	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
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

type scheduleValidator struct{}

func (scheduleValidator) Description(context.Context) string {
	return "five unix-cron fields, optionally prefixed with CRON_TZ=Zone/Name"
}
func (v scheduleValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (scheduleValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if msg := checkSchedule(req.ConfigValue.ValueString()); msg != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid schedule", msg)
	}
}

type zoneValidator struct{}

func (zoneValidator) Description(context.Context) string               { return "a tz database time zone name" }
func (v zoneValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (zoneValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	z := req.ConfigValue.ValueString()
	if _, err := time.LoadLocation(z); err != nil || z == "" || z == "Local" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid time zone",
			fmt.Sprintf("%q is not a time zone of the tz database, e.g. \"Europe/Berlin\" or \"Etc/UTC\".", z))
	}
}

type durationValidator struct{}

func (durationValidator) Description(context.Context) string {
	return "a positive duration such as 720h"
}
func (v durationValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (durationValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	d, err := time.ParseDuration(req.ConfigValue.ValueString())
	if err != nil || d < time.Hour {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid max_age",
			fmt.Sprintf("%q must be a duration of at least 1h in hours, minutes or seconds, e.g. \"720h\" for 30 days (0 would delete every set but the newest).", req.ConfigValue.ValueString()))
	}
}

type keysetValidator struct{}

func (keysetValidator) Description(context.Context) string {
	return "a Tink keyset (JSON) with an AES256_GCM_HKDF_1MB streaming AEAD key"
}
func (v keysetValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (keysetValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if strings.TrimSpace(req.ConfigValue.ValueString()) == "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Missing encryption key",
			"encryption_key is empty: set it to a Tink keyset (JSON), e.g. file(\"backup.keyset.json\") after `alfredctl backup keygen --out backup.keyset.json`.")
		return
	}
	// The message never quotes the value: it is a secret.
	if err := backup.ParseKeyset([]byte(req.ConfigValue.ValueString())); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid encryption key",
			"encryption_key must be a Tink keyset (JSON) holding a streaming AEAD key (`alfredctl backup keygen` makes one): "+err.Error()+".")
	}
}

// S3 bucket names: 3-63 characters, lowercase letters, digits, dots and hyphens, beginning and ending
// with a letter or digit, no two adjacent dots, not formatted as an IP address
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
var bucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

type bucketValidator struct{}

func (bucketValidator) Description(context.Context) string               { return "an S3 bucket name" }
func (v bucketValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (bucketValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	b := req.ConfigValue.ValueString()
	if !bucketRE.MatchString(b) || strings.Contains(b, "..") || net.ParseIP(b) != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid bucket name",
			fmt.Sprintf("%q is not an S3 bucket name: 3 to 63 lowercase letters, digits, dots and hyphens, beginning and ending with a letter or digit, no \"..\", not an IP address.", b))
	}
}

// Prefixes: non-empty, relative, ending in "/", so that the sets of a policy are one "directory" and the
// pinned sets of alfred_backup (PREFIX without "/" + "-pinned/") are outside it, never pruned by the policy.
var prefixRE = regexp.MustCompile(`^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*/$`)

type prefixValidator struct{}

func (prefixValidator) Description(context.Context) string {
	return "a key prefix ending in /, e.g. alfred/ or prod/db/"
}
func (v prefixValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (prefixValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	p := req.ConfigValue.ValueString()
	if !prefixRE.MatchString(p) || strings.HasSuffix(p, "-pinned/") {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid prefix",
			fmt.Sprintf("%q must be a non-empty key prefix of safe characters (letters, digits, ! _ . * ' ( ) -) in /-separated parts, ending in \"/\", e.g. \"alfred/\"; it may not end in \"-pinned/\" (reserved for alfred_backup).", p))
	}
}
