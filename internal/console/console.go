package console

import "github.com/spf13/cobra"

// newConsoleCommand groups ossimport's console verbs, as console.sh runs
// them: `ossimport console stat`, and so on.
func newConsoleCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "console <verb>",
		Short: "ossimport's console verbs (stat, version; the service verbs arrive with the cluster)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newStatCommand(), newVersionCommand())
	return cmd
}
