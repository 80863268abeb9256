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

func TestMain(m *testing.M) { acctest.Main(m) }

// promtool returns the path of Debian's promtool. Outside CI a machine without it skips; in CI (where
// .ci/run installs it) its absence fails the test.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if _, e := os.Stat("/usr/bin/promtool"); e == nil {
			return "/usr/bin/promtool"
		}
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is not installed, and CI is set: install Debian's prometheus package (make deps)")
		}
		t.Skip("promtool is not installed (apt-get install prometheus); set CI to make this a failure")
	}
	return p
}

func TestAccPrometheusScrapeConfig_rendersConfigThatPromtoolAccepts(t *testing.T) {
	tool := promtool(t)
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	ca := filepath.Join(dir, "ca.pem")
	for _, f := range []string{token, ca} {
		if err := os.WriteFile(f, []byte("placeholder\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := fmt.Sprintf(`
data "alfred_prometheus_scrape_config" "agents" {
  job_name          = "alfred-agents"
  scrape_interval   = "15s"
  bearer_token_file = %q
  tls = {
    ca_file     = %q
    server_name = "run.app"
  }
  services = [
    { name = "alfred-bot", uri = "https://alfred-bot-3f2a9c0d1e-ew.a.run.app" },
    { name = "social-intel", uri = "https://social-intel-3f2a9c0d1e-ew.a.run.app", metrics_path = "/internal/metrics" },
    { name = "worker", target = "10.0.0.7", port = 9090 },
  ]
}
`, token, ca)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: func(st *terraform.State) error {
				out := st.RootModule().Resources["data.alfred_prometheus_scrape_config.agents"].Primary.Attributes["yaml"]
				file := filepath.Join(dir, "prometheus.yml")
				if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
					return err
				}
				res, err := exec.Command(tool, "check", "config", file).CombinedOutput()
				if err != nil {
					return fmt.Errorf("promtool check config rejected the rendered file: %v\n%s\n---\n%s", err, res, out)
				}
				t.Logf("promtool: %s", strings.TrimSpace(string(res)))
				return checkShape(out, token, ca)
			},
		}},
	})
}

// checkShape asserts the ops guide's shape: one job, https, bearer credentials file, TLS, one static
// target per service labelled service=<name>.
func checkShape(out, token, ca string) error {
	var doc struct {
		ScrapeConfigs []struct {
			JobName        string `yaml:"job_name"`
			ScrapeInterval string `yaml:"scrape_interval"`
			MetricsPath    string `yaml:"metrics_path"`
			Scheme         string `yaml:"scheme"`
			Authorization  struct {
				Type            string `yaml:"type"`
				CredentialsFile string `yaml:"credentials_file"`
			} `yaml:"authorization"`
			TLSConfig struct {
				CAFile     string `yaml:"ca_file"`
				ServerName string `yaml:"server_name"`
			} `yaml:"tls_config"`
			StaticConfigs []struct {
				Targets []string          `yaml:"targets"`
				Labels  map[string]string `yaml:"labels"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal([]byte(out), &doc); err != nil {
		return err
	}
	if len(doc.ScrapeConfigs) != 1 {
		return fmt.Errorf("want one scrape config, got %d", len(doc.ScrapeConfigs))
	}
	sc := doc.ScrapeConfigs[0]
	if sc.JobName != "alfred-agents" || sc.ScrapeInterval != "15s" || sc.MetricsPath != "/metrics" || sc.Scheme != "https" ||
		sc.Authorization.Type != "Bearer" || sc.Authorization.CredentialsFile != token || sc.TLSConfig.CAFile != ca || sc.TLSConfig.ServerName != "run.app" {
		return fmt.Errorf("job settings: %+v", sc)
	}
	want := []struct{ target, service, path string }{
		{"alfred-bot-3f2a9c0d1e-ew.a.run.app", "alfred-bot", ""},
		{"social-intel-3f2a9c0d1e-ew.a.run.app", "social-intel", "/internal/metrics"},
		{"10.0.0.7:9090", "worker", ""},
	}
	if len(sc.StaticConfigs) != len(want) {
		return fmt.Errorf("static configs: %+v", sc.StaticConfigs)
	}
	for i, w := range want {
		g := sc.StaticConfigs[i]
		if len(g.Targets) != 1 || g.Targets[0] != w.target || g.Labels["service"] != w.service || g.Labels["__metrics_path__"] != w.path {
			return fmt.Errorf("static config %d: %+v, want %+v", i, g, w)
		}
	}
	return nil
}

func TestAccPrometheusScrapeConfig_badInputs(t *testing.T) {
	cases := []struct{ body, want string }{
		{`job_name = "alfred agents"` + "\n" + `services = [{ name = "a", uri = "https://a.run.app" }]`, `must be a Prometheus job name`},
		{`job_name = "a"` + "\n" + `scrape_interval = "30 seconds"` + "\n" + `services = [{ name = "a", uri = "https://a.run.app" }]`, `must be a Prometheus duration`},
		{`job_name = "a"` + "\n" + `services = [{ name = "a" }]`, `Invalid Attribute Combination`},
		{`job_name = "a"` + "\n" + `services = [{ name = "a", uri = "https://a.run.app", target = "b:1" }]`, `Invalid Attribute Combination`},
		{`job_name = "a"` + "\n" + `scrape_interval = "10s"` + "\n" + `scrape_timeout = "20s"` + "\n" + `services = [{ name = "a", uri = "https://a.run.app" }]`, `must not be longer than scrape_interval`},
		{`job_name = "a"` + "\n" + `services = [{ name = "a", uri = "a.run.app" }]`, `is not an http\(s\) URL`},
		{`job_name = "a"` + "\n" + `services = [{ name = "a", uri = "https://a.run.app" }, { name = "a", target = "b" }]`, `is listed twice`},
		{`job_name = "a"` + "\n" + `services = [{ name = "a", uri = "https://a-3f2a9c0d1e-ew.a.run.app", port = 9090 }]`, `Cloud\s+Run\s+URL,\s+which\s+serves\s+only\s+port`},
		{`job_name = "a"` + "\n" + `services = [{ name = "a", uri = "https://a-3f2a9c0d1e-ew.a.run.app:8080" }]`, `Cloud\s+Run\s+URL,\s+which\s+serves\s+only\s+port`},
		{`job_name = "a"` + "\n" + `services = [{ name = "a", target = "a-3f2a9c0d1e-ew.a.run.app", port = 9090 }]`, `Cloud\s+Run\s+host,\s+which\s+serves\s+only\s+port`},
	}
	var steps []resource.TestStep
	for _, c := range cases {
		steps = append(steps, resource.TestStep{
			Config:      "data \"alfred_prometheus_scrape_config\" \"x\" {\n" + c.body + "\n}\n",
			ExpectError: regexp.MustCompile(c.want),
		})
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps:                    steps,
	})
}
