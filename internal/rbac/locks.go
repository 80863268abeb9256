package rbac

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Every statement of the provider waits at most lockTimeout for a lock (SET LOCAL lock_timeout): DDL on an
// application table queues behind any open transaction that touched the table, and while it waits, every
// later query of the table queues behind it. A statement that times out is rolled back and the transaction
// is repeated, until the resource's timeout; then the error names the session that held the lock.
const lockTimeout = 2 * time.Second

// blockerPoll is how often a waiting transaction asks who blocks it.
const blockerPoll = 400 * time.Millisecond

// lockTimeoutFor is the lock_timeout of the next transaction: lockTimeout, or less when the context ends
// sooner, so that PostgreSQL gives up on the lock (55P03, with the blockers known) before the context does.
func lockTimeoutFor(ctx context.Context) time.Duration {
	lt := lockTimeout
	if dl, ok := ctx.Deadline(); ok {
		if rem := time.Until(dl) - 300*time.Millisecond; rem < lt {
			lt = max(rem, 50*time.Millisecond)
		}
	}
	return lt
}

// setLockTimeout bounds every lock wait of the transaction (advisory locks included).
func setLockTimeout(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `select pg_catalog.set_config('lock_timeout', $1, true)`,
		fmt.Sprintf("%dms", lockTimeoutFor(ctx).Milliseconds()))
	return err
}

// blocker is a session that held a lock the provider waited for, as pg_stat_activity showed it.
type blocker struct {
	PID     int32
	User    string
	App     string
	State   string
	Query   string
	XactAge time.Duration
}

func (b blocker) String() string {
	var who []string
	if b.User != "" {
		who = append(who, "user "+b.User)
	}
	if b.App != "" {
		who = append(who, "application_name "+b.App)
	}
	if b.State != "" {
		s := b.State
		if b.XactAge > 0 {
			s += fmt.Sprintf(", transaction open for %s", b.XactAge.Round(time.Second))
		}
		who = append(who, s)
	}
	q := maskQuerySecrets(strings.Join(strings.Fields(b.Query), " "))
	if len(q) > 300 {
		q = q[:300] + "..."
	}
	if q == "" {
		q = "(not visible: the DSN's user needs pg_read_all_stats to see other users' queries)"
	}
	return fmt.Sprintf("pid %d (%s), whose last query is: %s", b.PID, strings.Join(who, ", "), q)
}

// querySecretRe finds the literal of a PASSWORD clause (CREATE/ALTER ROLE ... PASSWORD '...', and
// key=value connection strings), which another session's query may carry.
var querySecretRe = regexp.MustCompile(`(?i)(password\s*=?\s*)('(?:[^']|'')*'|[^\s']+)`)

// maskQuerySecrets hides passwords in the query of another session before it is quoted in an error.
func maskQuerySecrets(q string) string {
	return redact(querySecretRe.ReplaceAllString(q, "${1}'"+mask+"'"))
}

// waitLog remembers who blocked the provider's transaction, across its attempts.
type waitLog struct {
	mu       sync.Mutex
	blockers []blocker
	start    time.Time
}

func (w *waitLog) set(b []blocker) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.blockers = b
}

func (w *waitLog) get() []blocker {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.blockers
}

// watch samples, until stop is called, the sessions that block backend pid (pg_blocking_pids), on another
// connection of the pool. Most transactions end before the first sample, and then it costs nothing.
func (s *store) watch(pid uint32, log *waitLog) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(blockerPoll)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			if b := s.blockersOf(ctx, pid); len(b) > 0 {
				log.set(b)
			}
			cancel()
		}
	}()
	return func() { close(done); wg.Wait() }
}

func (s *store) blockersOf(ctx context.Context, pid uint32) []blocker {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil
	}
	defer conn.Release()
	rows, err := conn.Query(ctx, `select a.pid, coalesce(a.usename::text, ''), coalesce(a.application_name, ''),
			coalesce(a.state, ''), coalesce(a.query, ''),
			coalesce(extract(epoch from clock_timestamp() - a.xact_start), 0)::float8
		from pg_catalog.pg_stat_activity a
		where a.pid = any (pg_catalog.pg_blocking_pids($1::int))
		order by a.xact_start nulls last`, int32(pid))
	if err != nil {
		return nil
	}
	var out []blocker
	for rows.Next() {
		var b blocker
		var age float64
		if rows.Scan(&b.PID, &b.User, &b.App, &b.State, &b.Query, &age) == nil {
			b.XactAge = time.Duration(age * float64(time.Second))
			out = append(out, b)
		}
	}
	rows.Close()
	return out
}

// isLockTimeout reports a statement cancelled by lock_timeout (55P03 lock_not_available).
func isLockTimeout(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "55P03"
}

// lockWaitError is a transaction that could not get its locks before the resource's timeout ran out.
type lockWaitError struct {
	Waited   time.Duration
	Blockers []blocker
	Err      error
}

func (e *lockWaitError) Unwrap() error { return e.Err }

func (e *lockWaitError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "gave up after %s of waiting for a lock (each statement waits at most lock_timeout = %s, "+
		"then the transaction is repeated until the resource's timeout)", e.Waited.Round(100*time.Millisecond), lockTimeout)
	switch len(e.Blockers) {
	case 0:
		b.WriteString(". No blocking session was seen; it may have ended by now")
	default:
		b.WriteString(". The lock is held by ")
		for i, bl := range e.Blockers {
			if i > 0 {
				b.WriteString("; and by ")
			}
			b.WriteString(bl.String())
		}
		fmt.Fprintf(&b, ". Commit or end that transaction (as a last resort: select pg_terminate_backend(%d)), "+
			"then apply again; or raise the resource's `timeouts` if it is expected to finish soon", e.Blockers[0].PID)
	}
	fmt.Fprintf(&b, " (%s)", redactErr(e.Err))
	return b.String()
}
