package shared

import (
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// IsNotFound reports whether a gRPC error means the object does not exist.
func IsNotFound(err error) bool { return status.Code(err) == codes.NotFound }

// DescribeGRPC turns a gRPC error into a sentence a person can act on: what was being done, to what, and
// what the API said.
func DescribeGRPC(action, target string, err error) string {
	st, _ := status.FromError(err)
	hint := ""
	switch st.Code() {
	case codes.NotFound:
		hint = " It does not exist (or the credentials cannot see it)."
	case codes.AlreadyExists:
		hint = " An object with this name already exists: import it with `terraform import`, or choose another name."
	case codes.PermissionDenied:
		hint = " The credentials in use lack the permission for this call."
	case codes.Unauthenticated:
		hint = " The API did not accept the credentials."
	case codes.ResourceExhausted:
		hint = " A quota or rate limit was reached; retried with backoff, it did not clear. Try again later."
	case codes.InvalidArgument:
		hint = " The API refused the values sent; correct the configuration."
	case codes.DeadlineExceeded:
		hint = " The operation did not finish in time; raise the resource's timeouts if it is expected to be slow."
	case codes.Unavailable:
		hint = " The API was unavailable after retries."
	}
	return fmt.Sprintf("Could not %s %s: %s (%s).%s", action, target, st.Message(), st.Code(), hint)
}
