package shared

import "context"

// RetrySteps is Retry for an attempt made of several calls, such as a read that checks whether an earlier
// attempt's write took effect, then the write. fn names the call it is making through step, and each call
// has b.Attempts failures of its own: under one budget for all of them an attempt fails whenever any of
// its calls does, so a change of two calls would give up about twice as often as each call alone.
func RetrySteps(ctx context.Context, b Backoff, retryable func(error) bool, fn func(ctx context.Context, step *string) error) error {
	failures := map[string]int{}
	step := ""
	each := b
	each.Attempts = 0 // counted per step below
	return Retry(ctx, each, func(err error) bool {
		if !retryable(err) {
			return false
		}
		failures[step]++
		return b.Attempts <= 0 || failures[step] < b.Attempts
	}, func(ctx context.Context) error {
		step = ""
		return fn(ctx, &step)
	})
}
