package cloudrun

import (
	"fmt"
	"path"
	"strings"

	"cloud.google.com/go/run/apiv2/runpb"
)

// Defaults and checks of the revision template fields probes, CPU allocation, VPC access and volumes; see
// FIDELITY.md for the line of the reference each one follows.

// defaultResources fills ResourceRequirements.cpu_idle: "Determines whether CPU is only allocated during
// requests (true by default). However, if ResourceRequirements is set, the caller must explicitly set this
// field to true to preserve the default behavior." It runs before the limits are defaulted.
func defaultResources(c *runpb.Container) {
	if c.Resources == nil {
		c.Resources = &runpb.ResourceRequirements{CpuIdle: true}
	}
}

// defaultProbes fills the probes of a service's ingress container (the one with a port): the default TCP
// startup probe when none is set ("Configure container health checks": "A TCP startup probe is
// automatically configured for a new Cloud Run service ... tcpSocket: port: CONTAINER_PORT,
// timeoutSeconds: 240, periodSeconds: 240, failureThreshold: 1"), and the Probe message defaults
// (timeout 1, period 10, failure threshold 3; ports "default to the exposed port of the container").
func defaultProbes(c *runpb.Container, service bool) {
	port := int32(8080)
	if len(c.GetPorts()) > 0 && c.Ports[0].GetContainerPort() != 0 {
		port = c.Ports[0].GetContainerPort()
	}
	if service && len(c.GetPorts()) > 0 && c.StartupProbe == nil {
		c.StartupProbe = &runpb.Probe{TimeoutSeconds: 240, PeriodSeconds: 240, FailureThreshold: 1,
			ProbeType: &runpb.Probe_TcpSocket{TcpSocket: &runpb.TCPSocketAction{Port: port}}}
	}
	for _, p := range []*runpb.Probe{c.StartupProbe, c.LivenessProbe} {
		if p == nil {
			continue
		}
		if p.TimeoutSeconds == 0 {
			p.TimeoutSeconds = 1
		}
		if p.PeriodSeconds == 0 {
			p.PeriodSeconds = 10
		}
		if p.FailureThreshold == 0 {
			p.FailureThreshold = 3
		}
		switch {
		case p.GetHttpGet() != nil && p.GetHttpGet().Port == 0:
			p.GetHttpGet().Port = port
		case p.GetTcpSocket() != nil && p.GetTcpSocket().Port == 0:
			p.GetTcpSocket().Port = port
		case p.GetGrpc() != nil && p.GetGrpc().Port == 0:
			p.GetGrpc().Port = port
		}
	}
}

// defaultVPCAccess fills VpcAccess.egress: "If not provided, it defaults to PRIVATE_RANGES_ONLY."
func defaultVPCAccess(t *runpb.RevisionTemplate) {
	if va := t.GetVpcAccess(); va != nil && va.Egress == runpb.VpcAccess_VPC_EGRESS_UNSPECIFIED {
		va.Egress = runpb.VpcAccess_PRIVATE_RANGES_ONLY
	}
}

// validateProbe checks a probe against the Probe message's bounds. startup is false for liveness probes.
func validateProbe(field string, p *runpb.Probe, startup bool) error {
	if p == nil {
		return nil
	}
	maxS := int32(3600)
	if startup {
		maxS = 240
	}
	if p.GetProbeType() == nil {
		return invalid(field, "%s: one of http_get, tcp_socket or grpc is required.", field)
	}
	if !startup && p.GetTcpSocket() != nil {
		// "Configure container health checks" lists HTTP and gRPC liveness probes only.
		return invalid(field+".tcp_socket", "%s: TCP liveness probes are not supported; use an HTTP or gRPC liveness probe.", field)
	}
	if d := p.GetInitialDelaySeconds(); d < 0 || d > maxS {
		return invalid(field+".initial_delay_seconds", "%s.initial_delay_seconds must be between 0 and %d, got %d.", field, maxS, d)
	}
	if t := p.GetTimeoutSeconds(); t < 0 || t > 3600 {
		return invalid(field+".timeout_seconds", "%s.timeout_seconds must be between 1 and 3600, got %d.", field, t)
	}
	if s := p.GetPeriodSeconds(); s < 0 || s > maxS {
		return invalid(field+".period_seconds", "%s.period_seconds must be between 1 and %d, got %d.", field, maxS, s)
	}
	if f := p.GetFailureThreshold(); f < 0 {
		return invalid(field+".failure_threshold", "%s.failure_threshold must be at least 1, got %d.", field, f)
	}
	timeout, period, failures := orInt(p.GetTimeoutSeconds(), 1), orInt(p.GetPeriodSeconds(), 10), orInt(p.GetFailureThreshold(), 3)
	if timeout > period {
		return invalid(field+".timeout_seconds", "%s.timeout_seconds (%d) must not be greater than period_seconds (%d).", field, timeout, period)
	}
	if startup && failures*period > 240 {
		return invalid(field, "%s: failure_threshold * period_seconds (%d) must not exceed 240 seconds.", field, failures*period)
	}
	for _, port := range []int32{p.GetHttpGet().GetPort(), p.GetTcpSocket().GetPort(), p.GetGrpc().GetPort()} {
		if port < 0 || port > 65535 {
			return invalid(field, "%s: port must be in the range 1 to 65535, got %d.", field, port)
		}
	}
	return nil
}

func orInt(v, def int32) int32 {
	if v == 0 {
		return def
	}
	return v
}

// validateTemplateExtras checks VPC access, volumes and mounts, and the probes of each container.
func validateTemplateExtras(field string, t *runpb.RevisionTemplate) error {
	if va := t.GetVpcAccess(); va != nil {
		if va.GetConnector() != "" && len(va.GetNetworkInterfaces()) > 0 {
			return invalid(field+".vpc_access", "vpc_access: a connector and network_interfaces (Direct VPC egress) cannot both be set.")
		}
		if len(va.GetNetworkInterfaces()) > 1 {
			return invalid(field+".vpc_access.network_interfaces", "vpc_access: only a single network interface is supported.")
		}
		for _, ni := range va.GetNetworkInterfaces() {
			if ni.GetNetwork() == "" && ni.GetSubnetwork() == "" {
				return invalid(field+".vpc_access.network_interfaces", "vpc_access: a network interface needs a network or a subnetwork.")
			}
		}
	}
	vols := map[string]bool{}
	for _, v := range t.GetVolumes() {
		if v.GetName() == "" || vols[v.GetName()] {
			return invalid(field+".volumes", "Volume names must be unique and not empty: %q.", v.GetName())
		}
		vols[v.GetName()] = true
		if s := v.GetSecret(); s != nil && s.GetSecret() == "" {
			return invalid(field+".volumes", "Volume %q: secret is required.", v.GetName())
		}
	}
	for i, c := range t.GetContainers() {
		cf := fmt.Sprintf("%s.containers[%d]", field, i)
		mounts := map[string]bool{}
		for _, m := range c.GetVolumeMounts() {
			if !vols[m.GetName()] {
				return invalid(cf+".volume_mounts", "Volume mount %q names no volume of the template.", m.GetName())
			}
			mp := m.GetMountPath()
			if !strings.HasPrefix(mp, "/") {
				return invalid(cf+".volume_mounts", "Mount path %q must be absolute.", mp)
			}
			clean := path.Clean(mp)
			for _, r := range []string{"/dev", "/proc", "/sys"} {
				if clean == "/" || clean == r || strings.HasPrefix(clean, r+"/") {
					return invalid(cf+".volume_mounts", "Mount path %q is reserved: volumes cannot be mounted at /, /dev, /proc, /sys or below them.", mp)
				}
			}
			if mounts[clean] {
				return invalid(cf+".volume_mounts", "Two volumes are mounted at %q.", mp)
			}
			mounts[clean] = true
		}
		if err := validateProbe(cf+".startup_probe", c.GetStartupProbe(), true); err != nil {
			return err
		}
		if err := validateProbe(cf+".liveness_probe", c.GetLivenessProbe(), false); err != nil {
			return err
		}
	}
	return nil
}
