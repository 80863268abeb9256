package planreview_test

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/alfred-platform/terraform-provider-alfred/internal/planreview"
)

// These tests feed the rules plan JSON written by hand in the shape Terraform 1.5.7 writes
// (resource_changes[] with change.before/after/after_unknown/before_sensitive/after_sensitive, as
// review_acc_test.go's real plans show): alfred_backup_policy and alfred_backup are being built now, so
// no real plan of them exists yet. Their attributes are DESIGN.md's: retention { keep_last, max_age },
// encryption_key (sensitive), destination { bucket, prefix, sse, kms_key_id }, retain_on_destroy.

type rc map[string]any

func change(addr, typ string, actions []string, before, after map[string]any) rc {
	return rc{"address": addr, "mode": "managed", "type": typ, "name": addr[strings.LastIndex(addr, ".")+1:],
		"provider_name": "registry.terraform.io/alfred-platform/alfred",
		"change": map[string]any{"actions": actions, "before": before, "after": after, "after_unknown": map[string]any{},
			"before_sensitive": map[string]any{}, "after_sensitive": map[string]any{}}}
}

func (r rc) set(key string, v any) rc {
	if key == "previous_address" || key == "action_reason" || key == "mode" || key == "deposed" {
		r[key] = v
		return r
	}
	r["change"].(map[string]any)[key] = v
	return r
}

func planJSON(t *testing.T, changes ...rc) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"format_version": "1.2", "terraform_version": "1.5.7",
		"planned_values": map[string]any{"root_module": map[string]any{}}, "resource_changes": changes})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	update  = []string{"update"}
	del     = []string{"delete"}
	replace = []string{"delete", "create"}
	create  = []string{"create"}
)

func policy(keepLast any, maxAge any, key any, sse any, kms any) map[string]any {
	return map[string]any{"name": "nightly", "schedule": "0 3 * * *",
		"retention":      map[string]any{"keep_last": keepLast, "max_age": maxAge},
		"encryption_key": key,
		"destination":    map[string]any{"bucket": "b", "prefix": "p/", "sse": sse, "kms_key_id": kms}}
}

func TestRules_backupsAndOthers(t *testing.T) {
	const addr = "module.backups.alfred_backup_policy.nightly"
	base := func() map[string]any { return policy(30, "720h", "k1", "aws:kms", "arn:key") }
	with := func(f func(m map[string]any)) map[string]any { m := base(); f(m); return m }
	ret := func(m map[string]any) map[string]any { return m["retention"].(map[string]any) }
	dst := func(m map[string]any) map[string]any { return m["destination"].(map[string]any) }
	secret := map[string]any{"encryption_key": true}

	cases := []struct {
		name string
		rc   rc
		want []string // "severity rule"
		text []string // must appear in the text output
	}{
		{"policy deleted", change(addr, "alfred_backup_policy", del, base(), nil).set("before_sensitive", secret).
			set("action_reason", "delete_because_no_resource_config"),
			[]string{"high stateful-deleted"}, []string{"scheduled backups stop", "its configuration was removed"}},
		{"policy replaced", change(addr, "alfred_backup_policy", replace, base(), with(func(m map[string]any) { m["name"] = "x" })).
			set("replace_paths", []any{[]any{"name"}}).set("action_reason", "replace_because_cannot_update"),
			[]string{"high stateful-replaced"}, []string{"forced by name", "cannot change it in place"}},
		{"keep_last lowered", change(addr, "alfred_backup_policy", update, base(), with(func(m map[string]any) { ret(m)["keep_last"] = 7 })),
			[]string{"medium backup-retention-shortened"}, []string{"retention.keep_last shortened: 30 -> 7"}},
		{"keep_last raised", change(addr, "alfred_backup_policy", update, base(), with(func(m map[string]any) { ret(m)["keep_last"] = 60 })),
			nil, nil},
		{"max_age shortened in days", change(addr, "alfred_backup_policy", update, base(), with(func(m map[string]any) { ret(m)["max_age"] = "2w" })),
			[]string{"medium backup-retention-shortened"}, []string{`retention.max_age shortened: "720h" -> "2w"`}},
		{"max_age lengthened", change(addr, "alfred_backup_policy", update, base(), with(func(m map[string]any) { ret(m)["max_age"] = "60d" })),
			nil, nil},
		{"max_age set where unset", change(addr, "alfred_backup_policy", update, with(func(m map[string]any) { ret(m)["max_age"] = nil }), base()),
			[]string{"medium backup-retention-shortened"}, []string{`null -> "720h"`}},
		{"max_age unparsable", change(addr, "alfred_backup_policy", update, base(), with(func(m map[string]any) { ret(m)["max_age"] = "a month" })),
			[]string{"medium backup-retention-shortened"}, []string{"check by hand"}},
		{"keep_last unknown", change(addr, "alfred_backup_policy", update, base(), with(func(m map[string]any) { ret(m)["keep_last"] = nil })).
			set("after_unknown", map[string]any{"retention": map[string]any{"keep_last": true}}), nil, nil},
		{"retention written as a block", change(addr, "alfred_backup_policy", update,
			with(func(m map[string]any) { m["retention"] = []any{m["retention"]} }),
			with(func(m map[string]any) { ret(m)["keep_last"] = 3; m["retention"] = []any{m["retention"]} })),
			[]string{"medium backup-retention-shortened"}, []string{"30 -> 3"}},
		{"encryption key removed", change(addr, "alfred_backup_policy", update, base(), with(func(m map[string]any) { m["encryption_key"] = nil })).
			set("before_sensitive", secret),
			[]string{"high backup-encryption-removed"}, []string{"encryption_key removed"}},
		{"encryption key rotated", change(addr, "alfred_backup_policy", update, base(), with(func(m map[string]any) { m["encryption_key"] = "k2" })).
			set("before_sensitive", secret).set("after_sensitive", secret), nil, nil},
		{"sse downgraded and kms key removed", change(addr, "alfred_backup_policy", update, base(),
			with(func(m map[string]any) { dst(m)["sse"] = "AES256"; dst(m)["kms_key_id"] = nil })),
			[]string{"medium backup-sse-weakened", "medium backup-sse-weakened"}, []string{`destination.sse weakened: "aws:kms" -> "AES256"`, "kms_key_id removed"}},
		{"backup retained on destroy", change("alfred_backup.pre_migration", "alfred_backup", del,
			map[string]any{"policy": "nightly", "retain_on_destroy": true}, nil),
			[]string{"high stateful-deleted"}, []string{"stays in the bucket"}},
		{"deposed replica", change("alfred_supabase_read_replica.r", "alfred_supabase_read_replica", del,
			map[string]any{"region": "eu-central-1"}, nil).set("deposed", "00aa11"),
			[]string{"high stateful-deleted"}, []string{"deposed object 00aa11"}},
		{"new public agent", change("alfred_agent_service.web", "alfred_agent_service", create, nil,
			map[string]any{"invokers": []any{"allAuthenticatedUsers"}, "ingress": "all"}),
			[]string{"high agent-made-public"}, []string{`"allAuthenticatedUsers"`}},
		{"sensitive invokers", change("alfred_agent_service.web", "alfred_agent_service", update,
			map[string]any{"invokers": []any{"user:a@example.com"}}, map[string]any{"invokers": []any{"user:a@example.com", "allUsers"}}).
			set("after_sensitive", map[string]any{"invokers": true}).set("before_sensitive", map[string]any{"invokers": true}),
			[]string{"high agent-made-public"}, []string{"invokers gain 1 (sensitive)"}},
		{"ingress narrowed", change("alfred_agent_service.web", "alfred_agent_service", update,
			map[string]any{"ingress": "all"}, map[string]any{"ingress": "internal"}), nil, nil},
		{"image unknown", change("alfred_agent_service.web", "alfred_agent_service", update,
			map[string]any{"image": "a:1"}, map[string]any{}).set("after_unknown", map[string]any{"image": true}),
			[]string{"info image-bump"}, []string{`image: "a:1" -> (known after apply)`}},
		{"alert deleted", change("alfred_alert_policy.a", "alfred_alert_policy", del, map[string]any{"enabled": true}, nil),
			[]string{"medium alert-deleted"}, nil},
		{"data source read", change("data.alfred_qdrant_cluster.c", "alfred_qdrant_cluster", []string{"read"}, nil, map[string]any{}).
			set("mode", "data"), nil, nil},
		{"moved and replaced", change("alfred_qdrant_collection.b", "alfred_qdrant_collection", replace,
			map[string]any{"name": "a"}, map[string]any{"name": "b"}).set("previous_address", "alfred_qdrant_collection.a"),
			[]string{"high stateful-replaced"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := planreview.Load(bytes.NewReader(planJSON(t, tc.rc)))
			if err != nil {
				t.Fatal(err)
			}
			rep := planreview.Review(plan)
			var got []string
			for _, f := range rep.Findings {
				got = append(got, f.Severity.String()+" "+f.Rule)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("findings: got %v, want %v", got, tc.want)
			}
			var text, md bytes.Buffer
			_ = rep.Text(&text)
			_ = rep.Markdown(&md)
			for _, want := range tc.text {
				if !strings.Contains(text.String(), want) || !strings.Contains(md.String(), want) {
					t.Errorf("output lacks %q:\n%s\n%s", want, text.String(), md.String())
				}
			}
			for _, out := range []string{text.String(), md.String()} {
				for _, secret := range []string{"k1", "k2", "user:a@example.com"} {
					if strings.Contains(out, `"`+secret+`"`) {
						t.Errorf("output shows the sensitive %q:\n%s", secret, out)
					}
				}
			}
		})
	}
}

func TestLoad_refusesWhatIsNotAPlan(t *testing.T) {
	for name, in := range map[string]string{
		"state JSON":           `{"format_version":"1.0","terraform_version":"1.5.7","values":{"root_module":{}}}`,
		"not JSON":             "\x00\x01binary plan",
		"future major version": `{"format_version":"2.0","planned_values":{},"resource_changes":[]}`,
	} {
		if _, err := planreview.Load(strings.NewReader(in)); err == nil {
			t.Errorf("%s: Load must refuse it", name)
		}
	}
	plan, err := planreview.Load(strings.NewReader(`{"format_version":"1.2","errored":true,"planned_values":{},"resource_changes":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	if s := planreview.Review(plan).Summary(); !strings.Contains(s, "partial plan of a failed") {
		t.Errorf("an errored plan must say so: %q", s)
	}
}

// The severity table in the docs is the one in the code.
func TestRulesTableIsTheDocs(t *testing.T) {
	for _, f := range []string{"../../templates/guides/plan-review.md.tmpl", "../../docs/guides/plan-review.md"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), planreview.RulesMarkdown()) {
			t.Errorf("%s does not hold the rules table of the code; paste this in (and run tfplugindocs generate):\n%s", f, planreview.RulesMarkdown())
		}
	}
}
