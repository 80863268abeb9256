package kit

import (
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// MarshalProtoMap is the protojson form of each message of in, by key: how the gRPC emulators keep their
// resources in a Store's state file.
func MarshalProtoMap[M proto.Message](in map[string]M) (map[string]json.RawMessage, error) {
	out := make(map[string]json.RawMessage, len(in))
	for k, m := range in {
		b, err := protojson.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = b
	}
	return out, nil
}

// UnmarshalProtoMap reads what MarshalProtoMap wrote into out, making each message with mk; emulator names
// the state in the error ("monitoring: load KEY: ...").
func UnmarshalProtoMap[M proto.Message](emulator string, in map[string]json.RawMessage, out map[string]M, mk func() M) error {
	for k, raw := range in {
		m := mk()
		if err := protojson.Unmarshal(raw, m); err != nil {
			return fmt.Errorf("%s: load %s: %w", emulator, k, err)
		}
		out[k] = m
	}
	return nil
}
