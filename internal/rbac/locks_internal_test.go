package rbac

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// The query of a blocking session is quoted in the error, but never a password it carries.
func TestBlockerQuoteMasksPasswords(t *testing.T) {
	for _, q := range []string{
		`alter role app password 'S3cret-SENTINEL'`,
		`ALTER ROLE app WITH LOGIN PASSWORD 'S3cret-SENTINEL' VALID UNTIL 'infinity'`,
		`select dblink_connect('host=db password=S3cret-SENTINEL dbname=x')`,
		`create role x password 'it''s S3cret-SENTINEL'`,
	} {
		got := blocker{PID: 7, Query: q}.String()
		if strings.Contains(got, "SENTINEL") {
			t.Errorf("the blocker's query shows a password: %s", got)
		}
		if !strings.Contains(got, "pid 7") || !strings.Contains(got, mask) {
			t.Errorf("the blocker is not described: %s", got)
		}
	}
}

func TestLockWaitErrorSaysWhoAndWhatToDo(t *testing.T) {
	e := &lockWaitError{Waited: 5 * time.Second, Err: errors.New("canceling statement due to lock timeout (SQLSTATE 55P03)"),
		Blockers: []blocker{{PID: 4242, User: "app", App: "nightly_migration", State: "idle in transaction",
			XactAge: 90 * time.Second, Query: "lock table public.task_results in access exclusive mode"}}}
	msg := e.Error()
	for _, want := range []string{"gave up after 5s", "pid 4242", "user app", "application_name nightly_migration",
		"idle in transaction, transaction open for 1m30s", "lock table public.task_results in access exclusive mode",
		"pg_terminate_backend(4242)", "`timeouts`", "55P03"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error lacks %q: %s", want, msg)
		}
	}
	e.Blockers = nil
	if msg := e.Error(); !strings.Contains(msg, "No blocking session was seen") {
		t.Errorf("without a blocker seen, the error must say so: %s", msg)
	}
}
