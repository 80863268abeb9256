package agentservice

import (
	"context"
	"fmt"
	"hash/fnv"
	"maps"
	"path"
	"strconv"
	"strings"

	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"google.golang.org/protobuf/proto"
)

// ---- vpc_access ----

type vpcAccessModel struct {
	Network    types.String `tfsdk:"network"`
	Subnetwork types.String `tfsdk:"subnetwork"`
	Connector  types.String `tfsdk:"connector"`
	Egress     types.String `tfsdk:"egress"`
}

var vpcAccessAttrTypes = map[string]attr.Type{"network": types.StringType, "subnetwork": types.StringType,
	"connector": types.StringType, "egress": types.StringType}

// VpcAccess.egress: "If not provided, it defaults to PRIVATE_RANGES_ONLY."
const defaultEgress = "private-ranges-only"

var egressToAPI = map[string]runpb.VpcAccess_VpcEgress{
	"all-traffic":         runpb.VpcAccess_ALL_TRAFFIC,
	"private-ranges-only": runpb.VpcAccess_PRIVATE_RANGES_ONLY,
}

func vpcAccessTo(ctx context.Context, m *agentServiceModel, svc *runpb.Service, _ *runpb.Container, diags *diag.Diagnostics) {
	if m.VPCAccess.IsNull() || m.VPCAccess.IsUnknown() {
		return
	}
	var v vpcAccessModel
	diags.Append(m.VPCAccess.As(ctx, &v, objectAsOptions)...)
	egress := v.Egress.ValueString()
	if egress == "" {
		egress = defaultEgress
	}
	va := &runpb.VpcAccess{Connector: v.Connector.ValueString(), Egress: egressToAPI[egress]}
	if !v.Network.IsNull() || !v.Subnetwork.IsNull() {
		va.NetworkInterfaces = []*runpb.VpcAccess_NetworkInterface{{Network: v.Network.ValueString(), Subnetwork: v.Subnetwork.ValueString()}}
	}
	svc.Template.VpcAccess = va
}

// applyVPCAccess keeps network tags another tool set on the interface; the rest is this resource's.
func applyVPCAccess(next, want *runpb.Service, _, _ *runpb.Container) {
	wv := want.GetTemplate().GetVpcAccess()
	if wv == nil {
		next.Template.VpcAccess = nil
		return
	}
	nv := proto.Clone(wv).(*runpb.VpcAccess)
	if cur := next.Template.GetVpcAccess(); cur != nil && len(cur.GetNetworkInterfaces()) > 0 && len(nv.NetworkInterfaces) > 0 {
		nv.NetworkInterfaces[0].Tags = cur.GetNetworkInterfaces()[0].GetTags()
	}
	next.Template.VpcAccess = nv
}

func vpcAccessFrom(ctx context.Context, r *readCtx, m *agentServiceModel, diags *diag.Diagnostics) {
	va := r.t.GetVpcAccess()
	if va == nil || (va.GetConnector() == "" && len(va.GetNetworkInterfaces()) == 0) {
		m.VPCAccess = types.ObjectNull(vpcAccessAttrTypes)
		return
	}
	var prior vpcAccessModel
	if !r.prior.VPCAccess.IsNull() && !r.prior.VPCAccess.IsUnknown() {
		diags.Append(r.prior.VPCAccess.As(ctx, &prior, objectAsOptions)...)
	} else {
		prior = vpcAccessModel{Network: types.StringNull(), Subnetwork: types.StringNull()}
	}
	str := func(s string) types.String {
		if s == "" {
			return types.StringNull()
		}
		return types.StringValue(s)
	}
	network, subnetwork := types.StringNull(), types.StringNull()
	if ni := va.GetNetworkInterfaces(); len(ni) > 0 {
		network, subnetwork = str(ni[0].GetNetwork()), str(ni[0].GetSubnetwork())
		// "If network is not specified, it will be looked up from the subnetwork": a network the server
		// filled in is not a difference when the configuration named only the subnetwork.
		if prior.Network.IsNull() && !prior.Subnetwork.IsNull() && !subnetwork.IsNull() {
			network = types.StringNull()
		}
	}
	egress := defaultEgress
	for k, v := range egressToAPI {
		if v == va.GetEgress() {
			egress = k
		}
	}
	m.VPCAccess = types.ObjectValueMust(vpcAccessAttrTypes, map[string]attr.Value{"network": network, "subnetwork": subnetwork,
		"connector": str(va.GetConnector()), "egress": types.StringValue(egress)})
}

// ---- secret_volumes ----

type secretVolumeModel struct {
	Secret  types.String `tfsdk:"secret"`
	Version types.String `tfsdk:"version"`
	Path    types.String `tfsdk:"path"`
}

var secretVolumeType = types.ObjectType{AttrTypes: map[string]attr.Type{"secret": types.StringType, "version": types.StringType,
	"path": types.StringType}}

// Volumes and mounts this resource manages carry this name prefix; the others belong to other tools and are kept.
const secretVolumePrefix = "alfred-secret-"

// secretVolumeName is the volume's name, derived from its mount path so that it is stable.
func secretVolumeName(mountPath string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(mountPath))
	return fmt.Sprintf("%s%08x", secretVolumePrefix, h.Sum32())
}

func secretVolumesTo(ctx context.Context, m *agentServiceModel, svc *runpb.Service, c *runpb.Container, diags *diag.Diagnostics) {
	if m.SecretVolumes.IsNull() || m.SecretVolumes.IsUnknown() {
		return
	}
	vols := map[string]secretVolumeModel{}
	diags.Append(m.SecretVolumes.ElementsAs(ctx, &vols, false)...)
	for _, mp := range sortedKeys(vols) {
		v := vols[mp]
		name := secretVolumeName(mp)
		svc.Template.Volumes = append(svc.Template.Volumes, &runpb.Volume{Name: name, VolumeType: &runpb.Volume_Secret{
			Secret: &runpb.SecretVolumeSource{Secret: v.Secret.ValueString(),
				Items: []*runpb.VersionToPath{{Path: v.Path.ValueString(), Version: v.Version.ValueString()}}}}})
		c.VolumeMounts = append(c.VolumeMounts, &runpb.VolumeMount{Name: name, MountPath: mp})
	}
}

func applySecretVolumes(next, want *runpb.Service, nc, wc *runpb.Container) {
	t := next.Template
	var vols []*runpb.Volume
	for _, v := range t.GetVolumes() {
		if !strings.HasPrefix(v.GetName(), secretVolumePrefix) {
			vols = append(vols, v)
		}
	}
	for _, v := range want.GetTemplate().GetVolumes() {
		if strings.HasPrefix(v.GetName(), secretVolumePrefix) {
			vols = append(vols, v)
		}
	}
	t.Volumes = vols
	var mounts []*runpb.VolumeMount
	for _, vm := range nc.GetVolumeMounts() {
		if !strings.HasPrefix(vm.GetName(), secretVolumePrefix) {
			mounts = append(mounts, vm)
		}
	}
	for _, vm := range wc.GetVolumeMounts() {
		if strings.HasPrefix(vm.GetName(), secretVolumePrefix) {
			mounts = append(mounts, vm)
		}
	}
	nc.VolumeMounts = mounts
}

func secretVolumesFrom(_ context.Context, r *readCtx, m *agentServiceModel, _ *diag.Diagnostics) {
	byName := map[string]*runpb.Volume{}
	for _, v := range r.t.GetVolumes() {
		byName[v.GetName()] = v
	}
	el := map[string]attr.Value{}
	for _, vm := range r.c.GetVolumeMounts() {
		v := byName[vm.GetName()]
		s := v.GetSecret()
		if !strings.HasPrefix(vm.GetName(), secretVolumePrefix) || s == nil || len(s.GetItems()) != 1 {
			continue
		}
		it := s.GetItems()[0]
		el[vm.GetMountPath()] = types.ObjectValueMust(secretVolumeType.AttrTypes, map[string]attr.Value{
			"secret": types.StringValue(s.GetSecret()), "version": types.StringValue(orDefault(it.GetVersion(), "latest")),
			"path": types.StringValue(it.GetPath())})
	}
	m.SecretVolumes = mapOrNull(secretVolumeType, el, r.prior.SecretVolumes)
}

// reservedMountPath reports a mount path Cloud Run refuses: /dev, /proc, /sys and below them.
func reservedMountPath(p string) bool {
	c := path.Clean(p)
	for _, r := range []string{"/dev", "/proc", "/sys"} {
		if c == r || strings.HasPrefix(c, r+"/") {
			return true
		}
	}
	return c == "/"
}

// ---- metrics: the Managed Service for Prometheus sidecar ----

const (
	// "Use the Prometheus sidecar for Cloud Run" (Managed Service for Prometheus docs): the sidecar image,
	// a container that depends on the app container, and an optional RunMonitoring config read from
	// /etc/rungmp/config.yaml, a Secret Manager volume. Without it, the sidecar's built-in configuration
	// (run-gmp-sidecar confgenerator.DefaultRunMonitoringConfig) scrapes 0.0.0.0:8080/metrics every 30 s.
	defaultSidecarImage = "us-docker.pkg.dev/cloud-ops-agents-artifacts/cloud-run-gmp-sidecar/cloud-run-gmp-sidecar:1.2.0"
	sidecarName         = "gmp-collector"
	sidecarConfigVolume = "alfred-gmp-config"
	sidecarConfigDir    = "/etc/rungmp"
	sidecarConfigFile   = "config.yaml"
	sidecarDefaultPort  = 8080
	sidecarDefaultPath  = "/metrics"
	defaultIngressName  = "agent"
)

func metricsTo(ctx context.Context, m *agentServiceModel, svc *runpb.Service, c *runpb.Container, diags *diag.Diagnostics) {
	if m.Metrics.IsNull() || m.Metrics.IsUnknown() {
		return
	}
	var mm metricsModel
	diags.Append(m.Metrics.As(ctx, &mm, objectAsOptions)...)
	// Recorded for scrapers that read the service (alfred_prometheus_scrape_config's users).
	svc.Annotations = map[string]string{annotationMetricsPath: mm.Path.ValueString()}
	if !mm.Port.IsNull() {
		svc.Annotations[annotationMetricsPort] = strconv.FormatInt(mm.Port.ValueInt64(), 10)
	}
	image := mm.SidecarImage.ValueString()
	if image == "" {
		image = defaultSidecarImage
	}
	c.Name = defaultIngressName
	sidecar := &runpb.Container{Name: sidecarName, Image: image, DependsOn: []string{c.Name}}
	if s := mm.ConfigSecret.ValueString(); s != "" {
		svc.Template.Volumes = append(svc.Template.Volumes, &runpb.Volume{Name: sidecarConfigVolume, VolumeType: &runpb.Volume_Secret{
			Secret: &runpb.SecretVolumeSource{Secret: s, Items: []*runpb.VersionToPath{{Path: sidecarConfigFile, Version: "latest"}}}}})
		sidecar.VolumeMounts = []*runpb.VolumeMount{{Name: sidecarConfigVolume, MountPath: sidecarConfigDir}}
	}
	svc.Template.Containers = append(svc.Template.Containers, sidecar)
}

// applyMetrics replaces this resource's sidecar and its config volume, keeps other sidecars, and names the
// ingress container when the sidecar needs a name to depend on.
func applyMetrics(next, want *runpb.Service, nc, _ *runpb.Container) {
	delete(next.Annotations, annotationMetricsPath)
	delete(next.Annotations, annotationMetricsPort)
	maps.Copy(next.Annotations, want.GetAnnotations())
	t := next.Template
	var cs []*runpb.Container
	for _, c := range t.GetContainers() {
		if c.GetName() != sidecarName || c == nc {
			cs = append(cs, c)
		}
	}
	var vols []*runpb.Volume
	for _, v := range t.GetVolumes() {
		if v.GetName() != sidecarConfigVolume {
			vols = append(vols, v)
		}
	}
	for _, w := range want.GetTemplate().GetContainers() {
		if w.GetName() == sidecarName {
			sc := proto.Clone(w).(*runpb.Container)
			if nc.Name == "" {
				nc.Name = defaultIngressName
			}
			sc.DependsOn = []string{nc.Name}
			cs = append(cs, sc)
		}
	}
	for _, v := range want.GetTemplate().GetVolumes() {
		if v.GetName() == sidecarConfigVolume {
			vols = append(vols, v)
		}
	}
	t.Containers, t.Volumes = cs, vols
}

func metricsFrom(_ context.Context, r *readCtx, m *agentServiceModel, _ *diag.Diagnostics) {
	ann := r.svc.GetAnnotations()
	p, ok := ann[annotationMetricsPath]
	if !ok {
		m.Metrics = types.ObjectNull(metricsAttrTypes)
		return
	}
	port := types.Int64Null()
	if n, err := strconv.ParseInt(ann[annotationMetricsPort], 10, 64); err == nil {
		port = types.Int64Value(n)
	}
	// A sidecar removed outside Terraform reads as no image: the plan puts it back.
	image, secret := types.StringNull(), types.StringNull()
	for _, c := range r.t.GetContainers() {
		if c.GetName() == sidecarName {
			image = types.StringValue(c.GetImage())
		}
	}
	for _, v := range r.t.GetVolumes() {
		if v.GetName() == sidecarConfigVolume && v.GetSecret() != nil {
			secret = types.StringValue(v.GetSecret().GetSecret())
		}
	}
	m.Metrics = types.ObjectValueMust(metricsAttrTypes, map[string]attr.Value{"port": port, "path": types.StringValue(p),
		"sidecar_image": image, "config_secret": secret})
}
