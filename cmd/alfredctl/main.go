// Command alfredctl is the Alfred platform's operator CLI: the local sandbox of every control plane, and
// backups, and the review of Terraform plans for pull requests.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

var version = "dev"

func main() {
	if err := newRootCmd().Execute(); err != nil {
		code := exitCode(err)
		if code == reviewError {
			fmt.Fprintln(os.Stderr, "alfredctl:", err)
		}
		os.Exit(code)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "alfredctl",
		Short:         "Operate the Alfred Agent Platform",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newSandboxCmd(), newBackupCmd(), newPlanCmd())
	return root
}
