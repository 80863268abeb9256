// Package cloudrun emulates the Cloud Run Admin API v2 (google.cloud.run.v2 Services, Jobs, Executions)
// and google.longrunning.Operations over gRPC, for the local sandbox and the acceptance tests. What it
// follows from Google's documentation, and what it leaves out, is written down in FIDELITY.md.
package cloudrun

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"

	"cloud.google.com/go/iam/apiv1/iampb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
)

// Options configure the emulator.
type Options struct {
	// Dir is the state directory; "" keeps state in memory only.
	Dir string
	// Kit counts calls and injects faults; the caller builds the gRPC server with Kit.ServerOptions().
	Kit *kit.Kit
	// AlfredctlPath is the local alfredctl binary that executions of an `*alfredctl` image run.
	AlfredctlPath string
	// Project and Region are informational defaults (the API always takes them from the resource name).
	Project, Region string
	// OperationDelay is how long a rollout takes before its operation is done. 0 means a seeded random
	// delay between 300 and 800 ms.
	OperationDelay time.Duration
	// Principal is the identity recorded as creator and last_modifier.
	Principal string
	// Seed seeds uids, revision suffixes and delays.
	Seed uint64
}

// Server implements runpb.ServicesServer, runpb.JobsServer, runpb.ExecutionsServer and
// longrunningpb.OperationsServer.
type Server struct {
	opts  Options
	store *kit.Store

	mu        sync.Mutex
	rng       *rand.Rand
	services  map[string]*runpb.Service
	revisions map[string]*runpb.Revision
	policies  map[string]*iampb.Policy
	iamLag    map[string]iamLag // stale GetIamPolicy answers still due, by resource (SetIAMReadLag)
	iamLagN   int
	jobs      map[string]*runpb.Job
	execs     map[string]*runpb.Execution
	ops       map[string]*longrunningpb.Operation
	waiters   map[string]chan struct{} // closed when the operation is done
	timers    []*time.Timer
	procs     sync.WaitGroup
	running   map[string]context.CancelFunc // running executions
	execEnv   []string                      // KEY=value the sandbox adds to every alfredctl execution (SetExecutionEnv)
	closed    bool
}

// New builds the emulator and loads its state from opts.Dir.
func New(opts Options) (*Server, error) {
	if opts.Kit == nil {
		opts.Kit = kit.New(0, 0, 1)
	}
	if opts.Principal == "" {
		opts.Principal = "sandbox-user@alfred.local"
	}
	if opts.Seed == 0 {
		opts.Seed = uint64(time.Now().UnixNano())
	}
	s := &Server{
		opts:      opts,
		store:     kit.NewStore(opts.Dir, "cloudrun.json"),
		rng:       rand.New(rand.NewPCG(opts.Seed, opts.Seed^0xc10d)),
		services:  map[string]*runpb.Service{},
		revisions: map[string]*runpb.Revision{},
		policies:  map[string]*iampb.Policy{},
		iamLag:    map[string]iamLag{},
		jobs:      map[string]*runpb.Job{},
		execs:     map[string]*runpb.Execution{},
		ops:       map[string]*longrunningpb.Operation{},
		waiters:   map[string]chan struct{}{},
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// Register registers every service of the emulator on g.
func (s *Server) Register(g *grpc.Server) {
	runpb.RegisterServicesServer(g, &servicesAPI{s: s})
	runpb.RegisterRevisionsServer(g, &revisionsAPI{s: s})
	runpb.RegisterJobsServer(g, &jobsAPI{s: s})
	runpb.RegisterExecutionsServer(g, &executionsAPI{s: s})
	longrunningpb.RegisterOperationsServer(g, &operationsAPI{s: s})
}

// Close stops pending timers, waits for running executions and writes the state.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	for _, t := range s.timers {
		t.Stop()
	}
	s.timers = nil
	s.mu.Unlock()
	s.procs.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saveLocked()
}

// ---- persistence ----

type persisted struct {
	Services  map[string]json.RawMessage `json:"services"`
	Revisions map[string]json.RawMessage `json:"revisions"`
	Policies  map[string]json.RawMessage `json:"policies"`
	Jobs      map[string]json.RawMessage `json:"jobs"`
	Execs     map[string]json.RawMessage `json:"executions"`
	Ops       map[string]json.RawMessage `json:"operations"`
}

// marshalMap is m in protojson by key; a message that does not marshal (none in practice) leaves the map
// empty rather than failing the save.
func marshalMap[T proto.Message](m map[string]T) map[string]json.RawMessage {
	out, _ := kit.MarshalProtoMap(m)
	return out
}

func (s *Server) saveLocked() error {
	return s.store.Save(persisted{
		Services: marshalMap(s.services), Revisions: marshalMap(s.revisions), Policies: marshalMap(s.policies), Jobs: marshalMap(s.jobs),
		Execs: marshalMap(s.execs), Ops: marshalMap(s.ops),
	})
}

func (s *Server) save() {
	_ = s.saveLocked()
}

func (s *Server) load() error {
	var p persisted
	if err := s.store.Load(&p); err != nil {
		return err
	}
	if err := kit.UnmarshalProtoMap("cloudrun", p.Services, s.services, func() *runpb.Service { return &runpb.Service{} }); err != nil {
		return err
	}
	if err := kit.UnmarshalProtoMap("cloudrun", p.Revisions, s.revisions, func() *runpb.Revision { return &runpb.Revision{} }); err != nil {
		return err
	}
	if err := kit.UnmarshalProtoMap("cloudrun", p.Policies, s.policies, func() *iampb.Policy { return &iampb.Policy{} }); err != nil {
		return err
	}
	if err := kit.UnmarshalProtoMap("cloudrun", p.Jobs, s.jobs, func() *runpb.Job { return &runpb.Job{} }); err != nil {
		return err
	}
	if err := kit.UnmarshalProtoMap("cloudrun", p.Execs, s.execs, func() *runpb.Execution { return &runpb.Execution{} }); err != nil {
		return err
	}
	if err := kit.UnmarshalProtoMap("cloudrun", p.Ops, s.ops, func() *longrunningpb.Operation { return &longrunningpb.Operation{} }); err != nil {
		return err
	}
	// Work that was in flight when the sandbox stopped is settled now: rollouts finish, running
	// executions are reported as interrupted.
	for name, op := range s.ops {
		if op.Done {
			continue
		}
		switch {
		case strings.Contains(name, "/operations/svc-"):
			svcName := opTarget(op)
			if svc, ok := s.services[svcName]; ok {
				if svc.DeleteTime != nil {
					delete(s.services, svcName)
					delete(s.policies, svcName)
					s.deleteRevisionsOfLocked(svcName)
					s.finishOpLocked(op, svc, nil)
				} else {
					err := s.rolloutLocked(svc)
					s.finishOpLocked(op, svc, err)
				}
			} else {
				s.finishOpLocked(op, nil, status.New(codes.Aborted, "sandbox restarted during the operation"))
			}
		case strings.Contains(name, "/operations/rev-"):
			revName := opTarget(op)
			if r, ok := s.revisions[revName]; ok {
				delete(s.revisions, revName)
				s.finishOpLocked(op, r, nil)
			} else {
				s.finishOpLocked(op, nil, nil)
			}
		default:
			if ex, ok := s.execs[opTarget(op)]; ok && ex.CompletionTime == nil {
				s.completeExecutionLocked(ex, false, "The sandbox stopped while the execution was running.")
				s.finishOpLocked(op, ex, nil)
			} else {
				s.finishOpLocked(op, ex, nil)
			}
		}
	}
	return nil
}

// ---- operations ----

func opTarget(op *longrunningpb.Operation) string {
	if op.Metadata == nil {
		return ""
	}
	m, err := op.Metadata.UnmarshalNew()
	if err != nil {
		return ""
	}
	switch v := m.(type) {
	case *runpb.Service:
		return v.Name
	case *runpb.Job:
		return v.Name
	case *runpb.Execution:
		return v.Name
	case *runpb.Revision:
		return v.Name
	}
	return ""
}

func mustAny(m proto.Message) *anypb.Any {
	a, err := anypb.New(m)
	if err != nil {
		panic(err)
	}
	return a
}

// newOpLocked registers an operation that is not done. Cloud Run v2 operations carry the resource as
// metadata and as response.
func (s *Server) newOpLocked(parent, kind string, meta proto.Message) *longrunningpb.Operation {
	op := &longrunningpb.Operation{
		Name:     fmt.Sprintf("%s/operations/%s-%s", parent, kind, s.uuidLocked()),
		Metadata: mustAny(meta),
	}
	s.ops[op.Name] = op
	s.waiters[op.Name] = make(chan struct{})
	return proto.Clone(op).(*longrunningpb.Operation)
}

func (s *Server) finishOpLocked(op *longrunningpb.Operation, resp proto.Message, st *status.Status) {
	op.Done = true
	if resp != nil {
		op.Metadata = mustAny(resp)
	}
	if st != nil {
		op.Result = &longrunningpb.Operation_Error{Error: st.Proto()}
	} else if resp != nil {
		op.Result = &longrunningpb.Operation_Response{Response: mustAny(resp)}
	}
	if ch, ok := s.waiters[op.Name]; ok {
		close(ch)
		delete(s.waiters, op.Name)
	}
}

// after runs fn under the lock after d, unless the server is closed first.
func (s *Server) afterLocked(d time.Duration, fn func()) {
	if s.closed {
		return
	}
	t := time.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed {
			return
		}
		fn()
		s.save()
	})
	s.timers = append(s.timers, t)
}

// SetOperationDelay changes how long rollouts and other operations take from now on (0: seeded 300–800 ms).
func (s *Server) SetOperationDelay(d time.Duration) {
	s.mu.Lock()
	s.opts.OperationDelay = d
	s.mu.Unlock()
}

func (s *Server) delayLocked() time.Duration {
	if s.opts.OperationDelay > 0 {
		return s.opts.OperationDelay
	}
	return 300*time.Millisecond + time.Duration(s.rng.IntN(500))*time.Millisecond
}

type operationsAPI struct {
	longrunningpb.UnimplementedOperationsServer
	s *Server
}

func (o *operationsAPI) GetOperation(_ context.Context, req *longrunningpb.GetOperationRequest) (*longrunningpb.Operation, error) {
	o.s.mu.Lock()
	defer o.s.mu.Unlock()
	op, ok := o.s.ops[req.GetName()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Operation %s not found.", req.GetName())
	}
	return proto.Clone(op).(*longrunningpb.Operation), nil
}

func (o *operationsAPI) ListOperations(_ context.Context, req *longrunningpb.ListOperationsRequest) (*longrunningpb.ListOperationsResponse, error) {
	o.s.mu.Lock()
	defer o.s.mu.Unlock()
	if _, _, err := parseParent(req.GetName()); err != nil {
		return nil, err
	}
	var names []string
	for n := range o.s.ops {
		if strings.HasPrefix(n, req.GetName()+"/operations/") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	start, end, next, err := page(len(names), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	resp := &longrunningpb.ListOperationsResponse{NextPageToken: next}
	for _, n := range names[start:end] {
		resp.Operations = append(resp.Operations, proto.Clone(o.s.ops[n]).(*longrunningpb.Operation))
	}
	return resp, nil
}

func (o *operationsAPI) DeleteOperation(_ context.Context, req *longrunningpb.DeleteOperationRequest) (*emptypb.Empty, error) {
	o.s.mu.Lock()
	defer o.s.mu.Unlock()
	if _, ok := o.s.ops[req.GetName()]; !ok {
		return nil, status.Errorf(codes.NotFound, "Operation %s not found.", req.GetName())
	}
	delete(o.s.ops, req.GetName())
	o.s.save()
	return &emptypb.Empty{}, nil
}

// WaitOperation blocks until the operation is done or the timeout (default: the request's deadline, at
// most 120 s as documented for google.longrunning) ends, then returns the operation as it is.
func (o *operationsAPI) WaitOperation(ctx context.Context, req *longrunningpb.WaitOperationRequest) (*longrunningpb.Operation, error) {
	o.s.mu.Lock()
	op, ok := o.s.ops[req.GetName()]
	ch := o.s.waiters[req.GetName()]
	o.s.mu.Unlock()
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Operation %s not found.", req.GetName())
	}
	wait := 120 * time.Second
	if t := req.GetTimeout(); t != nil {
		wait = t.AsDuration()
	}
	if ch != nil {
		select {
		case <-ch:
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
	o.s.mu.Lock()
	defer o.s.mu.Unlock()
	return proto.Clone(op).(*longrunningpb.Operation), nil
}

// ---- names, ids, pages ----

func parseParent(parent string) (project, location string, err error) {
	p := strings.Split(parent, "/")
	if len(p) != 4 || p[0] != "projects" || p[2] != "locations" || !projectRE.MatchString(p[1]) || !regionRE.MatchString(p[3]) {
		return "", "", status.Errorf(codes.InvalidArgument, "Invalid parent %q: expected projects/{project}/locations/{location} with a region such as europe-west1.", parent)
	}
	return p[1], p[3], nil
}

// parseName splits projects/P/locations/L/<collection>/ID.
func parseName(name, collection string) (parent, id string, err error) {
	p := strings.Split(name, "/")
	if len(p) != 6 || p[4] != collection || p[5] == "" {
		return "", "", status.Errorf(codes.InvalidArgument, "Invalid resource name %q: expected projects/{project}/locations/{location}/%s/{id}.", name, collection)
	}
	parent = strings.Join(p[:4], "/")
	if _, _, err := parseParent(parent); err != nil {
		return "", "", err
	}
	return parent, p[5], nil
}

func (s *Server) uuidLocked() string {
	b := make([]byte, 16)
	for i := range b {
		b[i] = byte(s.rng.IntN(256))
	}
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (s *Server) lettersLocked(n int) string {
	const abc = "abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	for i := range b {
		b[i] = abc[s.rng.IntN(len(abc))]
	}
	return string(b)
}

func etagOf(m proto.Message) string {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	sum := sha256.Sum256(b)
	return `"` + base64.RawStdEncoding.EncodeToString(sum[:12]) + `"`
}

// projectNumber derives a stable fake project number from the project id.
func projectNumber(project string) string {
	sum := sha256.Sum256([]byte(project))
	n := uint64(0)
	for _, c := range sum[:8] {
		n = n<<8 | uint64(c)
	}
	return fmt.Sprintf("%012d", n%1_000_000_000_000)
}

func page(n int, size int32, token string) (start, end int, next string, err error) {
	if size <= 0 || size > 1000 {
		size = 100
	}
	if token != "" {
		if _, e := fmt.Sscanf(token, "o%d", &start); e != nil || start < 0 || start > n {
			return 0, 0, "", status.Errorf(codes.InvalidArgument, "Invalid page token %q.", token)
		}
	}
	end = min(n, start+int(size))
	if end < n {
		next = fmt.Sprintf("o%d", end)
	}
	return start, end, next, nil
}
