package agentservice

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

var (
	serviceNameRE = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$`)
	quantityRE    = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$`)
	memberRE      = regexp.MustCompile(`^(allUsers|allAuthenticatedUsers|(user|serviceAccount|group):[^@\s]+@[^@\s]+\.[^@\s]+|domain:[a-z0-9.-]+\.[a-z]{2,}|principal(Set)?://\S+)$`)
	secretRE      = regexp.MustCompile(`^([a-zA-Z0-9_-]{1,255}|projects/[a-z0-9-]+/secrets/[a-zA-Z0-9_-]{1,255})$`)
	versionRE     = regexp.MustCompile(`^(latest|[1-9][0-9]*)$`)
	labelKeyRE    = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	labelValueRE  = regexp.MustCompile(`^[a-z0-9_-]{0,63}$`)
	envNameRE     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	emailRE       = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
)

var reservedNamespaces = []string{"run.googleapis.com", "cloud.googleapis.com", "serving.knative.dev", "autoscaling.knative.dev"}

func reservedKey(k string) bool {
	for _, ns := range reservedNamespaces {
		if strings.HasPrefix(k, ns+"/") || k == ns || strings.HasSuffix(strings.SplitN(k, "/", 2)[0], "."+ns) {
			return true
		}
	}
	return false
}

// parseQuantity parses a Kubernetes quantity (cores or bytes).
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

// sameQuantity reports whether two quantities denote the same amount ("1" and "1000m").
func sameQuantity(a, b string) bool {
	x, ok1 := parseQuantity(a)
	y, ok2 := parseQuantity(b)
	return ok1 && ok2 && math.Abs(x-y) < 1e-9*math.Max(1, math.Abs(x))
}

// parseTimeout accepts Go durations ("300s", "5m") and returns whole seconds.
func parseTimeout(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	return d, nil
}

func cpuValidator() validator.String {
	return shared.StringCheck{Desc: "cpu: 1, 2, 4, 6 or 8 (or 1000m...), or 0.08 to 1 with concurrency 1", Fn: func(s string) string {
		n, ok := parseQuantity(s)
		if !ok {
			return fmt.Sprintf("%q is not a CPU quantity. Use a number of CPUs such as \"1\", \"2\" or \"1000m\".", s)
		}
		if n >= 1 && n == math.Trunc(n) && (n == 1 || n == 2 || n == 4 || n == 6 || n == 8) {
			return ""
		}
		if n >= 0.08 && n < 1 {
			if milli := n * 1000; math.Abs(milli-math.Round(milli)) > 1e-6 {
				return fmt.Sprintf("A fractional CPU is set in steps of 0.001 (1m); got %q.", s)
			}
			return ""
		}
		return fmt.Sprintf("Cloud Run supports 1, 2, 4, 6 or 8 CPUs (or a fraction from 0.08 to 1 with concurrency = 1); got %q.", s)
	}}
}

func memoryValidator() validator.String {
	return shared.StringCheck{Desc: "memory: a quantity from 128Mi to 32Gi", Fn: func(s string) string {
		n, ok := parseQuantity(s)
		if !ok || strings.HasSuffix(s, "m") {
			return fmt.Sprintf("%q is not a memory quantity. Use a number with a unit such as \"512Mi\" or \"2Gi\".", s)
		}
		if n < 128*(1<<20) || n > 32*(1<<30) {
			return fmt.Sprintf("Cloud Run memory must be between 128Mi and 32Gi; got %q.", s)
		}
		return ""
	}}
}

func timeoutValidator() validator.String {
	return shared.StringCheck{Desc: "request timeout: a duration from 1s to 3600s", Fn: func(s string) string {
		d, err := parseTimeout(s)
		if err != nil {
			return fmt.Sprintf("%q is not a duration. Use a number of seconds with a unit, e.g. \"300s\" or \"5m\".", s)
		}
		if d < time.Second || d > time.Hour || d%time.Second != 0 {
			return fmt.Sprintf("The request timeout must be a whole number of seconds from 1s to 3600s; got %q.", s)
		}
		return ""
	}}
}

// labelsValidator rejects reserved namespaces and malformed keys or values.
type labelsValidator struct{}

func (labelsValidator) Description(context.Context) string {
	return "labels: lowercase keys and values, no reserved Google namespaces"
}
func (v labelsValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (labelsValidator) ValidateMap(ctx context.Context, req validator.MapRequest, resp *validator.MapResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	for k, v := range req.ConfigValue.Elements() {
		if reservedKey(k) {
			resp.Diagnostics.AddAttributeError(req.Path.AtMapKey(k), "Reserved label namespace",
				fmt.Sprintf("The label %q uses a namespace that Cloud Run reserves for itself (%s). Choose a key outside them, "+
					"e.g. \"team\" or \"alfred-role\".", k, strings.Join(reservedNamespaces, ", ")))
			continue
		}
		if !labelKeyRE.MatchString(k) {
			resp.Diagnostics.AddAttributeError(req.Path.AtMapKey(k), "Invalid label key",
				fmt.Sprintf("The label key %q must start with a lowercase letter and use at most 63 lowercase letters, digits, "+
					"underscores and dashes.", k))
		}
		if s, ok := v.(types.String); ok && !s.IsUnknown() && !labelValueRE.MatchString(s.ValueString()) {
			resp.Diagnostics.AddAttributeError(req.Path.AtMapKey(k), "Invalid label value",
				fmt.Sprintf("The value %q of label %q may use at most 63 lowercase letters, digits, underscores and dashes.", s.ValueString(), k))
		}
	}
}

// envKeysValidator checks environment variable names (and that PORT, which Cloud Run sets, is not used).
type envKeysValidator struct{}

func (envKeysValidator) Description(context.Context) string {
	return "environment variable names: letters, digits, underscores; not PORT"
}
func (v envKeysValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (envKeysValidator) ValidateMap(_ context.Context, req validator.MapRequest, resp *validator.MapResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	for k := range req.ConfigValue.Elements() {
		switch {
		case k == "PORT":
			resp.Diagnostics.AddAttributeError(req.Path.AtMapKey(k), "Reserved environment variable",
				"Cloud Run sets PORT itself from the service's port; set `port` instead of the PORT variable.")
		case !envNameRE.MatchString(k):
			resp.Diagnostics.AddAttributeError(req.Path.AtMapKey(k), "Invalid environment variable name",
				fmt.Sprintf("%q is not a valid environment variable name: use letters, digits and underscores, not starting with a digit.", k))
		}
	}
}

// scalingValidator checks min_instances <= max_instances, and the env/secret_env overlap, across attributes.
type crossValidator struct{}

func (crossValidator) Description(context.Context) string {
	return "min_instances <= max_instances; env and secret_env do not share names"
}
func (v crossValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (crossValidator) ValidateResource(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var minI, maxI, conc types.Int64
	var cpu, memory quantityValue
	var env, secretEnv types.Map
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("min_instances"), &minI)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("max_instances"), &maxI)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("concurrency"), &conc)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("cpu"), &cpu)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("memory"), &memory)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("env"), &env)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("secret_env"), &secretEnv)...)
	if resp.Diagnostics.HasError() {
		return
	}
	maxV := int64(defaultMaxInstances)
	if !maxI.IsNull() && !maxI.IsUnknown() {
		maxV = maxI.ValueInt64()
	}
	if !minI.IsNull() && !minI.IsUnknown() && minI.ValueInt64() > maxV {
		resp.Diagnostics.AddAttributeError(path.Root("min_instances"), "min_instances is above max_instances",
			fmt.Sprintf("min_instances (%d) must not exceed max_instances (%d). Lower min_instances or raise max_instances.", minI.ValueInt64(), maxV))
	}
	if !cpu.IsNull() && !cpu.IsUnknown() {
		if n, ok := parseQuantity(cpu.ValueString()); ok && n < 1 && (conc.IsNull() || (!conc.IsUnknown() && conc.ValueInt64() != 1)) {
			resp.Diagnostics.AddAttributeError(path.Root("cpu"), "Fractional CPU needs concurrency 1",
				fmt.Sprintf("cpu = %q is below one CPU, which Cloud Run allows only with concurrency = 1.", cpu.ValueString()))
		}
	}
	if !cpu.IsUnknown() && !memory.IsUnknown() {
		c, m := cpu.ValueString(), memory.ValueString()
		if cpu.IsNull() {
			c = defaultCPU
		}
		if memory.IsNull() {
			m = defaultMemory
		}
		cn, ok1 := parseQuantity(c)
		mn, ok2 := parseQuantity(m)
		if problem := cpuMemoryProblem(cn, mn); ok1 && ok2 && problem != "" {
			resp.Diagnostics.AddAttributeError(path.Root("memory"), "CPU and memory do not fit together", problem)
		}
	}
	if !env.IsNull() && !env.IsUnknown() && !secretEnv.IsNull() && !secretEnv.IsUnknown() {
		for k := range secretEnv.Elements() {
			if _, dup := env.Elements()[k]; dup {
				resp.Diagnostics.AddAttributeError(path.Root("secret_env").AtMapKey(k), "Variable set twice",
					fmt.Sprintf("%q is in both env and secret_env; keep it in one of them.", k))
			}
		}
	}
}

// cpuMemoryProblem applies Cloud Run's documented pairing of CPU and memory ("Configure CPU limits":
// 4 CPUs need at least 2 GiB, 6 and 8 CPUs at least 4 GiB; "Configure memory limits": more than 512 MiB
// needs 0.5 CPU, more than 1 GiB 1 CPU, more than 4 GiB 2, more than 8 GiB 4, more than 16 GiB 6, more
// than 24 GiB 8). It returns what to change, or "".
func cpuMemoryProblem(cpu, mem float64) string {
	const gi = 1 << 30
	for _, r := range []struct{ cpu, minGi float64 }{{6, 4}, {4, 2}} {
		if cpu >= r.cpu && mem < r.minGi*gi {
			return fmt.Sprintf("%v CPUs need at least %vGi of memory; raise memory or lower cpu.", cpu, r.minGi)
		}
	}
	for _, r := range []struct{ overGi, minCPU float64 }{{24, 8}, {16, 6}, {8, 4}, {4, 2}, {1, 1}, {0.5, 0.5}} {
		if mem > r.overGi*gi && cpu < r.minCPU {
			return fmt.Sprintf("Memory above %s needs at least %v CPU (cpu is %v); raise cpu or lower memory.",
				strconv.FormatFloat(r.overGi, 'f', -1, 64)+"Gi", r.minCPU, cpu)
		}
	}
	return ""
}

var (
	networkRE    = regexp.MustCompile(`^([a-z]([-a-z0-9]{0,61}[a-z0-9])?|projects/[^/\s]+/global/networks/[a-z]([-a-z0-9]{0,61}[a-z0-9])?)$`)
	subnetworkRE = regexp.MustCompile(`^([a-z]([-a-z0-9]{0,61}[a-z0-9])?|projects/[^/\s]+/regions/[a-z]+-[a-z]+[0-9]+/subnetworks/[a-z]([-a-z0-9]{0,61}[a-z0-9])?)$`)
	connectorRE  = regexp.MustCompile(`^projects/[^/\s]+/locations/[a-z]+-[a-z]+[0-9]+/connectors/[a-z][-a-z0-9]{0,23}$`)
)

// mountPathValidator refuses the mount paths Cloud Run reserves.
type mountPathValidator struct{}

func (mountPathValidator) Description(context.Context) string {
	return "not /, /dev, /proc, /sys or below them"
}
func (v mountPathValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}
func (mountPathValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if reservedMountPath(req.ConfigValue.ValueString()) {
		resp.Diagnostics.AddAttributeError(req.Path, "Reserved mount path",
			fmt.Sprintf("%q cannot be a volume's mount path: Cloud Run keeps /, /dev, /proc and /sys (and what is below them) "+
				"for itself. Mount secrets under a directory of your own, e.g. /secrets/openai.", req.ConfigValue.ValueString()))
	}
}
