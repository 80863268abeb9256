package modulesdoc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadReadsVariablesAndOutputsAsWritten(t *testing.T) {
	dir := t.TempDir()
	tf := `variable "roles" {
  description = <<-EOT
    Roles by name.
    Second line.
  EOT
  type = map(object({
    permissions = optional(set(string), [])
  }))
  default = {}
  validation {
    condition     = length(var.roles) < 5
    error_message = "At most four roles."
  }
}

variable "token" {
  type      = string
  sensitive = true
}

output "ids" {
  description = "The ids."
  value       = 1
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(tf), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Variables) != 2 || len(m.Outputs) != 1 {
		t.Fatalf("want 2 variables and 1 output, got %+v", m)
	}
	roles, token := m.Variables[0], m.Variables[1]
	if roles.Description != "Roles by name.\nSecond line." || roles.Default != "{}" || roles.Validations[0] != "At most four roles." {
		t.Errorf("roles: %+v", roles)
	}
	if roles.Type != "map(object({\n  permissions = optional(set(string), [])\n}))" {
		t.Errorf("the type must be the source, its indentation shifted left:\n%s", roles.Type)
	}
	if !token.Sensitive || token.Default != "" {
		t.Errorf("token: %+v", token)
	}
	md := m.Markdown()
	for _, want := range []string{"| [`roles`](#input-roles) | no | Roles by name. |", "| [`token`](#input-token) | **yes** (sensitive) |", "| `ids` | The ids. |", "- At most four roles."} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestRenderReplacesOnlyTheGeneratedPart(t *testing.T) {
	m := &Module{Outputs: []Output{{Name: "uri", Description: "The URL."}}}
	readme := "# intro\n\nBy hand.\n\n" + Begin + "\nstale\n" + End + "\n\nAfter, by hand.\n"
	got := Render(readme, m)
	if !strings.HasPrefix(got, "# intro\n\nBy hand.\n\n"+Begin) || !strings.HasSuffix(got, End+"\n\nAfter, by hand.\n") ||
		strings.Contains(got, "stale") || !strings.Contains(got, "| `uri` | The URL. |") {
		t.Errorf("Render:\n%s", got)
	}
	if Render(got, m) != got {
		t.Error("Render of its own output must change nothing")
	}
	if appended := Render("# intro\n", m); !strings.HasPrefix(appended, "# intro\n\n"+Begin) {
		t.Errorf("a README without markers gets them appended:\n%s", appended)
	}
}

func TestFirstSentenceSkipsAbbreviations(t *testing.T) {
	if got := firstSentence("Retention (e.g. `90d`), i.e. how long. Then more."); got != "Retention (e.g. `90d`), i.e. how long." {
		t.Errorf("got %q", got)
	}
}
