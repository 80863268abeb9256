package cloudrun

import (
	"sort"
	"strings"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// What services, jobs and executions handle alike.

// listed is a resource the List methods return: services, jobs and executions.
type listed interface {
	proto.Message
	GetName() string
	GetCreateTime() *timestamppb.Timestamp
}

// newestFirstPage returns copies of the page that size and token select among the resources of all that
// keep accepts (keep is given each one's name and value), sorted by creation time, newest first (then by
// name), with the next page token.
func newestFirstPage[T listed](all map[string]T, keep func(name string, x T) bool, size int32, token string) ([]T, string, error) {
	var list []T
	for name, x := range all {
		if keep(name, x) {
			list = append(list, x)
		}
	}
	sort.Slice(list, func(i, j int) bool {
		ti, tj := list[i].GetCreateTime().AsTime(), list[j].GetCreateTime().AsTime()
		if ti.Equal(tj) {
			return list[i].GetName() < list[j].GetName()
		}
		return ti.After(tj)
	})
	start, end, next, err := page(len(list), size, token)
	if err != nil {
		return nil, "", err
	}
	var out []T
	for _, x := range list[start:end] {
		out = append(out, proto.Clone(x).(T))
	}
	return out, next, nil
}

// validateOnlyOpLocked is the operation a validate_only request returns at once: done, with m (the
// resource as the request would leave it, not stored) as metadata and response.
func (s *Server) validateOnlyOpLocked(parent string, m proto.Message) *longrunningpb.Operation {
	return &longrunningpb.Operation{Name: parent + "/operations/validate-" + s.uuidLocked(), Done: true,
		Metadata: mustAny(m), Result: &longrunningpb.Operation_Response{Response: mustAny(m)}}
}

// opID is the last segment of an operation name, which the operation-id annotation carries.
func opID(op *longrunningpb.Operation) string {
	return op.Name[strings.LastIndex(op.Name, "/")+1:]
}

// checkEtag is the ABORTED error of a request whose etag is set and is not the current one; of names the
// resource in the message ("job 'x'", "the execution").
func checkEtag(sent, current, of string) error {
	if sent != "" && sent != current {
		return status.Errorf(codes.Aborted, "The etag %s does not match the current etag %s of %s.", sent, current, of)
	}
	return nil
}

// serverOwnedMeta is the reserved (server-owned) labels and annotations of a resource, which an update
// must leave as they are.
func serverOwnedMeta(m interface {
	GetLabels() map[string]string
	GetAnnotations() map[string]string
}) map[string]string {
	out := map[string]string{}
	for k, v := range m.GetLabels() {
		if reservedKey(k) {
			out[k] = v
		}
	}
	for k, v := range m.GetAnnotations() {
		if reservedKey(k) {
			out[k] = v
		}
	}
	return out
}

// stampMeta adds the server-owned operation-id annotation and location label to the resource called
// name; the caller recomputes the etag.
func stampMeta(name string, labels, annotations *map[string]string, opID string) {
	if *annotations == nil {
		*annotations = map[string]string{}
	}
	if *labels == nil {
		*labels = map[string]string{}
	}
	(*annotations)[AnnotationOperationID] = opID
	(*labels)[LabelLocation] = strings.Split(name, "/")[3]
}

// createIfMissing is the start of an Update that may create (allow_missing): when the resource called name
// is not in all, it is created with create (allowMissing) or the answer is NOT_FOUND, and missing is true;
// when it exists, missing is false and the caller goes on with the update.
func createIfMissing[T any](s *Server, all map[string]T, name string, allowMissing bool, notFound func(string) error,
	create func() (*longrunningpb.Operation, error)) (op *longrunningpb.Operation, missing bool, err error) {
	s.mu.Lock()
	_, ok := all[name]
	s.mu.Unlock()
	if ok {
		return nil, false, nil
	}
	if !allowMissing {
		return nil, true, notFound(name)
	}
	op, err = create()
	return op, true, err
}

// deleteLaterLocked ends a Delete call: after the operation delay, remove deletes the resource and returns
// what the operation answers (the deleted resource), and op ends with it; the state is saved now.
func (s *Server) deleteLaterLocked(op *longrunningpb.Operation, remove func() proto.Message) (*longrunningpb.Operation, error) {
	s.afterLocked(s.delayLocked(), func() {
		resp := remove()
		if stored := s.ops[op.Name]; stored != nil {
			s.finishOpLocked(stored, resp, nil)
		}
	})
	s.save()
	return op, nil
}
