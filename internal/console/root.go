// Package console is ossimport's command line: the console verbs of the
// original tool (deploy, clean, submit, start, stat, retry, stop, version)
// and our additions (check, run). Each verb lives in its own file.
package console

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/ossimport/ossimport/internal/version"
)

// Execute runs the command line with args (without the program name) and
// returns the process exit status. Errors are printed as one clear line
// on stderr; no stack traces.
func Execute(args []string, stdout, stderr io.Writer) int {
	root := newRootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		if exit.Err != nil {
			fmt.Fprintf(stderr, "ossimport: %v\n", exit.Err)
		}
		return exit.Code
	}
	fmt.Fprintf(stderr, "ossimport: %v\n", err)
	return 1
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "ossimport",
		Short: "Migrate data from local disks, URL lists and other clouds into Alibaba Cloud OSS or any S3-compatible store",
		Long: `ossimport moves files and objects from local disks, NAS, HTTP URL lists and
other clouds (S3, Qiniu, BOS, KS3, COS, Azure Blob, UPYUN, OSS) into Alibaba
Cloud OSS or any S3-compatible store, verifying every object.

It reads the configuration files of Alibaba Cloud's ossimport unchanged:
conf/job.cfg (or conf/local_job.cfg), conf/sys.properties and conf/workers.

` + exitStatuses + `

Shell completion: source <(ossimport completion bash), or see
"ossimport help completion" for zsh, fish and PowerShell.`,
		Version:       version.Get().String(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// --version prints what the version verb prints.
	root.SetVersionTemplate("{{.Version}}\n")
	root.AddCommand(
		newVersionCommand(),
		newCheckCommand(),
		newRunCommand(),
		newConsoleCommand(),
		newServiceCommand(),
		newWorkerCommand(),
	)
	return root
}
