package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/alfred-platform/terraform-provider-alfred/internal/planreview"
)

// exitError ends alfredctl with code after printing nothing more: the command has written its output.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// Exit codes of `alfredctl plan review`, for CI gates.
const (
	reviewOK       = 0 // read, and nothing at or above --fail-on
	reviewError    = 1 // the plan could not be read (or bad flags)
	reviewFindings = 2 // a finding at or above --fail-on
)

func newPlanCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "plan", Short: "Work with Terraform plans"}
	cmd.AddCommand(newPlanReviewCmd())
	return cmd
}

func newPlanReviewCmd() *cobra.Command {
	var format, failOn string
	cmd := &cobra.Command{
		Use:   "review plan.json",
		Short: "Flag what a reviewer must not miss in `terraform show -json` output",
		Long: "Reads the JSON of a saved plan (terraform plan -out plan.out && terraform show -json plan.out > plan.json; " +
			"`-` reads standard input) and reports stateful resources replaced or deleted, agents made public or their " +
			"ingress widened, RBAC widened, alerts disabled or silenced, backup retention or encryption weakened, " +
			"deletion protection turned off and image bumps. Moves (moved blocks) that only rename are reported as such, " +
			"not as replacements. Sensitive values are never printed.\n\n" +
			"Exit codes: 0 no finding at or above --fail-on (always 0 without it), 1 the plan could not be read, " +
			"2 a finding at or above --fail-on.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var threshold planreview.Severity
			if failOn != "" {
				s, err := planreview.ParseSeverity(failOn)
				if err != nil || s == planreview.Info {
					return fmt.Errorf("--fail-on %q: use high or medium", failOn)
				}
				threshold = s
			}
			if format != "markdown" && format != "text" {
				return fmt.Errorf("--format %q: use markdown or text", format)
			}
			in := cmd.InOrStdin()
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			plan, err := planreview.Load(in)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			rep := planreview.Review(plan)
			if format == "markdown" {
				err = rep.Markdown(cmd.OutOrStdout())
			} else {
				err = rep.Text(cmd.OutOrStdout())
			}
			if err != nil {
				return err
			}
			if failOn != "" && rep.AtLeast(threshold) {
				return &exitError{code: reviewFindings}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output: markdown (a pull-request comment) or text")
	cmd.Flags().StringVar(&failOn, "fail-on", "", "exit 2 when a finding is at or above this severity: high or medium")
	return cmd
}

// exitCode maps the error of a command to alfredctl's exit status.
func exitCode(err error) int {
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return reviewError
}
