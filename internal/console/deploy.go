package console

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ossimport/ossimport/internal/deploy"
	"github.com/ossimport/ossimport/internal/service"
	"github.com/ossimport/ossimport/internal/workdir"
)

func newDeployCommand(sysPath *string) *cobra.Command {
	var workersPath string
	cmd := &cobra.Command{
		Use:     "deploy",
		Aliases: []string{"Deploy"},
		Short:   "deploy ossimport to all workers",
		Long: `deploy copies ossimport to every worker listed in conf/workers (the first
line is this machine, the master, and is skipped) over SSH: it logs in with
privateKeyFile, else workerUserName/workerPassword, on sshPort, checks the
host key against sshKnownHostsFile (unknown keys are accepted and recorded
only with sshAcceptUnknownHostKeys=true), creates workingDir and uploads
bin/ossimport and conf/sys.properties there (without workerPassword),
skipping files whose checksum already matches. Hosts are deployed in
parallel; one that fails does not stop the others, and the exit status is 1
if any failed. Hosts may be added to conf/workers, deployed and started
while jobs run.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDeploy(cmd.Context(), cmd.OutOrStdout(), *sysPath, workersPath)
		},
	}
	cmd.Flags().StringVar(&workersPath, "workers", "", "workers file (default: workers next to sys.properties)")
	return cmd
}

func runDeploy(ctx context.Context, stdout io.Writer, sysPath, workersPath string) error {
	s, c, err := loadDeployment(sysPath, workersPath)
	if err != nil {
		return err
	}
	if !c.Distributed() {
		return &ExitError{Code: 2, Err: fmt.Errorf("nothing to deploy: %s does not list other machines (one address per line; the first line is this machine, the master)", service.WorkersFile(workersPath, s))}
	}
	opts := deploy.FromSys(s)
	if err := opts.Validate(); err != nil {
		return &ExitError{Code: 2, Err: fmt.Errorf("%s: %w", deploy.SysFileName(s), err)}
	}
	if !path.IsAbs(s.WorkingDir) && !strings.HasPrefix(s.WorkingDir, "~") {
		return &ExitError{Code: 2, Err: fmt.Errorf("%s: workingDir %q is relative: distributed mode needs the same absolute path on every machine", deploy.SysFileName(s), s.WorkingDir)}
	}
	exe, err := os.Executable()
	if err != nil {
		return &ExitError{Code: 2, Err: fmt.Errorf("find the ossimport binary: %w", err)}
	}
	sysCopy, cleanup, err := deploy.WorkerSysCopy(s)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	defer cleanup()
	if service.AutoTLSOn(s, c) {
		if err := service.AutoTLS(workdir.Dir(s.WorkingDir)).Ensure(c.ServerHosts()); err != nil {
			return &ExitError{Code: 1, Err: fmt.Errorf("generate the NATS TLS certificate (natsAutoTls): %w", err)}
		}
	}
	res := deploy.DeployEach(ctx, c.Remote, opts, deploy.InstallFiles(c, exe, sysCopy))
	if err := deploy.FormatResults(stdout, res); err != nil {
		return err
	}
	if err := deploy.Failed(res); err != nil {
		return &ExitError{Code: 1}
	}
	return nil
}
