package shared_test

import (
	"context"
	"errors"
	"testing"
	"time"

	run "cloud.google.com/go/run/apiv2"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/option"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

func rateLimited(delay time.Duration) error {
	st, err := status.New(codes.ResourceExhausted, "quota exceeded").WithDetails(
		&errdetails.ErrorInfo{Reason: "RATE_LIMIT_EXCEEDED", Domain: "googleapis.com"},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(delay)})
	if err != nil {
		panic(err)
	}
	return st.Err()
}

func TestRetryHonoursRetryInfo(t *testing.T) {
	var at []time.Time
	err := shared.Retry(context.Background(), shared.Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond, Attempts: 3},
		shared.RetryableGRPC, func(context.Context) error {
			at = append(at, time.Now())
			if len(at) < 3 {
				return rateLimited(300 * time.Millisecond)
			}
			return nil
		})
	if err != nil || len(at) != 3 {
		t.Fatalf("err %v after %d attempts", err, len(at))
	}
	for i := 1; i < len(at); i++ {
		if d := at[i].Sub(at[i-1]); d < 300*time.Millisecond {
			t.Errorf("attempt %d came %s after a RetryInfo of 300ms (backoff alone would wait at most 5ms)", i+1, d)
		}
	}
	if d, ok := shared.RetryDelay(rateLimited(2 * time.Second)); !ok || d != 2*time.Second {
		t.Errorf("RetryDelay: %v %v", d, ok)
	}
	if _, ok := shared.RetryDelay(status.Error(codes.Unavailable, "x")); ok {
		t.Error("no RetryInfo, no delay")
	}
}

func TestRetryDoesNotRetryPermanentErrors(t *testing.T) {
	for _, c := range []codes.Code{codes.InvalidArgument, codes.NotFound, codes.AlreadyExists, codes.FailedPrecondition,
		codes.PermissionDenied, codes.Unauthenticated, codes.Internal} {
		calls := 0
		err := shared.Retry(context.Background(), shared.DefaultBackoff, shared.RetryableGRPC, func(context.Context) error {
			calls++
			return status.Error(c, "permanent")
		})
		if calls != 1 || status.Code(err) != c {
			t.Errorf("%v: %d calls, err %v", c, calls, err)
		}
	}
	for _, c := range []codes.Code{codes.Unavailable, codes.ResourceExhausted, codes.Aborted, codes.DeadlineExceeded} {
		calls := 0
		_ = shared.Retry(context.Background(), shared.Backoff{Initial: time.Millisecond, Max: time.Millisecond, Attempts: 4},
			shared.RetryableGRPC, func(context.Context) error {
				calls++
				return status.Error(c, "transient")
			})
		if calls != 4 {
			t.Errorf("%v is transient: %d calls, want the 4 attempts", c, calls)
		}
	}
}

func TestRetryIsBoundedByTheContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start, calls := time.Now(), 0
	err := shared.Retry(ctx, shared.Backoff{Initial: 10 * time.Millisecond, Max: 20 * time.Millisecond}, shared.RetryableGRPC,
		func(context.Context) error {
			calls++
			return status.Error(codes.Unavailable, "down")
		})
	if d := time.Since(start); d > time.Second || !errors.Is(err, context.DeadlineExceeded) || calls < 2 {
		t.Errorf("unbounded attempts must end with the context: %s, %d calls, err %v", d, calls, err)
	}
	// A RetryInfo delay longer than what is left of the context ends at the deadline, not after the delay.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	start = time.Now()
	err = shared.Retry(ctx2, shared.DefaultBackoff, shared.RetryableGRPC, func(context.Context) error { return rateLimited(time.Minute) })
	if d := time.Since(start); d > time.Second || !errors.Is(err, context.DeadlineExceeded) || status.Code(err) == codes.OK {
		t.Errorf("a long RetryInfo must not outlive the context: %s, err %v", d, err)
	}
}

// The Cloud Run client retries GetService on UNAVAILABLE by default; WithoutClientRetries turns that off
// for every method.
func TestWithoutClientRetriesClearsEveryDefaultRetry(t *testing.T) {
	c, err := run.NewServicesClient(context.Background(), option.WithEndpoint("127.0.0.1:1"), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resolve := func(opts []gax.CallOption) gax.CallSettings {
		var s gax.CallSettings
		for _, o := range opts {
			o.Resolve(&s)
		}
		return s
	}
	if resolve(c.CallOptions.GetService).Retry == nil || resolve(c.LROClient.CallOptions.GetOperation).Retry == nil {
		t.Fatal("the client's defaults no longer retry GetService/GetOperation: this test must be revisited")
	}
	shared.WithoutClientRetries(c.CallOptions)
	shared.WithoutClientRetries(c.LROClient.CallOptions)
	for name, opts := range map[string][]gax.CallOption{
		"GetService": c.CallOptions.GetService, "ListServices": c.CallOptions.ListServices,
		"CreateService": c.CallOptions.CreateService, "SetIamPolicy": c.CallOptions.SetIamPolicy,
		"GetOperation": c.LROClient.CallOptions.GetOperation, "DeleteOperation": c.LROClient.CallOptions.DeleteOperation,
	} {
		if resolve(opts).Retry != nil {
			t.Errorf("%s still retries inside the client", name)
		}
	}
}
