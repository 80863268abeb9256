package cloudrun

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var (
	projectRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,28}[a-z0-9]$|^[a-z]$|^[0-9]+$`)
	regionRE  = regexp.MustCompile(`^[a-z]+-[a-z]+[0-9]+$`)
	// Service and job ids: lowercase letters, digits and hyphens, starting with a letter, not ending with a
	// hyphen; services at most 49 characters, jobs at most 63.
	idRE = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)
	// A Kubernetes quantity: a decimal number with an optional binary or decimal suffix.
	quantityRE = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$`)
	// Label keys and values, as Google Cloud labels allow.
	labelKeyRE   = regexp.MustCompile(`^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$`)
	labelValueRE = regexp.MustCompile(`^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$`)
	envNameRE    = regexp.MustCompile(`^[^=]+$`)
	// A DNS label (RFC 1123), as Kubernetes checks container names: lowercase letters, digits and '-',
	// beginning and ending with a letter or digit; at most 63 characters (checked apart).
	dnsLabelRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
)

// reservedNamespaces are the label and annotation namespaces that the v2 API refuses in requests.
var reservedNamespaces = []string{"run.googleapis.com", "cloud.googleapis.com", "serving.knative.dev", "autoscaling.knative.dev"}

func reservedKey(k string) bool {
	for _, ns := range reservedNamespaces {
		if k == ns || strings.HasPrefix(k, ns+"/") || strings.HasSuffix(strings.SplitN(k, "/", 2)[0], "."+ns) {
			return true
		}
	}
	return false
}

// invalid builds an INVALID_ARGUMENT status with a BadRequest field violation, as Google APIs do.
func invalid(field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	st := status.New(codes.InvalidArgument, msg)
	if d, err := st.WithDetails(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: msg}}}); err == nil {
		return d.Err()
	}
	return st.Err()
}

func validateID(kind, id string, maxLen int) error {
	if id == "" {
		return invalid(kind+"_id", "%s_id is required.", kind)
	}
	if len(id) > maxLen || !idRE.MatchString(id) {
		return invalid(kind+"_id", "Invalid %s id %q: it must use only lowercase alphanumeric characters and dashes, "+
			"cannot begin or end with a dash, must begin with a letter, and cannot be longer than %d characters.", kind, id, maxLen)
	}
	return nil
}

// maxLabels is the number of user labels a resource may carry: "No more than 64 labels can be associated with
// a given resource", keys and values "must both be under 128 bytes" (Google Cloud label requirements, which
// Service.labels links to).
const maxLabels = 64

func validateMeta(field string, labels, annotations map[string]string, serverOwned map[string]string) error {
	user := 0
	for k := range labels {
		if !reservedKey(k) {
			user++
		}
	}
	if user > maxLabels {
		return invalid(field+".labels", "%d labels were given: no more than %d labels can be associated with a resource.", user, maxLabels)
	}
	for k, v := range labels {
		if reservedKey(k) && serverOwned[k] != v {
			return invalid(field+".labels", "Label %q uses a reserved namespace: labels in the run.googleapis.com, "+
				"cloud.googleapis.com, serving.knative.dev and autoscaling.knative.dev namespaces are not supported in the v2 API.", k)
		}
		if reservedKey(k) {
			continue
		}
		if !labelKeyRE.MatchString(k) || !labelValueRE.MatchString(v) || len(k) >= 128 || len(v) >= 128 {
			return invalid(field+".labels", "Invalid label %q=%q: keys start with a lowercase letter and use at most 63 "+
				"lowercase letters, digits, underscores and dashes; values use the same characters; both are under 128 bytes.", k, v)
		}
	}
	for k := range annotations {
		if reservedKey(k) && serverOwned[k] != annotations[k] {
			return invalid(field+".annotations", "Annotation %q uses a reserved namespace: annotations in the run.googleapis.com, "+
				"cloud.googleapis.com, serving.knative.dev and autoscaling.knative.dev namespaces are not supported in the v2 API; "+
				"use the corresponding v2 field instead.", k)
		}
	}
	return nil
}

// ParseQuantity parses a Kubernetes quantity into a float64 of base units (cores or bytes).
func parseQuantity(q string) (float64, bool) {
	m := quantityRE.FindStringSubmatch(q)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	mult := map[string]float64{"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
		"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40}[m[2]]
	return n * mult, true
}

// validateContainer checks what Cloud Run checks in a container: an image, cpu and memory limits.
// concurrency is the instance's effective maximum concurrency (1 for jobs); minMemory is 128 MiB, or
// 512 MiB in the second generation execution environment ("Configure memory limits": minimum memory).
func validateContainer(field string, c *runpb.Container, concurrency int32, minMemory float64) error {
	if c.GetImage() == "" {
		return invalid(field+".image", "Container image is required.")
	}
	// Container.name: "Name of the container specified as a DNS_LABEL (RFC 1123)."
	if n := c.GetName(); n != "" && (len(n) > 63 || !dnsLabelRE.MatchString(n)) {
		return invalid(field+".name", "Invalid container name %q: it must be a DNS label (RFC 1123): at most 63 lowercase letters, digits and '-', "+
			"starting and ending with a letter or digit.", n)
	}
	for _, e := range c.GetEnv() {
		if e.GetName() == "" || !envNameRE.MatchString(e.GetName()) {
			return invalid(field+".env", "Invalid environment variable name %q.", e.GetName())
		}
		if e.GetName() == "PORT" {
			return invalid(field+".env", "The following reserved env names were provided: PORT. These values are automatically set by the system.")
		}
		if ref := e.GetValueSource().GetSecretKeyRef(); ref != nil {
			if ref.GetSecret() == "" {
				return invalid(field+".env", "Environment variable %q: secret is required in secret_key_ref.", e.GetName())
			}
		}
	}
	for _, p := range c.GetPorts() {
		if p.GetContainerPort() < 1 || p.GetContainerPort() > 65535 {
			return invalid(field+".ports", "Invalid container port %d: must be between 1 and 65535.", p.GetContainerPort())
		}
	}
	if len(c.GetPorts()) > 1 {
		return invalid(field+".ports", "Only one container port is supported per container.")
	}
	lim := c.GetResources().GetLimits()
	for k := range lim {
		if k != "cpu" && k != "memory" && k != "nvidia.com/gpu" {
			return invalid(field+".resources.limits", "Unsupported resource limit %q: only cpu, memory and nvidia.com/gpu are supported.", k)
		}
	}
	cpu, mem := 1.0, 512.0*(1<<20)
	if v, ok := lim["cpu"]; ok {
		n, ok := parseQuantity(v)
		if !ok {
			return invalid(field+".resources.limits.cpu", "Invalid value %q for cpu: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'.", v)
		}
		whole := n >= 1 && n == math.Trunc(n)
		milli := n * 1000
		switch {
		case whole && (n == 1 || n == 2 || n == 4 || n == 6 || n == 8):
		case n >= 0.08 && n < 1 && math.Abs(milli-math.Round(milli)) < 1e-6:
			// "If you use less than 1 CPU ... Maximum concurrency must be set to 1." An unset concurrency
			// is the default 80, so it must be set explicitly.
			if concurrency != 1 {
				return invalid(field+".resources.limits.cpu", "Invalid value %q for cpu: a cpu limit below 1 requires max_instance_request_concurrency = 1.", v)
			}
		default:
			return invalid(field+".resources.limits.cpu", "Invalid value %q for cpu: the supported values are 1, 2, 4, 6 and 8, or a value from 0.08 to 1 in increments of 0.001 (with concurrency 1).", v)
		}
		cpu = n
	}
	if v, ok := lim["memory"]; ok {
		n, ok := parseQuantity(v)
		if !ok {
			return invalid(field+".resources.limits.memory", "Invalid value %q for memory: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'.", v)
		}
		if n < minMemory || n > 32*(1<<30) {
			return invalid(field+".resources.limits.memory", "Invalid value %q for memory: it must be between %s and 32Gi.", v, formatMi(minMemory))
		}
		mem = n
	}
	// "Configure CPU limits" (memory required per CPU): 4 CPU 2-16 GiB, 6 CPU 4-24 GiB, 8 CPU 4-32 GiB;
	// "Configure memory limits" (minimum CPUs): more than 4 GiB needs 2, more than 8 GiB 4, more than
	// 16 GiB 6, more than 24 GiB 8; below 1 CPU: more than 512 MiB needs 0.5 CPU, more than 1 GiB needs 1.
	if cpu >= 4 && mem < 2*(1<<30) {
		return invalid(field+".resources.limits", "Setting %v CPU requires at least 2Gi of memory.", cpu)
	}
	if cpu >= 6 && mem < 4*(1<<30) {
		return invalid(field+".resources.limits", "Setting %v CPU requires at least 4Gi of memory.", cpu)
	}
	for _, r := range []struct{ overGi, minCPU float64 }{{24, 8}, {16, 6}, {8, 4}, {4, 2}, {1, 1}, {0.5, 0.5}} {
		if mem > r.overGi*(1<<30) && cpu < r.minCPU {
			return invalid(field+".resources.limits", "Setting %s of memory requires at least %v CPU (memory above %s needs %v CPU); got cpu %v.",
				formatMi(mem), r.minCPU, formatMi(r.overGi*(1<<30)), r.minCPU, cpu)
		}
	}
	return nil
}

// formatMi writes a byte count in Mi (or Gi when whole).
func formatMi(b float64) string {
	if g := b / (1 << 30); g == math.Trunc(g) {
		return strconv.FormatFloat(g, 'f', -1, 64) + "Gi"
	}
	return strconv.FormatFloat(b/(1<<20), 'f', -1, 64) + "Mi"
}

// imageTag returns the tag of an image reference ("" when it has none or uses a digest).
func imageTag(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		return ""
	}
	last := image[strings.LastIndex(image, "/")+1:]
	if i := strings.LastIndex(last, ":"); i >= 0 {
		return last[i+1:]
	}
	return ""
}

// imageRepo returns the repository of an image without registry path or tag ("alfredctl" for
// "local/alfredctl:latest").
func imageRepo(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		image = image[:i]
	}
	last := image[strings.LastIndex(image, "/")+1:]
	if i := strings.LastIndex(last, ":"); i >= 0 {
		last = last[:i]
	}
	return last
}
