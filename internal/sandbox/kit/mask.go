package kit

import (
	"strings"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// ApplyMask applies an update_mask the way Google's Update methods document it (AIP-134): each field
// named by paths is set in dst to its value in src, or cleared when src leaves it unset. A path may go
// into nested messages (documentation.content) and name one key of a string-keyed map (user_labels.team).
// Paths whose first segment is in outputOnly are accepted and ignored ("Any value specified for an output
// only field will be ignored"). An empty or unknown path, or one that selects inside a list or a scalar,
// is INVALID_ARGUMENT, also when neither message sets the field.
func ApplyMask(dst, src proto.Message, paths []string, outputOnly map[string]bool) error {
	for _, p := range paths {
		top, _, _ := strings.Cut(p, ".")
		if outputOnly[top] {
			continue
		}
		if p == "" {
			return status.Error(codes.InvalidArgument, "update_mask contains an empty path")
		}
		if err := copyPath(dst.ProtoReflect(), src.ProtoReflect(), strings.Split(p, ".")); err != nil {
			return status.Errorf(codes.InvalidArgument, "update_mask path %q: %v", p, err)
		}
	}
	return nil
}

type maskError string

func (e maskError) Error() string { return string(e) }

func copyPath(dst, src protoreflect.Message, parts []string) error {
	fd := dst.Descriptor().Fields().ByName(protoreflect.Name(parts[0]))
	if fd == nil {
		return maskError("no field " + parts[0] + " in " + string(dst.Descriptor().FullName()))
	}
	if len(parts) == 1 {
		if src.Has(fd) {
			dst.Set(fd, src.Get(fd))
		} else if od := fd.ContainingOneof(); od == nil || dst.WhichOneof(od) == fd {
			// A oneof member the request leaves unset clears only itself, not the member dst has.
			dst.Clear(fd)
		}
		return nil
	}
	if fd.IsMap() {
		if len(parts) != 2 || fd.MapKey().Kind() != protoreflect.StringKind {
			return maskError("a map path names exactly one key")
		}
		key := protoreflect.ValueOfString(parts[1]).MapKey()
		if v := src.Get(fd).Map().Get(key); v.IsValid() {
			dst.Mutable(fd).Map().Set(key, v)
		} else if dst.Has(fd) {
			dst.Mutable(fd).Map().Clear(key)
		}
		return nil
	}
	if fd.IsList() || fd.Message() == nil {
		return maskError("cannot select inside " + string(fd.Name()))
	}
	if !src.Has(fd) && !dst.Has(fd) {
		// Still check the rest of the path against the schema.
		return checkPath(fd.Message(), parts[1:])
	}
	return copyPath(dst.Mutable(fd).Message(), src.Get(fd).Message(), parts[1:])
}

func checkPath(md protoreflect.MessageDescriptor, parts []string) error {
	fd := md.Fields().ByName(protoreflect.Name(parts[0]))
	if fd == nil {
		return maskError("no field " + parts[0] + " in " + string(md.FullName()))
	}
	if len(parts) == 1 {
		return nil
	}
	if fd.IsMap() {
		if len(parts) != 2 || fd.MapKey().Kind() != protoreflect.StringKind {
			return maskError("a map path names exactly one key")
		}
		return nil
	}
	if fd.IsList() || fd.Message() == nil {
		return maskError("cannot select inside " + string(fd.Name()))
	}
	return checkPath(fd.Message(), parts[1:])
}

// OutputOnly is the set of top-level fields of m that its proto marks OUTPUT_ONLY or IDENTIFIER
// (google.api.field_behavior): the fields an update_mask may name but a request cannot change.
func OutputOnly(m proto.Message) map[string]bool {
	out := map[string]bool{}
	fds := m.ProtoReflect().Descriptor().Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		behaviors, _ := proto.GetExtension(fd.Options(), annotations.E_FieldBehavior).([]annotations.FieldBehavior)
		for _, b := range behaviors {
			if b == annotations.FieldBehavior_OUTPUT_ONLY || b == annotations.FieldBehavior_IDENTIFIER {
				out[string(fd.Name())] = true
			}
		}
	}
	return out
}
