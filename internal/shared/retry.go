package shared

import (
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"time"

	"github.com/googleapis/gax-go/v2"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
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
//
// It is the one retry layer of the provider: the google-cloud-go clients it wraps are built without their
// own retries (WithoutClientRetries). When the server says how long to wait (google.rpc.RetryInfo, as
// with RESOURCE_EXHAUSTED), the next attempt waits at least that long, and the backoff grows from there,
// as RetryInfo's documentation asks of clients.
func Retry(ctx context.Context, b Backoff, retryable func(error) bool, fn func(context.Context) error) error {
	delay := b.Initial
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil || !retryable(err) || (b.Attempts > 0 && attempt >= b.Attempts) {
			return err
		}
		if ctx.Err() != nil {
			return errors.Join(err, ctx.Err())
		}
		sleep := time.Duration(rand.Int64N(int64(delay) + 1))
		if d, ok := RetryDelay(err); ok {
			sleep = max(sleep, d)
			delay = max(delay, d)
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(sleep):
		}
		delay = min(delay*2, max(b.Max, delay))
	}
}

// RetryDelay returns the retry_delay of a google.rpc.RetryInfo detail of a gRPC error, if it has one.
func RetryDelay(err error) (time.Duration, bool) {
	st, ok := status.FromError(err)
	if !ok || st == nil {
		return 0, false
	}
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay() != nil {
			return ri.GetRetryDelay().AsDuration(), true
		}
	}
	return 0, false
}

// RetryableGRPC reports whether a gRPC error is transient: UNAVAILABLE, RESOURCE_EXHAUSTED (quota or rate
// limit), ABORTED (a concurrent change the caller can repeat), or DEADLINE_EXCEEDED of the call itself
// (Retry stops first when the caller's own context has ended). UNAVAILABLE and DEADLINE_EXCEEDED may come
// after the server applied a write whose reply was lost: only operations that check their effect before
// writing again may be retried on them.
func RetryableGRPC(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.ResourceExhausted, codes.Aborted, codes.DeadlineExceeded:
		return true
	}
	return false
}

var callOptionsType = reflect.TypeOf([]gax.CallOption(nil))

// WithoutClientRetries turns off the default retries of a google-cloud-go client, so that Retry is the
// only retry layer: callOptions is the client's CallOptions (a pointer to a struct of []gax.CallOption,
// one per method), and each method gets gax.WithRetry(nil) after its defaults. Timeouts are kept.
func WithoutClientRetries(callOptions any) {
	v := reflect.ValueOf(callOptions)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return
	}
	v = v.Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Type() != callOptionsType || !f.CanSet() {
			continue
		}
		opts := append([]gax.CallOption(nil), f.Interface().([]gax.CallOption)...)
		f.Set(reflect.ValueOf(append(opts, gax.WithRetry(nil))))
	}
}
