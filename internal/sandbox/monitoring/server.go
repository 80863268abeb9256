// Package monitoring emulates the parts of the Cloud Monitoring API v3 (google.monitoring.v3) that the
// provider and the platform use: alert policies, notification channels (and their descriptors), metric
// descriptors and time series for custom metrics. It speaks gRPC through the generated service definitions
// of cloud.google.com/go/monitoring/apiv3/v2/monitoringpb. FIDELITY.md lists what is and is not emulated.
package monitoring

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"google.golang.org/genproto/googleapis/api/metric"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
)

// Options configure the emulator.
type Options struct {
	// Dir is the state directory; "" keeps state in memory only.
	Dir string
	// Kit is shared by the sandbox's emulators (faults and call counts are applied by the gRPC server
	// the caller builds with Kit.ServerOptions; the emulator itself does not need it).
	Kit *kit.Kit
	// Now returns the current time; nil means time.Now. Tests may move the clock.
	Now func() time.Time
	// Actor is written into creation and mutation records as mutated_by; "" means "sandbox@alfred.local".
	Actor string
	// MaxConcurrentPolicyWrites is how many alert policy writes (create, update, delete) may be in flight
	// in one project; one more is refused with ABORTED "Too many concurrent edits to the project
	// configuration. Please try again." 0 means DefaultMaxConcurrentPolicyWrites.
	MaxConcurrentPolicyWrites int
	// PolicyWriteLatency is how long each alert policy write stays in flight before it is applied (the
	// live API takes time too); 0 applies it at once.
	PolicyWriteLatency time.Duration
}

// DefaultMaxConcurrentPolicyWrites is the sandbox's limit; the live one is not documented (FIDELITY.md).
const DefaultMaxConcurrentPolicyWrites = 2

// Server implements AlertPolicyService, NotificationChannelService and MetricService.
type Server struct {
	opts  Options
	store *kit.Store

	mu          sync.Mutex
	rng         *rand.Rand
	policies    map[string]*monitoringpb.AlertPolicy
	channels    map[string]*monitoringpb.NotificationChannel
	descriptors map[string]*metric.MetricDescriptor
	series      map[string]*monitoringpb.TimeSeries // key: seriesKey; points newest first

	inflightMu sync.Mutex
	inflight   map[string]int // project -> alert policy writes in flight
}

// persisted is the JSON state file: each proto is kept as its protojson form.
type persisted struct {
	Policies    map[string]json.RawMessage `json:"alert_policies"`
	Channels    map[string]json.RawMessage `json:"notification_channels"`
	Descriptors map[string]json.RawMessage `json:"metric_descriptors"`
	Series      map[string]json.RawMessage `json:"time_series"`
}

// maxPointsPerSeries bounds memory: older points are dropped (the real API keeps them for its retention
// period; see FIDELITY.md).
const maxPointsPerSeries = 10000

// New loads state from opts.Dir (if any) and returns the emulator.
func New(opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxConcurrentPolicyWrites <= 0 {
		opts.MaxConcurrentPolicyWrites = DefaultMaxConcurrentPolicyWrites
	}
	if opts.Actor == "" {
		opts.Actor = "sandbox@alfred.local"
	}
	s := &Server{
		opts:        opts,
		store:       kit.NewStore(opts.Dir, "monitoring.json"),
		rng:         rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x6d6f6e69)),
		policies:    map[string]*monitoringpb.AlertPolicy{},
		channels:    map[string]*monitoringpb.NotificationChannel{},
		descriptors: map[string]*metric.MetricDescriptor{},
		series:      map[string]*monitoringpb.TimeSeries{},
		inflight:    map[string]int{},
	}
	var st persisted
	if err := s.store.Load(&st); err != nil {
		return nil, fmt.Errorf("monitoring: load state: %w", err)
	}
	if err := kit.UnmarshalProtoMap("monitoring", st.Policies, s.policies, func() *monitoringpb.AlertPolicy { return &monitoringpb.AlertPolicy{} }); err != nil {
		return nil, err
	}
	if err := kit.UnmarshalProtoMap("monitoring", st.Channels, s.channels, func() *monitoringpb.NotificationChannel { return &monitoringpb.NotificationChannel{} }); err != nil {
		return nil, err
	}
	if err := kit.UnmarshalProtoMap("monitoring", st.Descriptors, s.descriptors, func() *metric.MetricDescriptor { return &metric.MetricDescriptor{} }); err != nil {
		return nil, err
	}
	if err := kit.UnmarshalProtoMap("monitoring", st.Series, s.series, func() *monitoringpb.TimeSeries { return &monitoringpb.TimeSeries{} }); err != nil {
		return nil, err
	}
	return s, nil
}

// saveLocked writes the state file; the caller holds s.mu.
func (s *Server) saveLocked() error {
	var st persisted
	var err error
	if st.Policies, err = kit.MarshalProtoMap(s.policies); err != nil {
		return err
	}
	if st.Channels, err = kit.MarshalProtoMap(s.channels); err != nil {
		return err
	}
	if st.Descriptors, err = kit.MarshalProtoMap(s.descriptors); err != nil {
		return err
	}
	if st.Series, err = kit.MarshalProtoMap(s.series); err != nil {
		return err
	}
	if err := s.store.Save(&st); err != nil {
		return status.Errorf(codes.Internal, "sandbox: saving monitoring state: %v", err)
	}
	return nil
}

// Close flushes the state.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saveLocked()
}

// Register adds the three services to g.
func (s *Server) Register(g *grpc.Server) {
	monitoringpb.RegisterAlertPolicyServiceServer(g, &alertServer{s: s})
	monitoringpb.RegisterNotificationChannelServiceServer(g, &channelServer{s: s})
	monitoringpb.RegisterMetricServiceServer(g, &metricServer{s: s})
}

// newID returns a server-assigned numeric id, as Cloud Monitoring uses for policies, conditions and
// channels.
func (s *Server) newIDLocked() string {
	return strconv.FormatUint(1e18+s.rng.Uint64N(8e18), 10)
}

func (s *Server) record() *monitoringpb.MutationRecord {
	return &monitoringpb.MutationRecord{MutateTime: timestamppb.New(s.opts.Now()), MutatedBy: s.opts.Actor}
}

// parseProject checks "projects/{p}" and returns p.
func parseProject(name, field string) (string, error) {
	p, ok := strings.CutPrefix(name, "projects/")
	if !ok || p == "" || strings.Contains(p, "/") {
		return "", status.Errorf(codes.InvalidArgument, "%s must have the form projects/[PROJECT_ID_OR_NUMBER], got %q", field, name)
	}
	return p, nil
}

// parseChild checks "projects/{p}/{collection}/{id}" and returns p and id.
func parseChild(name, collection string) (project, id string, err error) {
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[0] != "projects" || parts[1] == "" || parts[2] != collection || parts[3] == "" {
		return "", "", status.Errorf(codes.InvalidArgument,
			"Name must begin with 'projects/{project_id}/%s/{id}', got: %s", collection, name)
	}
	return parts[1], parts[3], nil
}

// page returns the slice of sorted keys for page_size/page_token and the next token. Tokens are
// offsets; a token this server did not issue is INVALID_ARGUMENT.
func page(keys []string, size int32, token string, maxSize int) ([]string, string, error) {
	sort.Strings(keys)
	start := 0
	if token != "" {
		n, err := strconv.Atoi(token)
		if err != nil || n < 0 || n > len(keys) {
			return nil, "", status.Errorf(codes.InvalidArgument, "invalid page_token %q", token)
		}
		start = n
	}
	if size < 0 {
		return nil, "", status.Error(codes.InvalidArgument, "page_size must not be negative")
	}
	n := int(size)
	if n == 0 || n > maxSize {
		n = maxSize
	}
	end := min(start+n, len(keys))
	next := ""
	if end < len(keys) {
		next = strconv.Itoa(end)
	}
	return keys[start:end], next, nil
}

func clone[M proto.Message](m M) M { return proto.Clone(m).(M) }

// beginPolicyWriteOn checks the name of an existing policy (projects/P/alertPolicies/ID) and admits a write
// of it as beginPolicyWrite does; it returns the policy's project.
func (s *Server) beginPolicyWriteOn(name string) (project string, done func(), err error) {
	if project, _, err = parseChild(name, "alertPolicies"); err != nil {
		return "", nil, err
	}
	done, err = s.beginPolicyWrite(project)
	return project, done, err
}

// beginPolicyWrite admits one alert policy write in project, or refuses it as the live API does when
// too many are in flight ("Error 409: Too many concurrent edits to the project configuration. Please try
// again.", status ABORTED: GoogleCloudPlatform/cloud-foundation-toolkit#787, hashicorp/terraform-provider-google#5187).
// The returned function ends the write.
func (s *Server) beginPolicyWrite(project string) (func(), error) {
	s.inflightMu.Lock()
	if s.inflight[project] >= s.opts.MaxConcurrentPolicyWrites {
		s.inflightMu.Unlock()
		return nil, status.Error(codes.Aborted, "Too many concurrent edits to the project configuration. Please try again.")
	}
	s.inflight[project]++
	s.inflightMu.Unlock()
	if s.opts.PolicyWriteLatency > 0 {
		time.Sleep(s.opts.PolicyWriteLatency)
	}
	return func() {
		s.inflightMu.Lock()
		s.inflight[project]--
		s.inflightMu.Unlock()
	}, nil
}

// StoredChannelLabels returns the labels of a notification channel as stored, sensitive values in clear.
// It is for tests that check what a client wrote; the API never returns them.
func (s *Server) StoredChannelLabels(name string) (map[string]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[name]
	if !ok {
		return nil, false
	}
	out := make(map[string]string, len(ch.Labels))
	for k, v := range ch.Labels {
		out[k] = v
	}
	return out, true
}
