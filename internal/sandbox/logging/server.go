// Package logging emulates the log-based metrics of the Cloud Logging API v2
// (google.logging.v2.MetricsServiceV2, projects.metrics), the part the provider's alfred_log_metric uses.
// It speaks gRPC through the generated service definitions of
// cloud.google.com/go/logging/apiv2/loggingpb. FIDELITY.md lists what is and is not emulated.
package logging

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	"google.golang.org/genproto/googleapis/api/label"
	"google.golang.org/genproto/googleapis/api/metric"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	"github.com/alfred-platform/terraform-provider-alfred/internal/shared/logquery"
)

// Options configure the emulator.
type Options struct {
	// Dir is the state directory; "" keeps state in memory only.
	Dir string
	// Kit is shared by the sandbox's emulators (faults and call counts are applied by the gRPC server the
	// caller builds with Kit.ServerOptions).
	Kit *kit.Kit
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Server implements MetricsServiceV2.
type Server struct {
	loggingpb.UnimplementedMetricsServiceV2Server

	opts  Options
	store *kit.Store

	mu      sync.Mutex
	metrics map[string]*loggingpb.LogMetric // key: projects/{p}/metrics/{id}, id unescaped
}

type persisted struct {
	Metrics map[string]json.RawMessage `json:"log_metrics"`
}

// New loads state from opts.Dir (if any) and returns the emulator.
func New(opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, store: kit.NewStore(opts.Dir, "logging.json"), metrics: map[string]*loggingpb.LogMetric{}}
	var st persisted
	if err := s.store.Load(&st); err != nil {
		return nil, fmt.Errorf("logging: load state: %w", err)
	}
	if err := kit.UnmarshalProtoMap("logging", st.Metrics, s.metrics, func() *loggingpb.LogMetric { return &loggingpb.LogMetric{} }); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) saveLocked() error {
	metrics, err := kit.MarshalProtoMap(s.metrics)
	if err != nil {
		return err
	}
	if err := s.store.Save(&persisted{Metrics: metrics}); err != nil {
		return status.Errorf(codes.Internal, "sandbox: saving logging state: %v", err)
	}
	return nil
}

// Close flushes the state.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saveLocked()
}

// Register adds MetricsServiceV2 to g.
func (s *Server) Register(g *grpc.Server) { loggingpb.RegisterMetricsServiceV2Server(g, s) }

// metricIDRE: "Metric identifiers are limited to 100 characters and can include only the following
// characters: A-Z, a-z, 0-9, and the special characters _-.,+!*',()%/. The forward-slash character (/)
// denotes a hierarchy of name pieces, and it cannot be the first character of the name."
var metricIDRE = regexp.MustCompile(`^[A-Za-z0-9_\-.,+!*'()%/]+$`)

// CheckMetricID says why id is not a valid metric identifier, or "".
func CheckMetricID(id string) string {
	switch {
	case id == "":
		return "the metric name is required"
	case utf8.RuneCountInString(id) > 100:
		return fmt.Sprintf("the metric name has %d characters; at most 100 are allowed", utf8.RuneCountInString(id))
	case !metricIDRE.MatchString(id):
		return fmt.Sprintf("the metric name %q has characters outside A-Z, a-z, 0-9 and _-.,+!*',()%%/", id)
	case strings.HasPrefix(id, "/"):
		return fmt.Sprintf("the metric name %q starts with '/', which must not be its first character", id)
	}
	return ""
}

func parseProject(name string) (string, error) {
	p, ok := strings.CutPrefix(name, "projects/")
	if !ok || p == "" || strings.Contains(p, "/") {
		return "", status.Errorf(codes.InvalidArgument, "Invalid resource name %q: it must have the form projects/[PROJECT_ID]", name)
	}
	return p, nil
}

// parseMetricName splits "projects/{p}/metrics/{id}". The id may hold its hierarchy's slashes as they are
// or escaped as %2F (the proto's own example: projects/my-project/metrics/nginx%2Frequests).
func parseMetricName(name string) (project, id string, err error) {
	rest, ok := strings.CutPrefix(name, "projects/")
	p, idPart, ok2 := strings.Cut(rest, "/metrics/")
	if !ok || !ok2 || p == "" || strings.Contains(p, "/") || idPart == "" {
		return "", "", status.Errorf(codes.InvalidArgument,
			"Invalid metric name %q: it must have the form projects/[PROJECT_ID]/metrics/[METRIC_ID]", name)
	}
	if strings.Contains(strings.ToUpper(idPart), "%2F") {
		if u, err := url.PathUnescape(idPart); err == nil {
			idPart = u
		}
	}
	return p, idPart, nil
}

func key(project, id string) string { return "projects/" + project + "/metrics/" + id }

func metricType(id string) string { return "logging.googleapis.com/user/" + id }

// validate checks a metric sent in a create or update; prior is the stored metric on update (nil on
// create). It fills the server's defaults and output-only fields in m.
func (s *Server) validate(project string, m, prior *loggingpb.LogMetric) error {
	if p := CheckMetricID(m.GetName()); p != "" {
		return status.Error(codes.InvalidArgument, p)
	}
	if err := logquery.CheckFilter(m.GetFilter()); err != nil {
		return status.Errorf(codes.InvalidArgument, "Unparseable filter: %v", err)
	}
	if n := utf8.RuneCountInString(m.GetDescription()); n > 8000 {
		return status.Errorf(codes.InvalidArgument, "The description has %d characters; at most 8000 are allowed", n)
	}
	d := m.GetMetricDescriptor()
	if d == nil {
		// "If unspecified, it uses a default metric descriptor with a DELTA metric kind, INT64 value type,
		// with no labels and a unit of "1"."
		d = &metric.MetricDescriptor{MetricKind: metric.MetricDescriptor_DELTA, ValueType: metric.MetricDescriptor_INT64, Unit: "1"}
		m.MetricDescriptor = d
	}
	if d.GetMetricKind() == metric.MetricDescriptor_METRIC_KIND_UNSPECIFIED || d.GetValueType() == metric.MetricDescriptor_VALUE_TYPE_UNSPECIFIED {
		return status.Error(codes.InvalidArgument, "A metric descriptor must set metric_kind and value_type")
	}
	// "The name, type, and description fields in the metric_descriptor are output only, and is
	// constructed using the name and description field in the LogMetric."
	d.Name = "projects/" + project + "/metricDescriptors/" + metricType(m.GetName())
	d.Type = metricType(m.GetName())
	d.Description = m.GetDescription()

	declared := map[string]*label.LabelDescriptor{}
	for _, l := range d.GetLabels() {
		if l.GetKey() == "" {
			return status.Error(codes.InvalidArgument, "A label descriptor must have a key")
		}
		if _, dup := declared[l.GetKey()]; dup {
			return status.Errorf(codes.InvalidArgument, "Duplicate label descriptor with key %s", l.GetKey())
		}
		declared[l.GetKey()] = l
	}
	// "You can create up to 10 user-defined labels per metric." (Configure labels on log-based metrics)
	if len(declared) > maxLabels {
		return status.Errorf(codes.InvalidArgument, "A log-based metric can have at most %d user-defined labels, got %d", maxLabels, len(declared))
	}
	if len(declared) != len(m.GetLabelExtractors()) {
		return status.Error(codes.InvalidArgument, "Number of label descriptors must match number of label extractors")
	}
	for _, k := range sortedKeys(m.GetLabelExtractors()) {
		if declared[k] == nil {
			return status.Errorf(codes.InvalidArgument, "No label descriptor found for label extractor with key %s", k)
		}
		if err := logquery.CheckExtractor(m.GetLabelExtractors()[k]); err != nil {
			return status.Errorf(codes.InvalidArgument, "Invalid label extractor for key %s: %v", k, err)
		}
	}
	if d.GetValueType() == metric.MetricDescriptor_DISTRIBUTION {
		if m.GetValueExtractor() == "" {
			return status.Error(codes.InvalidArgument, "A DISTRIBUTION metric needs a value_extractor")
		}
		if m.GetBucketOptions() == nil {
			return status.Error(codes.InvalidArgument, "A DISTRIBUTION metric needs bucket_options")
		}
	} else if m.GetValueExtractor() != "" {
		return status.Errorf(codes.InvalidArgument, "A value_extractor is only allowed with the DISTRIBUTION value type, not %s", d.GetValueType())
	}
	if m.GetValueExtractor() != "" {
		if err := logquery.CheckExtractor(m.GetValueExtractor()); err != nil {
			return status.Errorf(codes.InvalidArgument, "Invalid value extractor: %v", err)
		}
	}
	if prior != nil {
		pd := prior.GetMetricDescriptor()
		// "The metric_kind and value_type fields in the metric_descriptor cannot be updated once initially
		// configured. New labels can be added in the metric_descriptor, but existing labels cannot be
		// modified except for their description."
		if pd.GetMetricKind() != d.GetMetricKind() || pd.GetValueType() != d.GetValueType() {
			return status.Errorf(codes.InvalidArgument, "The metric_kind and value_type of metric %s cannot be changed (%s/%s to %s/%s)",
				m.GetName(), pd.GetMetricKind(), pd.GetValueType(), d.GetMetricKind(), d.GetValueType())
		}
		for _, old := range pd.GetLabels() {
			// "After you create a label, you can't delete it."
			if declared[old.GetKey()] == nil {
				return status.Errorf(codes.InvalidArgument, "The label %s of metric %s cannot be deleted", old.GetKey(), m.GetName())
			}
			if l := declared[old.GetKey()]; l.GetValueType() != old.GetValueType() {
				return status.Errorf(codes.InvalidArgument, "The label %s of metric %s cannot be changed from %s to %s",
					old.GetKey(), m.GetName(), old.GetValueType(), l.GetValueType())
			}
		}
	}
	if b := m.GetBucketName(); b != "" && !strings.HasPrefix(b, "projects/"+project+"/locations/") {
		return status.Errorf(codes.InvalidArgument, "The bucket %q must be a Log Bucket of project %s", b, project)
	}
	return nil
}

// maxLabels is the number of user-defined labels a log-based metric may have.
const maxLabels = 10

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func clone(m *loggingpb.LogMetric) *loggingpb.LogMetric { return proto.Clone(m).(*loggingpb.LogMetric) }

// CreateLogMetric creates a metric whose identifier must not exist yet.
func (s *Server) CreateLogMetric(_ context.Context, req *loggingpb.CreateLogMetricRequest) (*loggingpb.LogMetric, error) {
	project, err := parseProject(req.GetParent())
	if err != nil {
		return nil, err
	}
	if req.GetMetric() == nil {
		return nil, status.Error(codes.InvalidArgument, "The new metric must be provided in the request")
	}
	m := clone(req.GetMetric())
	if err := s.validate(project, m, nil); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(project, m.GetName())
	if _, ok := s.metrics[k]; ok {
		return nil, status.Errorf(codes.AlreadyExists, "Metric %s already exists", m.GetName())
	}
	now := timestamppb.New(s.opts.Now())
	m.CreateTime, m.UpdateTime = now, now

	s.metrics[k] = m
	if err := s.saveLocked(); err != nil {
		return nil, err
	}
	return clone(m), nil
}

// GetLogMetric returns a metric, or NOT_FOUND.
func (s *Server) GetLogMetric(_ context.Context, req *loggingpb.GetLogMetricRequest) (*loggingpb.LogMetric, error) {
	project, id, err := parseMetricName(req.GetMetricName())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.metrics[key(project, id)]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Metric %s does not exist", id)
	}
	return clone(m), nil
}

// UpdateLogMetric replaces a metric, or creates it when it does not exist ("If the metric does not exist
// in [PROJECT_ID], then a new metric is created").
func (s *Server) UpdateLogMetric(_ context.Context, req *loggingpb.UpdateLogMetricRequest) (*loggingpb.LogMetric, error) {
	project, id, err := parseMetricName(req.GetMetricName())
	if err != nil {
		return nil, err
	}
	if req.GetMetric() == nil {
		return nil, status.Error(codes.InvalidArgument, "The updated metric must be provided in the request")
	}
	m := clone(req.GetMetric())
	if m.GetName() != id {
		return nil, status.Errorf(codes.InvalidArgument,
			"The metric's name %q must be the same as the [METRIC_ID] of %s", m.GetName(), req.GetMetricName())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(project, id)
	prior := s.metrics[k]
	if err := s.validate(project, m, prior); err != nil {
		return nil, err
	}
	now := timestamppb.New(s.opts.Now())
	m.CreateTime, m.UpdateTime = now, now
	if prior != nil {
		m.CreateTime = prior.GetCreateTime()
	}

	s.metrics[k] = m
	if err := s.saveLocked(); err != nil {
		return nil, err
	}
	return clone(m), nil
}

// DeleteLogMetric deletes a metric, or answers NOT_FOUND.
func (s *Server) DeleteLogMetric(_ context.Context, req *loggingpb.DeleteLogMetricRequest) (*emptypb.Empty, error) {
	project, id, err := parseMetricName(req.GetMetricName())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(project, id)
	if _, ok := s.metrics[k]; !ok {
		return nil, status.Errorf(codes.NotFound, "Metric %s does not exist", id)
	}
	delete(s.metrics, k)
	if err := s.saveLocked(); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// defaultPageSize is what a list returns without page_size ("Non-positive values are ignored"); the real
// default is not documented.
const defaultPageSize = 100

// ListLogMetrics lists a project's metrics ordered by identifier, page_size at a time.
func (s *Server) ListLogMetrics(_ context.Context, req *loggingpb.ListLogMetricsRequest) (*loggingpb.ListLogMetricsResponse, error) {
	project, err := parseProject(req.GetParent())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prefix := "projects/" + project + "/metrics/"
	var keys []string
	for k := range s.metrics {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	start := 0
	if t := req.GetPageToken(); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 || n > len(keys) {
			return nil, status.Errorf(codes.InvalidArgument, "Invalid page token %q", t)
		}
		start = n
	}
	size := int(req.GetPageSize())
	if size <= 0 {
		size = defaultPageSize
	}
	end := min(start+size, len(keys))
	resp := &loggingpb.ListLogMetricsResponse{}
	for _, k := range keys[start:end] {
		resp.Metrics = append(resp.Metrics, clone(s.metrics[k]))
	}
	if end < len(keys) {
		resp.NextPageToken = strconv.Itoa(end)
	}
	return resp, nil
}
