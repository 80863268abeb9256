package monitoring

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"google.golang.org/genproto/googleapis/api/label"
	"google.golang.org/genproto/googleapis/api/metric"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

type metricServer struct {
	monitoringpb.UnimplementedMetricServiceServer
	s *Server
}

// userDefinedPrefixes are the metric type domains a client may write ("custom metrics" and workload /
// external metrics); every other domain belongs to Google.
var userDefinedPrefixes = []string{"custom.googleapis.com/", "workload.googleapis.com/", "external.googleapis.com/"}

func userDefined(t string) bool {
	for _, p := range userDefinedPrefixes {
		if strings.HasPrefix(t, p) && len(t) > len(p) {
			return true
		}
	}
	return false
}

func descriptorName(project, typ string) string {
	return "projects/" + project + "/metricDescriptors/" + typ
}

func (m *metricServer) CreateMetricDescriptor(_ context.Context, req *monitoringpb.CreateMetricDescriptorRequest) (*metric.MetricDescriptor, error) {
	project, err := parseProject(req.GetName(), "name")
	if err != nil {
		return nil, err
	}
	d := clone(req.GetMetricDescriptor())
	if d == nil {
		return nil, invalid("metric_descriptor is required")
	}
	if !userDefined(d.Type) {
		return nil, invalid("metric_descriptor.type %q is not a user-defined metric type (it must begin with %s)", d.Type, strings.Join(userDefinedPrefixes, " or "))
	}
	if err := checkKind(d.MetricKind, d.ValueType); err != nil {
		return nil, err
	}
	s := m.s
	s.mu.Lock()
	defer s.mu.Unlock()
	d.Name = descriptorName(project, d.Type)
	if old, ok := s.descriptors[d.Name]; ok && (old.MetricKind != d.MetricKind || old.ValueType != d.ValueType) && s.hasSeriesLocked(project, d.Type) {
		return nil, invalid("metric %s already has time series of kind %s and value type %s; delete the descriptor first", d.Type, old.MetricKind, old.ValueType)
	}
	s.descriptors[d.Name] = d
	if err := s.saveLocked(); err != nil {
		return nil, err
	}
	return clone(d), nil
}

func checkKind(kind metric.MetricDescriptor_MetricKind, vt metric.MetricDescriptor_ValueType) error {
	switch kind {
	case metric.MetricDescriptor_GAUGE, metric.MetricDescriptor_CUMULATIVE:
	case metric.MetricDescriptor_DELTA:
		return invalid("metric kind DELTA is not supported for user-defined metrics; use GAUGE or CUMULATIVE")
	default:
		return invalid("metric_kind must be GAUGE or CUMULATIVE")
	}
	if vt == metric.MetricDescriptor_VALUE_TYPE_UNSPECIFIED || vt == metric.MetricDescriptor_MONEY {
		return invalid("value_type must be one of BOOL, INT64, DOUBLE, STRING, DISTRIBUTION")
	}
	if kind == metric.MetricDescriptor_CUMULATIVE && (vt == metric.MetricDescriptor_BOOL || vt == metric.MetricDescriptor_STRING) {
		return invalid("a CUMULATIVE metric must have value type INT64, DOUBLE or DISTRIBUTION, not %s", vt)
	}
	return nil
}

func parseDescriptorName(name string) (project, typ string, err error) {
	rest, ok := strings.CutPrefix(name, "projects/")
	p, t, ok2 := strings.Cut(rest, "/metricDescriptors/")
	if !ok || !ok2 || p == "" || strings.Contains(p, "/") || t == "" {
		return "", "", invalid("name must have the form projects/[PROJECT_ID_OR_NUMBER]/metricDescriptors/[METRIC_ID], got %q", name)
	}
	return p, t, nil
}

func (m *metricServer) GetMetricDescriptor(_ context.Context, req *monitoringpb.GetMetricDescriptorRequest) (*metric.MetricDescriptor, error) {
	if _, _, err := parseDescriptorName(req.GetName()); err != nil {
		return nil, err
	}
	s := m.s
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.descriptors[req.GetName()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Could not find descriptor for metric %s", req.GetName())
	}
	return clone(d), nil
}

func (m *metricServer) DeleteMetricDescriptor(_ context.Context, req *monitoringpb.DeleteMetricDescriptorRequest) (*emptypb.Empty, error) {
	project, typ, err := parseDescriptorName(req.GetName())
	if err != nil {
		return nil, err
	}
	s := m.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.descriptors[req.GetName()]; !ok {
		return nil, status.Errorf(codes.NotFound, "Could not find descriptor for metric %s", req.GetName())
	}
	delete(s.descriptors, req.GetName())
	// Deleting a user-defined metric's descriptor deletes its data.
	for k, ts := range s.series {
		if seriesProject(k) == project && ts.Metric.GetType() == typ {
			delete(s.series, k)
		}
	}
	if err := s.saveLocked(); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

func (m *metricServer) ListMetricDescriptors(_ context.Context, req *monitoringpb.ListMetricDescriptorsRequest) (*monitoringpb.ListMetricDescriptorsResponse, error) {
	project, f, err := parseList(req.GetName(), req.GetFilter())
	if err != nil {
		return nil, err
	}
	s := m.s
	s.mu.Lock()
	defer s.mu.Unlock()
	descriptors, next, _, err := listPage(s.descriptors, "projects/"+project+"/metricDescriptors/", f,
		func(d *metric.MetricDescriptor) lookupFunc {
			return func(field string) (string, bool, bool) {
				if field == "metric.type" || field == "metric_type" {
					return d.Type, true, true
				}
				return "", false, false
			}
		}, req.GetPageSize(), req.GetPageToken(), 10000)
	if err != nil {
		return nil, err
	}
	resp := &monitoringpb.ListMetricDescriptorsResponse{NextPageToken: next}
	for _, d := range descriptors {
		resp.MetricDescriptors = append(resp.MetricDescriptors, clone(d))
	}
	return resp, nil
}

// seriesID identifies one time series: the project, the metric with all its labels and the monitored
// resource with all its labels.
type seriesID struct {
	Project        string            `json:"p"`
	Metric         string            `json:"m"`
	MetricLabels   map[string]string `json:"ml"`
	Resource       string            `json:"r"`
	ResourceLabels map[string]string `json:"rl"`
}

func seriesKey(project string, ts *monitoringpb.TimeSeries) string {
	b, _ := json.Marshal(seriesID{project, ts.Metric.GetType(), ts.Metric.GetLabels(), ts.Resource.GetType(), ts.Resource.GetLabels()})
	return string(b) // encoding/json sorts map keys, so the key is canonical
}

func seriesProject(key string) string {
	var id seriesID
	_ = json.Unmarshal([]byte(key), &id)
	return id.Project
}

func (s *Server) hasSeriesLocked(project, typ string) bool {
	for k, ts := range s.series {
		if ts.Metric.GetType() == typ && seriesProject(k) == project {
			return true
		}
	}
	return false
}

func valueTypeOf(v *monitoringpb.TypedValue) metric.MetricDescriptor_ValueType {
	switch v.GetValue().(type) {
	case *monitoringpb.TypedValue_BoolValue:
		return metric.MetricDescriptor_BOOL
	case *monitoringpb.TypedValue_Int64Value:
		return metric.MetricDescriptor_INT64
	case *monitoringpb.TypedValue_DoubleValue:
		return metric.MetricDescriptor_DOUBLE
	case *monitoringpb.TypedValue_StringValue:
		return metric.MetricDescriptor_STRING
	case *monitoringpb.TypedValue_DistributionValue:
		return metric.MetricDescriptor_DISTRIBUTION
	}
	return metric.MetricDescriptor_VALUE_TYPE_UNSPECIFIED
}

// CreateTimeSeries writes user-defined metrics. "The response is empty if all time series in the request
// were written. If any time series could not be written, a corresponding failure message is included in
// the error response": the valid series of a request are written, the others reported (writeSeries).
func (m *metricServer) CreateTimeSeries(_ context.Context, req *monitoringpb.CreateTimeSeriesRequest) (*emptypb.Empty, error) {
	return m.s.writeSeries(req, false)
}

// CreateServiceTimeSeries writes metrics of Google Cloud services ("This endpoint rejects writes to
// user-defined metrics. This method is only for use by Google Cloud services"), with the same partial
// success as CreateTimeSeries. The sandbox accepts it from anyone, so that a test can stand in for a
// Google service (Cloud Run's own metrics, say).
func (m *metricServer) CreateServiceTimeSeries(_ context.Context, req *monitoringpb.CreateTimeSeriesRequest) (*emptypb.Empty, error) {
	return m.s.writeSeries(req, true)
}

// seriesWrite is one accepted series of a write request.
type seriesWrite struct {
	key  string
	ts   *monitoringpb.TimeSeries
	desc *metric.MetricDescriptor
	new  bool
}

// seriesFailure is one refused series of a write request: its index, the status code and message.
type seriesFailure struct {
	index int
	code  codes.Code
	msg   string
}

// writeSeries validates each series on its own, writes the valid ones and, when some were refused,
// answers INVALID_ARGUMENT "One or more TimeSeries could not be written: <reason>: timeSeries[i]; ..."
// with a google.monitoring.v3.CreateTimeSeriesSummary in the status details (total_point_count,
// success_point_count, and errors: one entry per status code with its point_count), as the live API
// answers (the status of each summary error carries only the code). Errors about the request as a whole
// (its name, no series, more than 200) refuse everything.
func (s *Server) writeSeries(req *monitoringpb.CreateTimeSeriesRequest, service bool) (*emptypb.Empty, error) {
	project, err := parseProject(req.GetName(), "name")
	if err != nil {
		return nil, err
	}
	n := len(req.GetTimeSeries())
	if n == 0 {
		return nil, invalid("time_series must contain at least one TimeSeries")
	}
	if n > 200 {
		return nil, invalid("at most 200 TimeSeries may be written per request, got %d", n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	var writes []seriesWrite
	var failures []seriesFailure
	inRequest := map[string]bool{}
	newDescs := map[string]*metric.MetricDescriptor{}
	for i, ts := range req.GetTimeSeries() {
		w, code, msg := s.checkSeriesLocked(project, i, ts, service, now, inRequest, newDescs)
		if code != codes.OK {
			failures = append(failures, seriesFailure{index: i, code: code, msg: msg})
			continue
		}
		if w.new {
			newDescs[w.desc.Name] = w.desc
		}
		writes = append(writes, w)
	}
	for _, w := range writes {
		if w.new {
			s.descriptors[w.desc.Name] = w.desc
		}
		old := s.series[w.key]
		if old == nil {
			old = &monitoringpb.TimeSeries{
				Metric:     clone(w.ts.Metric),
				Resource:   clone(w.ts.Resource),
				MetricKind: w.desc.MetricKind,
				ValueType:  w.desc.ValueType,
				Unit:       w.desc.Unit,
			}
			s.series[w.key] = old
		}
		pts := append([]*monitoringpb.Point{clone(w.ts.Points[0])}, old.Points...)
		if len(pts) > maxPointsPerSeries {
			pts = pts[:maxPointsPerSeries]
		}
		old.Points = pts
	}
	if len(writes) > 0 {
		if err := s.saveLocked(); err != nil {
			return nil, err
		}
	}
	if len(failures) == 0 {
		return &emptypb.Empty{}, nil
	}
	return nil, partialFailure(n, len(writes), failures)
}

// partialFailure builds the error of a write of which some series failed: every series holds one point,
// so point counts are series counts.
func partialFailure(total, written int, failures []seriesFailure) error {
	var reasons []string
	byMsg := map[string][]int{}
	byCode := map[codes.Code]int32{}
	var codeOrder []codes.Code
	for _, f := range failures {
		if _, ok := byMsg[f.msg]; !ok {
			reasons = append(reasons, f.msg)
		}
		byMsg[f.msg] = append(byMsg[f.msg], f.index)
		if _, ok := byCode[f.code]; !ok {
			codeOrder = append(codeOrder, f.code)
		}
		byCode[f.code]++
	}
	parts := make([]string, 0, len(reasons))
	for _, r := range reasons {
		parts = append(parts, r+": timeSeries["+indexRanges(byMsg[r])+"]")
	}
	summary := &monitoringpb.CreateTimeSeriesSummary{TotalPointCount: int32(total), SuccessPointCount: int32(written)}
	for _, c := range codeOrder {
		summary.Errors = append(summary.Errors, &monitoringpb.CreateTimeSeriesSummary_Error{
			Status: &rpcstatus.Status{Code: int32(c)}, PointCount: byCode[c]})
	}
	st, err := status.New(codes.InvalidArgument, "One or more TimeSeries could not be written: "+strings.Join(parts, "; ")).WithDetails(summary)
	if err != nil {
		return status.Error(codes.Internal, err.Error())
	}
	return st.Err()
}

// indexRanges renders ascending indexes as the API does: runs as "a-b", joined with ",".
func indexRanges(idx []int) string {
	var out []string
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if i == j {
			out = append(out, strconv.Itoa(idx[i]))
		} else {
			out = append(out, strconv.Itoa(idx[i])+"-"+strconv.Itoa(idx[j]))
		}
		i = j + 1
	}
	return strings.Join(out, ",")
}

// checkSeriesLocked validates series i of a write: it returns the write, or the code and message of its
// failure.
func (s *Server) checkSeriesLocked(project string, i int, ts *monitoringpb.TimeSeries, service bool, now time.Time,
	inRequest map[string]bool, newDescs map[string]*metric.MetricDescriptor) (seriesWrite, codes.Code, string) {
	fail := func(format string, args ...any) (seriesWrite, codes.Code, string) {
		return seriesWrite{}, codes.InvalidArgument, fmt.Sprintf(format, args...)
	}
	typ := ts.GetMetric().GetType()
	switch {
	case typ == "":
		return fail("Field timeSeries[%d].metric.type had an invalid value: a metric type is required", i)
	case service && userDefined(typ):
		return fail("Field timeSeries[%d].metric.type had an invalid value: %q is a user-defined metric; CreateServiceTimeSeries writes only metrics of Google Cloud services (use CreateTimeSeries)", i, typ)
	case !service && !userDefined(typ):
		return fail("Field timeSeries[%d].metric.type had an invalid value: %q: only user-defined metrics (%s) can be written", i, typ, strings.Join(userDefinedPrefixes, ", "))
	}
	if ts.GetResource().GetType() == "" {
		return fail("Field timeSeries[%d].resource.type had an invalid value: a monitored resource type is required (for example \"global\" or \"generic_task\")", i)
	}
	if rt := ts.GetResource().GetType(); !service && !customMetricResourceTypes[rt] {
		return fail("Field timeSeries[%d].resource.type had an invalid value: %q does not accept user-defined metrics; use one of %s", i, rt, strings.Join(sortedKeys(customMetricResourceTypes), ", "))
	}
	if len(ts.GetPoints()) != 1 {
		return fail("Field timeSeries[%d].points had an invalid value: exactly one point must be written per TimeSeries, got %d", i, len(ts.GetPoints()))
	}
	key := seriesKey(project, ts)
	if inRequest[key] {
		return fail("Field timeSeries[%d] had an invalid value: Duplicate TimeSeries encountered. Only one point can be written per TimeSeries per request.", i)
	}
	inRequest[key] = true
	pt := ts.Points[0]
	vt := valueTypeOf(pt.GetValue())
	if vt == metric.MetricDescriptor_VALUE_TYPE_UNSPECIFIED {
		return fail("Field timeSeries[%d].points[0].value had an invalid value: a value is required", i)
	}
	kind := ts.MetricKind
	if kind == metric.MetricDescriptor_METRIC_KIND_UNSPECIFIED {
		kind = metric.MetricDescriptor_GAUGE
	}
	if ts.ValueType != metric.MetricDescriptor_VALUE_TYPE_UNSPECIFIED && ts.ValueType != vt {
		return fail("Field timeSeries[%d].value_type had an invalid value: %s, but the point holds a %s", i, ts.ValueType, vt)
	}
	dname := descriptorName(project, typ)
	desc := s.descriptors[dname]
	if desc == nil {
		desc = newDescs[dname]
	}
	created := false
	if desc == nil {
		// Writing to a metric that has no descriptor creates one (auto-creation).
		if err := checkKind(kind, vt); err != nil {
			return fail("Field timeSeries[%d] had an invalid value: %s", i, status.Convert(err).Message())
		}
		desc = &metric.MetricDescriptor{Name: dname, Type: typ, MetricKind: kind, ValueType: vt}
		for k := range ts.Metric.GetLabels() {
			desc.Labels = append(desc.Labels, &label.LabelDescriptor{Key: k, ValueType: label.LabelDescriptor_STRING})
		}
		sort.Slice(desc.Labels, func(a, b int) bool { return desc.Labels[a].Key < desc.Labels[b].Key })
		created = true
	}
	if kind != desc.MetricKind || vt != desc.ValueType {
		return fail("Field timeSeries[%d] had an invalid value: metric %s is %s/%s, but the point is %s/%s", i, typ, desc.MetricKind, desc.ValueType, kind, vt)
	}
	if !created {
		declared := map[string]bool{}
		for _, l := range desc.Labels {
			declared[l.Key] = true
		}
		for k := range ts.Metric.GetLabels() {
			if !declared[k] {
				return fail("Field timeSeries[%d].metric.labels had an invalid value: %q is not a label of metric %s", i, k, typ)
			}
		}
	}
	iv := pt.GetInterval()
	if iv.GetEndTime() == nil {
		return fail("Field timeSeries[%d].points[0].interval.end_time had an invalid value: an end time is required", i)
	}
	end := iv.EndTime.AsTime()
	switch kind {
	case metric.MetricDescriptor_GAUGE:
		if iv.StartTime != nil && !iv.StartTime.AsTime().Equal(end) {
			return fail("Field timeSeries[%d].points[0].interval had an invalid value: for a GAUGE metric the start time must be unset or equal to the end time", i)
		}
	case metric.MetricDescriptor_CUMULATIVE:
		if iv.StartTime == nil || !iv.StartTime.AsTime().Before(end) {
			return fail("Field timeSeries[%d].points[0].interval had an invalid value: for a CUMULATIVE metric the start time is required and must be earlier than the end time", i)
		}
	}
	if end.After(now.Add(5 * time.Minute)) {
		return fail("Field timeSeries[%d].points[0].interval.end_time had an invalid value of %q: Data points cannot be written more than 5m in the future.", i, end.Format(time.RFC3339Nano))
	}
	if end.Before(now.Add(-25 * time.Hour)) {
		return fail("Field timeSeries[%d].points[0].interval.end_time had an invalid value of %q: Data points cannot be written more than 25h in the past.", i, end.Format(time.RFC3339Nano))
	}
	if old := s.series[key]; old != nil && len(old.Points) > 0 {
		last := old.Points[0].GetInterval().GetEndTime().AsTime()
		if !end.After(last) {
			return fail("Points must be written in order. One or more of the points specified had an older start time than the most recent point.")
		}
		if !service && end.Sub(last) < minSamplePeriod {
			const stamp = "2006/01/02-15:04:05.000"
			return fail("One or more points were written more frequently than the maximum sampling period configured for the metric. {Metric: %s, Timestamps: {Youngest Existing: '%s', New: '%s'}}",
				typ, last.UTC().Format(stamp), end.UTC().Format(stamp))
		}
	}
	return seriesWrite{key: key, ts: ts, desc: desc, new: created}, codes.OK, ""
}

func (m *metricServer) ListTimeSeries(_ context.Context, req *monitoringpb.ListTimeSeriesRequest) (*monitoringpb.ListTimeSeriesResponse, error) {
	project, f, err := parseList(req.GetName(), req.GetFilter())
	if err != nil {
		return nil, err
	}
	hasType := false
	for _, t := range f {
		if t.field == "metric.type" && t.fn == "" && !t.neg {
			hasType = true
		}
	}
	if !hasType {
		return nil, invalid("filter must specify a single metric type, for example metric.type = \"custom.googleapis.com/my_metric\"")
	}
	iv := req.GetInterval()
	if iv.GetEndTime() == nil {
		return nil, invalid("interval.end_time is required")
	}
	end := iv.EndTime.AsTime()
	start := end // an omitted start time makes the interval a point in time
	if iv.StartTime != nil {
		start = iv.StartTime.AsTime()
		if start.After(end) {
			return nil, invalid("interval.start_time must not be later than interval.end_time")
		}
	}
	if a := req.GetAggregation(); a != nil && (a.PerSeriesAligner != monitoringpb.Aggregation_ALIGN_NONE || a.CrossSeriesReducer != monitoringpb.Aggregation_REDUCE_NONE) {
		if err := validateAggregations("aggregation", []*monitoringpb.Aggregation{a}); err != nil {
			return nil, err
		}
		return nil, status.Error(codes.Unimplemented, "sandbox: ListTimeSeries returns raw points only; aggregation is not emulated")
	}
	if req.GetSecondaryAggregation() != nil {
		return nil, status.Error(codes.Unimplemented, "sandbox: secondary_aggregation is not emulated")
	}
	if req.GetOrderBy() != "" {
		return nil, invalid("order_by is unsupported and must be left blank")
	}
	s := m.s
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for k, ts := range s.series {
		if seriesProject(k) != project {
			continue
		}
		ok, err := f.match(seriesLookup(ts))
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		for _, p := range ts.Points {
			t := p.GetInterval().GetEndTime().AsTime()
			if !t.Before(start) && !t.After(end) {
				keys = append(keys, k)
				break
			}
		}
	}
	keys, next, err := page(keys, req.GetPageSize(), req.GetPageToken(), 100000)
	if err != nil {
		return nil, err
	}
	resp := &monitoringpb.ListTimeSeriesResponse{NextPageToken: next}
	for _, k := range keys {
		ts := s.series[k]
		out := &monitoringpb.TimeSeries{Metric: clone(ts.Metric), Resource: clone(ts.Resource), MetricKind: ts.MetricKind, ValueType: ts.ValueType, Unit: ts.Unit}
		if req.GetView() == monitoringpb.ListTimeSeriesRequest_FULL {
			for _, p := range ts.Points { // newest first, as the API returns them
				t := p.GetInterval().GetEndTime().AsTime()
				if !t.Before(start) && !t.After(end) {
					out.Points = append(out.Points, clone(p))
				}
			}
		}
		resp.TimeSeries = append(resp.TimeSeries, out)
	}
	return resp, nil
}

// seriesLookup resolves the filter fields of a time series: metric.type, metric.labels.K (or
// metric.label.K), resource.type, resource.labels.K (or resource.label.K).
func seriesLookup(ts *monitoringpb.TimeSeries) func(string) (string, bool, bool) {
	return func(field string) (string, bool, bool) {
		switch field {
		case "metric.type":
			return ts.Metric.GetType(), true, true
		case "resource.type":
			return ts.Resource.GetType(), true, true
		}
		for _, p := range []struct {
			prefix string
			labels map[string]string
		}{
			{"metric.labels.", ts.Metric.GetLabels()}, {"metric.label.", ts.Metric.GetLabels()},
			{"resource.labels.", ts.Resource.GetLabels()}, {"resource.label.", ts.Resource.GetLabels()},
		} {
			if k, ok := strings.CutPrefix(field, p.prefix); ok {
				v, present := p.labels[k]
				return v, present, true
			}
		}
		return "", false, false
	}
}

// customMetricResourceTypes are the monitored resource types a user-defined metric may be written
// against ("Custom metrics can use only certain monitored resource types", TimeSeries.resource); see
// FIDELITY.md for the source and what is unverified.
var customMetricResourceTypes = map[string]bool{
	"aws_ec2_instance": true, "dataflow_job": true, "gae_instance": true, "gce_instance": true,
	"generic_node": true, "generic_task": true, "gke_container": true, "global": true, "k8s_cluster": true,
	"k8s_container": true, "k8s_node": true, "k8s_pod": true,
}

// minSamplePeriod: a user-defined metric's series takes at most one point per 5 seconds.
const minSamplePeriod = 5 * time.Second

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
