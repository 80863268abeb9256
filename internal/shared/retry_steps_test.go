package shared

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Each step of an attempt has the whole budget: three failures of the read and three of the write pass
// with a budget of four attempts; four failures of one step do not.
func TestRetrySteps_eachStepHasItsOwnBudget(t *testing.T) {
	t.Parallel()
	transient := errors.New("transient")
	retryable := func(err error) bool { return errors.Is(err, transient) }
	b := Backoff{Initial: time.Microsecond, Max: time.Microsecond, Attempts: 4}
	run := func(readFails, writeFails int) (calls int, err error) {
		err = RetrySteps(context.Background(), b, retryable, func(_ context.Context, step *string) error {
			calls++
			*step = "read"
			if readFails > 0 {
				readFails--
				return transient
			}
			*step = "write"
			if writeFails > 0 {
				writeFails--
				return transient
			}
			return nil
		})
		return calls, err
	}
	if calls, err := run(3, 3); err != nil || calls != 7 {
		t.Errorf("3 read and 3 write failures with 4 attempts each: %d calls, %v", calls, err)
	}
	if calls, err := run(4, 0); !errors.Is(err, transient) || calls != 4 {
		t.Errorf("4 read failures exhaust the read's 4 attempts: %d calls, %v", calls, err)
	}
	if calls, err := run(1, 4); !errors.Is(err, transient) || calls != 5 {
		t.Errorf("4 write failures exhaust the write's 4 attempts: %d calls, %v", calls, err)
	}
	permanent := errors.New("permanent")
	n := 0
	err := RetrySteps(context.Background(), b, retryable, func(context.Context, *string) error { n++; return permanent })
	if !errors.Is(err, permanent) || n != 1 {
		t.Errorf("a permanent error is not retried: %d calls, %v", n, err)
	}
}
