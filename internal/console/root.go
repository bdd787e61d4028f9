// Package console is ossimport's command line, verbs only: the console
// verbs of the original tool (deploy, clean, submit, start, stat, retry,
// stop, version), our additions (check, run, rebuild) and the processes'
// own commands (service, worker). Each verb lives in the file of its
// name (a long one in files that start with it: stat*.go, run*.go,
// check*.go); dryrun.go is submit's and run's --dry-run. What runs the
// service is internal/service; what reaches other hosts over SSH is
// internal/deploy.
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
