package acctest

import (
	"context"
	"fmt"
	"sync"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// KnownStates serves the provider like ProtoV6ProviderFactories and records every apply whose new state
// still holds an unknown value. Terraform refuses such a state ("Provider returned invalid result object
// after apply") and saves it with the unknowns made null, so a test cannot tell from the state alone; a
// Create or Update that fails after it changed something must record it with unread values null.
type KnownStates struct {
	mu      sync.Mutex
	unknown []string
}

// Factories is what a TestCase's ProtoV6ProviderFactories takes.
func (k *KnownStates) Factories() map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"alfred": func() (tfprotov6.ProviderServer, error) {
			s, err := ProtoV6ProviderFactories["alfred"]()
			if err != nil {
				return nil, err
			}
			return &knownStateServer{ProviderServer: s, k: k}, nil
		},
	}
}

// Check is a TestCheckFunc that fails when any apply so far returned a state with an unknown value.
func (k *KnownStates) Check(*terraform.State) error {
	if u := k.Unknown(); len(u) > 0 {
		return fmt.Errorf("the provider returned unknown values in the state after apply: %v", u)
	}
	return nil
}

// Unknown lists, for each apply that returned unknown values, the resource type and its attribute paths.
func (k *KnownStates) Unknown() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.unknown...)
}

type knownStateServer struct {
	tfprotov6.ProviderServer
	k *KnownStates
}

func (s *knownStateServer) ApplyResourceChange(ctx context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	resp, err := s.ProviderServer.ApplyResourceChange(ctx, req)
	if err != nil || resp == nil || resp.NewState == nil {
		return resp, err
	}
	sch, serr := s.ProviderServer.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if serr != nil || sch.ResourceSchemas[req.TypeName] == nil {
		return resp, err
	}
	v, uerr := resp.NewState.Unmarshal(sch.ResourceSchemas[req.TypeName].ValueType())
	if uerr != nil {
		return resp, err
	}
	var paths []string
	_ = tftypes.Walk(v, func(p *tftypes.AttributePath, v tftypes.Value) (bool, error) {
		if !v.IsKnown() {
			paths = append(paths, p.String())
			return false, nil
		}
		return true, nil
	})
	if len(paths) > 0 {
		s.k.mu.Lock()
		s.k.unknown = append(s.k.unknown, fmt.Sprintf("%s %v", req.TypeName, paths))
		s.k.mu.Unlock()
	}
	return resp, err
}
