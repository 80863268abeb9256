// Package planreview reads a Terraform plan in JSON (`terraform show -json plan.out`) and reports what a
// reviewer of the pull request must not miss: stateful resources replaced or deleted, agents made public,
// RBAC widened, alerts silenced, backups weakened. Findings are rendered as Markdown for a pull-request
// comment or as text for a terminal; values the plan marks sensitive are never printed.
package planreview

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"

	tfjson "github.com/hashicorp/terraform-json"
)

// Finding is one thing a reviewer must see.
type Finding struct {
	Severity Severity
	Rule     string
	// Address is the resource instance's address in this plan (module path included).
	Address string
	Type    string
	// Action is Terraform's action: create, update, replace, delete, no-op.
	Action  string
	Message string
}

// Report is the review of one plan.
type Report struct {
	Findings []Finding
	// Changes counts the resource instances the plan creates, updates, replaces or deletes.
	Changes int
	// Moved counts the instances whose address changes.
	Moved int
	// Errored is true when the plan is the partial plan of a failed `terraform plan`.
	Errored bool
}

// Count returns how many findings are at sev.
func (r *Report) Count(sev Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == sev {
			n++
		}
	}
	return n
}

// AtLeast reports whether a finding is at sev or above.
func (r *Report) AtLeast(sev Severity) bool {
	return slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Severity >= sev })
}

// Load reads `terraform show -json` output of a saved plan. Anything else (state JSON, a binary plan file,
// a plan of an unsupported format version) is an error that says what to run.
func Load(r io.Reader) (*Plan, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var plan tfjson.Plan
	if err := json.Unmarshal(raw, &plan); err != nil {
		return nil, fmt.Errorf("not the JSON of a Terraform plan (make it with `terraform plan -out plan.out && "+
			"terraform show -json plan.out > plan.json`): %w", err)
	}
	// A state file in JSON has format_version and values but no planned_values or resource_changes.
	if plan.PlannedValues == nil && plan.ResourceChanges == nil && plan.PriorState == nil {
		return nil, fmt.Errorf("the JSON is not a plan (no planned_values or resource_changes): run " +
			"`terraform show -json` on a file written by `terraform plan -out`")
	}
	// terraform-json does not decode action_reason nor errored; read them beside.
	var extra struct {
		Errored         bool `json:"errored"`
		ResourceChanges []struct {
			ActionReason string `json:"action_reason"`
		} `json:"resource_changes"`
	}
	if err := json.Unmarshal(raw, &extra); err != nil {
		return nil, err
	}
	p := &Plan{Plan: &plan, errored: extra.Errored, reasons: map[int]string{}}
	for i, rc := range extra.ResourceChanges {
		p.reasons[i] = rc.ActionReason
	}
	return p, nil
}

// Plan is a plan read by Load: terraform-json's types plus what they do not decode.
type Plan struct {
	*tfjson.Plan
	errored bool
	reasons map[int]string // action_reason by index of ResourceChanges
}

// Review applies Rules to every managed resource change of plan.
func Review(plan *Plan) *Report {
	rep := &Report{Errored: plan.errored}
	for i, rc := range plan.ResourceChanges {
		if rc == nil || rc.Change == nil || rc.Mode != tfjson.ManagedResourceMode {
			continue
		}
		c := &change{rc: rc, reason: plan.reasons[i]}
		a := c.actions()
		if a.Create() || a.Update() || a.Delete() || a.Replace() {
			rep.Changes++
		}
		if rc.PreviousAddress != "" && rc.PreviousAddress != rc.Address {
			rep.Moved++
		}
		for _, rule := range Rules {
			if !slices.Contains(rule.Types, "*") && !slices.Contains(rule.Types, rc.Type) {
				continue
			}
			for _, msg := range rule.check(c) {
				rep.Findings = append(rep.Findings, Finding{Severity: rule.Severity, Rule: rule.ID, Address: rc.Address,
					Type: rc.Type, Action: actionName(a), Message: msg})
			}
		}
	}
	// Worst first; within a severity, by address, so the output of one plan is always the same.
	sort.SliceStable(rep.Findings, func(i, j int) bool {
		a, b := rep.Findings[i], rep.Findings[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		return a.Address < b.Address
	})
	return rep
}

func actionName(a tfjson.Actions) string {
	switch {
	case a.Replace():
		return "replace"
	case a.Delete():
		return "delete"
	case a.Create():
		return "create"
	case a.Update():
		return "update"
	case a.Read():
		return "read"
	}
	return "no-op"
}
