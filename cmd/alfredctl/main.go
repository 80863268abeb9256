// Command alfredctl is the Alfred platform's operator CLI: the local sandbox of every control plane, and
// (as the issues land) backups and plan review.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

var version = "dev"

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "alfredctl:", err)
		os.Exit(1)
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
	root.AddCommand(newSandboxCmd(), newBackupCmd())
	return root
}
