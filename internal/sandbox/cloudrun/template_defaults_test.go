package cloudrun_test

import (
	"testing"

	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/grpc/codes"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/cloudrun"
)

// TestCreateService_fillsProbeCPUAndEgressDefaults: what the server fills in a revision template that
// leaves them out (see FIDELITY.md for the lines followed).
func TestCreateService_fillsProbeCPUAndEgressDefaults(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	// No resources, no probe, no port: cpu_idle true, the default TCP startup probe on 8080.
	got := create(t, c, "plain", service("example.com/a:v1"))
	ct := got.GetTemplate().GetContainers()[0]
	if !ct.GetResources().GetCpuIdle() || ct.GetResources().GetStartupCpuBoost() {
		t.Fatalf("resources %v: want cpu_idle true (the default without resources), startup_cpu_boost false", ct.GetResources())
	}
	sp := ct.GetStartupProbe()
	if sp.GetTcpSocket().GetPort() != 8080 || sp.GetTimeoutSeconds() != 240 || sp.GetPeriodSeconds() != 240 ||
		sp.GetFailureThreshold() != 1 || sp.GetInitialDelaySeconds() != 0 || ct.GetLivenessProbe() != nil {
		t.Fatalf("startup probe %v, liveness %v: want the default TCP probe on 8080 (240/240/1) and no liveness probe", sp, ct.GetLivenessProbe())
	}
	if got.GetTemplate().GetExecutionEnvironment() != runpb.ExecutionEnvironment_EXECUTION_ENVIRONMENT_UNSPECIFIED {
		t.Fatalf("execution environment %v, want it left unspecified", got.GetTemplate().GetExecutionEnvironment())
	}

	// Resources set without cpu_idle: false, as the field comment says. A port of 9000 moves the default
	// probe there; a probe given without timings gets the Probe defaults and the container port.
	s := service("example.com/a:v1")
	ct = s.Template.Containers[0]
	ct.Resources = &runpb.ResourceRequirements{Limits: map[string]string{"memory": "1Gi"}}
	ct.Ports = []*runpb.ContainerPort{{ContainerPort: 9000}}
	ct.LivenessProbe = &runpb.Probe{ProbeType: &runpb.Probe_HttpGet{HttpGet: &runpb.HTTPGetAction{Path: "/healthz"}}}
	s.Template.VpcAccess = &runpb.VpcAccess{NetworkInterfaces: []*runpb.VpcAccess_NetworkInterface{{Network: "default"}}}
	got = create(t, c, "sized", s)
	ct = got.GetTemplate().GetContainers()[0]
	if ct.GetResources().GetCpuIdle() {
		t.Fatal("cpu_idle is true although resources were set without it")
	}
	if ct.GetStartupProbe().GetTcpSocket().GetPort() != 9000 {
		t.Fatalf("default startup probe %v, want port 9000", ct.GetStartupProbe())
	}
	lp := ct.GetLivenessProbe()
	if lp.GetHttpGet().GetPort() != 9000 || lp.GetTimeoutSeconds() != 1 || lp.GetPeriodSeconds() != 10 || lp.GetFailureThreshold() != 3 {
		t.Fatalf("liveness probe %v: want port 9000, timeout 1, period 10, failure threshold 3", lp)
	}
	if got.GetTemplate().GetVpcAccess().GetEgress() != runpb.VpcAccess_PRIVATE_RANGES_ONLY {
		t.Fatalf("egress %v, want PRIVATE_RANGES_ONLY", got.GetTemplate().GetVpcAccess().GetEgress())
	}
}

// TestCreateService_refusesBadProbesVPCAccessAndMounts: what the API refuses in the new template fields.
func TestCreateService_refusesBadProbesVPCAccessAndMounts(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	tcp := func(p *runpb.Probe) *runpb.Probe {
		p.ProbeType = &runpb.Probe_TcpSocket{TcpSocket: &runpb.TCPSocketAction{}}
		return p
	}
	secretVol := func(name string) *runpb.Volume {
		return &runpb.Volume{Name: name, VolumeType: &runpb.Volume_Secret{Secret: &runpb.SecretVolumeSource{Secret: "s"}}}
	}
	for _, tc := range []struct {
		name, want string
		change     func(*runpb.Service)
	}{
		{"liveness tcp", "TCP liveness probes are not supported", func(s *runpb.Service) {
			s.Template.Containers[0].LivenessProbe = tcp(&runpb.Probe{})
		}},
		{"startup period above 240", "period_seconds must be between 1 and 240", func(s *runpb.Service) {
			s.Template.Containers[0].StartupProbe = tcp(&runpb.Probe{PeriodSeconds: 241, FailureThreshold: 1})
		}},
		{"startup delay above 240", "initial_delay_seconds must be between 0 and 240", func(s *runpb.Service) {
			s.Template.Containers[0].StartupProbe = tcp(&runpb.Probe{InitialDelaySeconds: 241})
		}},
		{"liveness delay above 3600", "initial_delay_seconds must be between 0 and 3600", func(s *runpb.Service) {
			s.Template.Containers[0].LivenessProbe = &runpb.Probe{InitialDelaySeconds: 3601,
				ProbeType: &runpb.Probe_HttpGet{HttpGet: &runpb.HTTPGetAction{}}}
		}},
		{"timeout above period", "must not be greater than period_seconds", func(s *runpb.Service) {
			s.Template.Containers[0].StartupProbe = tcp(&runpb.Probe{TimeoutSeconds: 20, PeriodSeconds: 10})
		}},
		{"startup window above 240", "must not exceed 240 seconds", func(s *runpb.Service) {
			s.Template.Containers[0].StartupProbe = tcp(&runpb.Probe{PeriodSeconds: 100, FailureThreshold: 3})
		}},
		{"probe without type", "one of http_get, tcp_socket or grpc is required", func(s *runpb.Service) {
			s.Template.Containers[0].StartupProbe = &runpb.Probe{}
		}},
		{"connector and network", "cannot both be set", func(s *runpb.Service) {
			s.Template.VpcAccess = &runpb.VpcAccess{Connector: "projects/p/locations/europe-west1/connectors/c",
				NetworkInterfaces: []*runpb.VpcAccess_NetworkInterface{{Network: "default"}}}
		}},
		{"empty interface", "needs a network or a subnetwork", func(s *runpb.Service) {
			s.Template.VpcAccess = &runpb.VpcAccess{NetworkInterfaces: []*runpb.VpcAccess_NetworkInterface{{}}}
		}},
		{"two mounts at one path", "Two volumes are mounted at", func(s *runpb.Service) {
			s.Template.Volumes = []*runpb.Volume{secretVol("a"), secretVol("b")}
			s.Template.Containers[0].VolumeMounts = []*runpb.VolumeMount{{Name: "a", MountPath: "/secrets"}, {Name: "b", MountPath: "/secrets/"}}
		}},
		{"mount of no volume", "names no volume", func(s *runpb.Service) {
			s.Template.Containers[0].VolumeMounts = []*runpb.VolumeMount{{Name: "x", MountPath: "/secrets"}}
		}},
		{"reserved mount path", "is reserved", func(s *runpb.Service) {
			s.Template.Volumes = []*runpb.Volume{secretVol("a")}
			s.Template.Containers[0].VolumeMounts = []*runpb.VolumeMount{{Name: "a", MountPath: "/proc/x"}}
		}},
		{"duplicate volume", "Volume names must be unique", func(s *runpb.Service) {
			s.Template.Volumes = []*runpb.Volume{secretVol("a"), secretVol("a")}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := service("example.com/a:v1")
			tc.change(s)
			_, err := c.svc.CreateService(ctxT(t), &runpb.CreateServiceRequest{Parent: parent, ServiceId: "bad", Service: s})
			wantCode(t, err, codes.InvalidArgument, tc.want)
		})
	}
}
