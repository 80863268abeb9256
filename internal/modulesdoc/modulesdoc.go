// Package modulesdoc renders the inputs and outputs of a Terraform module (its variable and output blocks,
// read with hcl/v2) as markdown, between markers in the module's README.md: `make generate` writes it, and
// a test fails when a README has drifted from its module, as CI does for docs/.
package modulesdoc

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Begin and End enclose the generated part of a README; what is outside them is written by hand.
const (
	Begin = "<!-- BEGIN GENERATED INPUTS AND OUTPUTS (make generate) -->"
	End   = "<!-- END GENERATED INPUTS AND OUTPUTS -->"
)

// Variable is a module input.
type Variable struct {
	Name, Description string
	Type, Default     string // HCL source text; Default is empty when the variable is required
	Sensitive         bool
	Validations       []string // error messages of the validation blocks
}

// Output is a module output.
type Output struct {
	Name, Description string
	Sensitive         bool
}

// Module is what a module's .tf files declare.
type Module struct {
	Variables []Variable
	Outputs   []Output
}

// Load reads the variable and output blocks of the .tf files of dir.
func Load(dir string) (*Module, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	m := &Module{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		file, diags := hclsyntax.ParseConfig(src, f, hcl.InitialPos)
		if diags.HasErrors() {
			return nil, diags
		}
		for _, b := range file.Body.(*hclsyntax.Body).Blocks {
			if len(b.Labels) != 1 {
				continue
			}
			switch b.Type {
			case "variable":
				v := Variable{Name: b.Labels[0]}
				for name, a := range b.Body.Attributes {
					switch name {
					case "description":
						v.Description = str(src, a)
					case "type":
						v.Type = source(src, a)
					case "default":
						v.Default = source(src, a)
					case "sensitive":
						v.Sensitive = boolean(a)
					}
				}
				for _, vb := range b.Body.Blocks {
					if a, ok := vb.Body.Attributes["error_message"]; vb.Type == "validation" && ok {
						v.Validations = append(v.Validations, str(src, a))
					}
				}
				m.Variables = append(m.Variables, v)
			case "output":
				o := Output{Name: b.Labels[0]}
				if a, ok := b.Body.Attributes["description"]; ok {
					o.Description = str(src, a)
				}
				if a, ok := b.Body.Attributes["sensitive"]; ok {
					o.Sensitive = boolean(a)
				}
				m.Outputs = append(m.Outputs, o)
			}
		}
	}
	sort.Slice(m.Variables, func(i, j int) bool { return m.Variables[i].Name < m.Variables[j].Name })
	sort.Slice(m.Outputs, func(i, j int) bool { return m.Outputs[i].Name < m.Outputs[j].Name })
	return m, nil
}

// str evaluates a string attribute without variables; a template that refers to some is shown as written.
func str(src []byte, a *hclsyntax.Attribute) string {
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || !v.Type().Equals(cty.String) || v.IsNull() {
		return source(src, a)
	}
	return strings.TrimSpace(v.AsString())
}

func boolean(a *hclsyntax.Attribute) bool {
	v, diags := a.Expr.Value(nil)
	return !diags.HasErrors() && v.Type().Equals(cty.Bool) && v.True()
}

// source is the expression as written, its continuation lines shifted left by the attribute's indentation.
func source(src []byte, a *hclsyntax.Attribute) string {
	r := a.Expr.Range()
	text := string(src[r.Start.Byte:r.End.Byte])
	indent := strings.Repeat(" ", a.SrcRange.Start.Column-1)
	return strings.ReplaceAll(text, "\n"+indent, "\n")
}

// Markdown renders the inputs and outputs: a table of each, then every input's type, default and checks.
func (m *Module) Markdown() string {
	var b bytes.Buffer
	b.WriteString("## Inputs\n\n| name | required | description |\n|---|---|---|\n")
	for _, v := range m.Variables {
		req := "no"
		if v.Default == "" {
			req = "**yes**"
		}
		if v.Sensitive {
			req += " (sensitive)"
		}
		fmt.Fprintf(&b, "| [`%s`](#input-%s) | %s | %s |\n", v.Name, v.Name, req, cell(firstSentence(v.Description)))
	}
	b.WriteString("\n## Outputs\n\n| name | description |\n|---|---|\n")
	for _, o := range m.Outputs {
		d := cell(o.Description)
		if o.Sensitive {
			d += " (sensitive)"
		}
		fmt.Fprintf(&b, "| `%s` | %s |\n", o.Name, d)
	}
	b.WriteString("\n## Input details\n")
	for _, v := range m.Variables {
		fmt.Fprintf(&b, "\n### input %s\n\n", v.Name)
		if v.Description != "" {
			b.WriteString(strings.Join(strings.Fields(v.Description), " ") + "\n\n")
		}
		b.WriteString("```hcl\ntype = " + v.Type + "\n")
		if v.Default != "" {
			b.WriteString("default = " + v.Default + "\n")
		}
		b.WriteString("```\n")
		if len(v.Validations) > 0 {
			b.WriteString("\nRefused at plan time:\n\n")
			for _, msg := range v.Validations {
				b.WriteString("- " + strings.Join(strings.Fields(msg), " ") + "\n")
			}
		}
	}
	return b.String()
}

// firstSentence is s up to its first full stop that ends a sentence (not that of "e.g." or "i.e.").
func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '.' && s[i+1] == ' ' && !strings.HasSuffix(s[:i], "e.g") && !strings.HasSuffix(s[:i], "i.e") {
			return s[:i+1]
		}
	}
	return s
}

func cell(s string) string {
	return strings.ReplaceAll(strings.Join(strings.Fields(s), " "), "|", `\|`)
}

// Render returns readme with the part between Begin and End replaced by the module's inputs and outputs;
// a README without the markers gets them appended.
func Render(readme string, m *Module) string {
	gen := Begin + "\n\n" + m.Markdown() + "\n" + End + "\n"
	i, j := strings.Index(readme, Begin), strings.Index(readme, End)
	if i < 0 || j < i {
		if readme != "" && !strings.HasSuffix(readme, "\n\n") {
			readme = strings.TrimRight(readme, "\n") + "\n\n"
		}
		return readme + gen
	}
	rest := strings.TrimPrefix(readme[j+len(End):], "\n")
	return readme[:i] + gen + rest
}

// Want returns the README.md that module dir should have, and the one it has ("" when missing).
func Want(dir string) (want, have string, err error) {
	m, err := Load(dir)
	if err != nil {
		return "", "", err
	}
	b, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil && !os.IsNotExist(err) {
		return "", "", err
	}
	return Render(string(b), m), string(b), nil
}
