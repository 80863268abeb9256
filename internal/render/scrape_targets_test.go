package render_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"gopkg.in/yaml.v3"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

type renderedTarget struct {
	Targets []string          `yaml:"targets"`
	Labels  map[string]string `yaml:"labels"`
}

func renderedTargets(out string) ([]renderedTarget, string, error) {
	var doc struct {
		ScrapeConfigs []struct {
			Scheme        string           `yaml:"scheme"`
			StaticConfigs []renderedTarget `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal([]byte(out), &doc); err != nil {
		return nil, "", err
	}
	if len(doc.ScrapeConfigs) != 1 {
		return nil, "", fmt.Errorf("want one scrape config: %s", out)
	}
	return doc.ScrapeConfigs[0].StaticConfigs, doc.ScrapeConfigs[0].Scheme, nil
}

func promtoolAccepts(t *testing.T, tool, out string) error {
	file := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
		return err
	}
	if res, err := exec.Command(tool, "check", "config", file).CombinedOutput(); err != nil {
		return fmt.Errorf("promtool check config rejected the rendered file: %v\n%s\n---\n%s", err, res, out)
	}
	return nil
}

// TestAccPrometheusScrapeConfig_targetsFromURIs: the target is the URI's host (scheme, path, query and
// user info stripped), a port replaces the URI's port also for IPv6 literals, and a URI whose scheme is not
// the job's is scraped with its own scheme, not the job's.
func TestAccPrometheusScrapeConfig_targetsFromURIs(t *testing.T) {
	tool := promtool(t)
	cfg := `
data "alfred_prometheus_scrape_config" "agents" {
  job_name = "alfred-agents"
  services = [
    { name = "bot", uri = "https://bot-3f2a9c0d1e-ew.a.run.app/api/v1?x=1#frag" },
    { name = "v6", uri = "https://[fd00::7]:8443/base", port = 9090 },
    { name = "plain", uri = "http://10.0.0.8:8080/", metrics_path = "/internal/metrics" },
    { name = "ported", uri = "https://user@ported.example.com:8443", port = 9091 },
  ]
}
`
	want := []struct{ target, scheme, path string }{
		{"bot-3f2a9c0d1e-ew.a.run.app", "", ""},
		{"[fd00::7]:9090", "", ""},
		{"10.0.0.8:8080", "http", "/internal/metrics"},
		{"ported.example.com:9091", "", ""},
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: func(st *terraform.State) error {
				out := st.RootModule().Resources["data.alfred_prometheus_scrape_config.agents"].Primary.Attributes["yaml"]
				if err := promtoolAccepts(t, tool, out); err != nil {
					return err
				}
				got, scheme, err := renderedTargets(out)
				if err != nil {
					return err
				}
				if scheme != "https" || len(got) != len(want) {
					return fmt.Errorf("scheme %q, targets %+v", scheme, got)
				}
				for i, w := range want {
					g := got[i]
					if len(g.Targets) != 1 || g.Targets[0] != w.target || g.Labels["__scheme__"] != w.scheme || g.Labels["__metrics_path__"] != w.path {
						return fmt.Errorf("target %d: %+v, want %+v\n%s", i, g, w, out)
					}
				}
				return nil
			},
		}},
	})
}

// TestAccPrometheusScrapeConfig_promtoolAcceptsVariants runs promtool over several shapes: http scheme,
// client TLS, per-service ports and paths, a short interval.
func TestAccPrometheusScrapeConfig_promtoolAcceptsVariants(t *testing.T) {
	tool := promtool(t)
	dir := t.TempDir()
	files := map[string]string{}
	for _, f := range []string{"token", "ca.pem", "cert.pem", "key.pem"} {
		files[f] = filepath.Join(dir, f)
		if err := os.WriteFile(files[f], []byte("placeholder\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	variants := map[string]string{
		"http": `
  scheme = "http"
  services = [{ name = "a", target = "10.0.0.1:8080" }, { name = "b", uri = "http://b.internal:9000/x" }]`,
		"tls": fmt.Sprintf(`
  bearer_token_file = %q
  tls = { ca_file = %q, cert_file = %q, key_file = %q, server_name = "run.app" }
  services = [{ name = "a", uri = "https://a-1-ew.a.run.app" }]`, files["token"], files["ca.pem"], files["cert.pem"], files["key.pem"]),
		"ports-and-paths": `
  metrics_path    = "/prom"
  scrape_interval = "5s"
  services = [
    { name = "a", uri = "https://agent-a.internal.example.com", port = 9090 },
    { name = "b", target = "b.internal", port = 9100, metrics_path = "/metrics" },
    { name = "c", target = "c.internal:9200", metrics_path = "/prom" },
  ]`,
	}
	for name, body := range variants {
		t.Run(name, func(t *testing.T) {
			cfg := "data \"alfred_prometheus_scrape_config\" \"x\" {\n  job_name = \"agents\"\n" + body + "\n}\n" +
				"output \"yaml\" {\n  value = data.alfred_prometheus_scrape_config.x.yaml\n}\n"
			var first string
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { acctest.PreCheck(t) },
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				Steps: []resource.TestStep{
					{
						Config: cfg,
						Check: func(st *terraform.State) error {
							first = st.RootModule().Outputs["yaml"].Value.(string)
							return promtoolAccepts(t, tool, first)
						},
					},
					{
						// Rendered again: byte for byte the same, so plans never show a diff.
						Config: cfg,
						Check: func(st *terraform.State) error {
							if again := st.RootModule().Outputs["yaml"].Value.(string); again != first {
								return fmt.Errorf("the YAML changed between two renders:\n%s\n---\n%s", first, again)
							}
							if name == "ports-and-paths" && (strings.Count(first, "__metrics_path__") != 1 || !strings.Contains(first, "b.internal:9100")) {
								return fmt.Errorf("per-service paths/ports: %s", first)
							}
							return nil
						},
					},
				},
			})
		})
	}
}

func TestAccPrometheusScrapeConfig_emptyNamesRejected(t *testing.T) {
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      "data \"alfred_prometheus_scrape_config\" \"x\" {\n  job_name = \"a\"\n  services = [{ name = \"\", uri = \"https://a.run.app\" }]\n}\n",
			ExpectError: regexp.MustCompile(`services\[0\]\.name[\s\S]*at\s+least\s+1`),
		}},
	})
}
