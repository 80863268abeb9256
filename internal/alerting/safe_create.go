package alerting

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

// createChecked creates an object safely under lost replies, for the three creates of the package
// (alert policies, notification channels, log metrics). create is retried on transient errors; after an
// attempt whose reply may have been lost (UNAVAILABLE, DEADLINE_EXCEEDED: the server may have applied it),
// find looks for the object that attempt made before creating again, so nothing is made twice. find is
// retried with a budget of its own: sharing the create's, a few failed lookups used up the create's
// attempts. When the create's attempts run out after a reply that may have been lost, find looks once
// more, so that an object the last attempt made is returned, not left behind unrecorded.
func createChecked[T any](ctx context.Context, b shared.Backoff, find func(context.Context) (T, bool, error), create func(context.Context) (T, error)) (T, error) {
	var out T
	var lookErr error
	look := func(ctx context.Context) (bool, error) {
		var found bool
		err := shared.Retry(ctx, b, shared.RetryableGRPC, func(ctx context.Context) error {
			var err error
			var got T
			if got, found, err = find(ctx); err == nil && found {
				out = got
			}
			return err
		})
		return found, err
	}
	mayExist := false // the last attempt's reply may have been lost
	err := shared.Retry(ctx, b, func(err error) bool { return lookErr == nil && retryableCreate(err) }, func(ctx context.Context) error {
		if mayExist {
			found, err := look(ctx)
			if err != nil {
				lookErr = err // the lookup ran out of attempts of its own: stop
				return err
			}
			if found {
				return nil
			}
		}
		got, err := create(ctx)
		if err == nil {
			out = got
			return nil
		}
		mayExist = replyMayBeLost(err)
		return err
	})
	if err != nil && lookErr == nil && mayExist {
		if found, lerr := look(ctx); lerr == nil && found {
			return out, nil
		}
	}
	return out, err
}

// retryableCreate: a create may be repeated on ABORTED and RESOURCE_EXHAUSTED (refused before it ran)
// and on UNAVAILABLE / DEADLINE_EXCEEDED only after createChecked's lookup found nothing.
func retryableCreate(err error) bool { return shared.RetryableGRPC(err) }

func replyMayBeLost(err error) bool {
	c := status.Code(err)
	return c == codes.Unavailable || c == codes.DeadlineExceeded
}
