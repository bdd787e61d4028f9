package console

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// consoleVerbs are the verbs of ossimport's console.sh with their help
// strings, in the order its usage lists them.
var consoleVerbs = []struct{ name, help string }{
	{"submit", "submit job"},
	{"start", "start import service"},
	{"stop", "stop import service"},
	{"clean", "clean old job"},
	{"stat", "stat job"},
	{"retry", "retry all failed tasks"},
	{"version", "ossimport version"},
	{"deploy", "deploy ossimport to all workers"},
}

// newConsoleCommand groups ossimport's console verbs, as console.sh runs
// them: `ossimport console submit conf/job.cfg --sys conf/sys.properties`,
// and so on. A missing or unknown verb, or wrong arguments, print
// ossimport's usage and exit with status 1.
func newConsoleCommand() *cobra.Command {
	var sysPath string
	cmd := &cobra.Command{
		Use:   "console <verb>",
		Short: "ossimport's console verbs: submit, start, stop, clean, stat, retry, version",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			printUsage(cmd.OutOrStdout())
			if len(args) > 0 {
				return &ExitError{Code: 1, Err: fmt.Errorf("unknown command %q", args[0])}
			}
			return &ExitError{Code: 1}
		},
	}
	cmd.PersistentFlags().StringVar(&sysPath, "sys", "", "sys.properties (default conf/sys.properties when present)")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		printUsage(c.OutOrStdout())
		return &ExitError{Code: 1, Err: err}
	})
	stat := newStatCommand()
	stat.Args = usageArgs(stat.Args)
	version := newVersionCommand()
	version.Aliases = append(version.Aliases, "Version")
	version.Args = usageArgs(version.Args)
	cmd.AddCommand(
		newDeployCommand(&sysPath),
		newSubmitCommand(&sysPath),
		newStartCommand(&sysPath),
		newStopCommand(&sysPath),
		newCleanCommand(&sysPath),
		stat,
		newRetryCommand(&sysPath),
		newRebuildCommand(&sysPath),
		version,
	)
	return cmd
}

// printUsage prints ossimport's console usage.
func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Support command:")
	for _, v := range consoleVerbs {
		fmt.Fprintf(w, "    %s: %s\n", v.name, v.help)
	}
}

// usageArgs prints the usage when check refuses the arguments.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if check == nil {
			return nil
		}
		if err := check(cmd, args); err != nil {
			printUsage(cmd.OutOrStdout())
			return &ExitError{Code: 1, Err: err}
		}
		return nil
	}
}
