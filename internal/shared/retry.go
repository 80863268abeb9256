package shared

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Backoff describes capped exponential backoff with full jitter.
type Backoff struct {
	Initial  time.Duration
	Max      time.Duration
	Attempts int // 0 means retry until the context ends
}

// DefaultBackoff is what areas use unless they have a reason not to.
var DefaultBackoff = Backoff{Initial: 200 * time.Millisecond, Max: 10 * time.Second, Attempts: 8}

// Retry calls fn until it succeeds, returns an error that retryable rejects, the attempts run out, or ctx
// ends. Only pass operations that are safe to repeat (idempotent, or whose effect fn checks first).
func Retry(ctx context.Context, b Backoff, retryable func(error) bool, fn func(context.Context) error) error {
	delay := b.Initial
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil || !retryable(err) || (b.Attempts > 0 && attempt >= b.Attempts) {
			return err
		}
		sleep := time.Duration(rand.Int64N(int64(delay) + 1))
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(sleep):
		}
		delay = min(delay*2, b.Max)
	}
}

// RetryableGRPC reports whether a gRPC error is transient: UNAVAILABLE, RESOURCE_EXHAUSTED (quota or rate
// limit), or ABORTED (a concurrent change the caller can repeat).
func RetryableGRPC(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.ResourceExhausted, codes.Aborted:
		return true
	}
	return false
}
