package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/deploy"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// Where `console deploy` puts ossimport in every worker's working
// directory, and where the workers started over SSH write their output.
const (
	remoteBinary  = "bin/ossimport"
	remoteSys     = "conf/sys.properties"
	remoteWorkOut = "logs/worker.out"
)

// joinWait bounds waiting for a worker started over SSH to send its first
// heartbeat.
const joinWait = 45 * time.Second

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

// cluster is what conf/workers says: the settings, the master (the
// first line) and the hosts other than this machine. A nil cluster is a
// deployment without a workers file.
type cluster struct {
	sys     *config.Sys
	workers string // the workers file
	master  config.WorkerHost
	// hosts are all the lines; remote those that are not this machine.
	hosts  []config.WorkerHost
	remote []config.WorkerHost
	opts   deploy.Options
}

// loadCluster reads the workers file (see workersFile). It returns nil
// (and no error) when there is none.
func loadCluster(s *config.Sys, workersPath string) (*cluster, error) {
	file := workersFile(workersPath, s)
	if !fileExists(file) {
		return nil, nil
	}
	w, diags, err := config.LoadWorkers(file)
	if err != nil {
		return nil, err
	}
	if err := diags.Err(); err != nil {
		return nil, err
	}
	c := &cluster{sys: s, workers: file, opts: deploy.FromSys(s), hosts: w.Hosts}
	c.master, _ = w.Master()
	for _, h := range w.Hosts {
		if !isLocalHost(h.Host) {
			c.remote = append(c.remote, h)
		}
	}
	return c, nil
}

// distributed reports whether the workers file lists other machines.
func (c *cluster) distributed() bool { return c != nil && len(c.remote) > 0 }

// serviceMode is what the service runs besides the master.
type serviceMode struct {
	// distributed: other machines run workers, so NATS listens on every
	// interface (unless natsListen says otherwise).
	distributed bool
	// worker is the name of the in-process worker, "" for none.
	worker string
	// why explains the mode, for the log.
	why string
}

// mode is what the service of this deployment runs: in standalone mode
// a worker named after this machine (localWorkerName); in distributed
// mode one named after the line of the workers file that is this machine
// (the first, the master's, unless this is a standby service of
// natsEmbeddedCluster on the second or third host).
func (c *cluster) mode(s *config.Sys) serviceMode {
	switch {
	case c == nil:
		return serviceMode{worker: localWorkerName(s), why: "standalone (no workers file)"}
	case !c.distributed():
		return serviceMode{worker: localWorkerName(s), why: "standalone (" + c.workers + " lists only this machine)"}
	}
	m := serviceMode{distributed: true, why: fmt.Sprintf("distributed (%s lists %d other machines)", c.workers, len(c.remote))}
	if h, ok := c.self(); ok {
		m.worker = h.Host
	} else {
		m.why += "; this machine is not listed, so it runs no worker"
	}
	return m
}

// self is the first line of the workers file that is this machine.
func (c *cluster) self() (config.WorkerHost, bool) {
	for _, h := range c.hosts {
		if isLocalHost(h.Host) {
			return h, true
		}
	}
	return config.WorkerHost{}, false
}

// remoteDir is the working directory as remote commands see it.
func (c *cluster) remoteDir() string {
	d := deploy.RemoteDir(c.sys.WorkingDir)
	if d == "" {
		d = "."
	}
	return d
}

// notDeployed is the exit status of a remoteCmd on a host where
// ossimport was not deployed (no working directory or no binary).
const notDeployed = 127

// remoteCmd is an ossimport command run in the remote working
// directory; more is shell text after it (redirections).
func (c *cluster) remoteCmd(more string, args ...string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = deploy.ShellQuote(a)
	}
	return "{ cd " + deploy.ShellQuote(c.remoteDir()) + " && [ -x " + remoteBinary + " ]; } 2>/dev/null || exit " + strconv.Itoa(notDeployed) +
		"; mkdir -p logs && exec " + remoteBinary + " " + strings.Join(q, " ") + more
}

func runDeploy(ctx context.Context, stdout io.Writer, sysPath, workersPath string) error {
	s, err := loadValidSys(sysPath)
	if err != nil {
		return err
	}
	c, err := loadCluster(s, workersPath)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	if !c.distributed() {
		return &ExitError{Code: 2, Err: fmt.Errorf("nothing to deploy: %s does not list other machines (one address per line; the first line is this machine, the master)", workersFile(workersPath, s))}
	}
	if err := c.opts.Validate(); err != nil {
		return &ExitError{Code: 2, Err: fmt.Errorf("%s: %w", sysFileName(s), err)}
	}
	if !path.IsAbs(c.sys.WorkingDir) && !strings.HasPrefix(c.sys.WorkingDir, "~") {
		return &ExitError{Code: 2, Err: fmt.Errorf("%s: workingDir %q is relative: distributed mode needs the same absolute path on every machine", sysFileName(s), c.sys.WorkingDir)}
	}
	exe, err := os.Executable()
	if err != nil {
		return &ExitError{Code: 2, Err: fmt.Errorf("find the ossimport binary: %w", err)}
	}
	sysCopy, cleanup, err := workerSysCopy(s)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	defer cleanup()
	files := []deploy.File{
		{Local: exe, Remote: remoteBinary, Mode: 0o755},
		{Local: sysCopy, Remote: remoteSys, Mode: 0o600},
	}
	if c.embedded() {
		// The members' services read the hosts (their routes and their
		// workers' names) from the same list.
		files = append(files, deploy.File{Local: c.workers, Remote: remoteWorkers, Mode: 0o644})
	}
	dir := workdir.Dir(s.WorkingDir)
	tlsOn := autoTLSOn(s, c)
	if tlsOn {
		if err := autoTLS(dir).Ensure(c.serverHosts()); err != nil {
			return &ExitError{Code: 1, Err: fmt.Errorf("generate the NATS TLS certificate (natsAutoTls): %w", err)}
		}
	}
	members := c.members()
	res := deploy.DeployEach(ctx, c.remote, c.opts, func(i int) []deploy.File {
		if !tlsOn {
			return files
		}
		member := slices.ContainsFunc(members, func(m config.WorkerHost) bool { return m.Line == c.remote[i].Line })
		return append(slices.Clone(files), deployTLSFiles(dir, member)...)
	})
	if err := deploy.FormatResults(stdout, res); err != nil {
		return err
	}
	if err := deploy.Failed(res); err != nil {
		return &ExitError{Code: 1}
	}
	return nil
}

func sysFileName(s *config.Sys) string {
	if s.File() != "" {
		return s.File()
	}
	return "sys.properties"
}

// workerSysCopy writes the workers' copy of sys.properties (see
// config.WorkerSysFile) to a private temporary file.
func workerSysCopy(s *config.Sys) (string, func(), error) {
	var data []byte
	if s.File() != "" {
		var err error
		if data, err = os.ReadFile(s.File()); err != nil {
			return "", nil, fmt.Errorf("read sys.properties: %w", err)
		}
	}
	data = config.WorkerSysFile(data)
	f, err := os.CreateTemp("", "ossimport-worker-sys-*.properties")
	if err != nil {
		return "", nil, fmt.Errorf("write the workers' sys.properties: %w", err)
	}
	cleanup := func() { _ = os.Remove(f.Name()) }
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		cleanup()
		return "", nil, fmt.Errorf("write the workers' sys.properties: %w", err)
	}
	if err := f.Close(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("write the workers' sys.properties: %w", err)
	}
	return f.Name(), cleanup, nil
}

// natsURLForWorkers is the NATS URL workers on other machines connect
// to: natsListen when it names an address, else the master's line of
// conf/workers. "" means natsUrl (an external NATS) from their own
// sys.properties.
func (c *cluster) natsURLForWorkers() string {
	if len(c.sys.NATSURLs) > 0 {
		return ""
	}
	host := c.master.Host
	if l := c.sys.NATSListen; l != "" {
		if ip := net.ParseIP(l); ip == nil || !ip.IsUnspecified() {
			host = l
		}
	}
	scheme := tlsFiles(c.sys, workdir.Dir(c.sys.WorkingDir), c).scheme()
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(c.sys.NATSPort))
}

// startWorkers starts a worker over SSH on every remote host that does
// not run one, with the NATS token on standard input, and waits until
// each has joined (sent a heartbeat). It prints one row per host and
// returns an error when any failed.
func (c *cluster) startWorkers(ctx context.Context, stdout io.Writer, dir workdir.Dir) error {
	hosts := c.workerHosts()
	if len(hosts) == 0 {
		return nil
	}
	natsURL, err := c.workerNATS()
	if err != nil {
		return err
	}
	var token string
	if natsURL != "" {
		data, err := os.ReadFile(tokenFile(dir))
		if err != nil {
			return fmt.Errorf("read the NATS token for the workers: %w", err)
		}
		token = strings.TrimSpace(string(data))
	}
	return c.eachHost(ctx, stdout, hosts, "workers running", func(ctx context.Context, cl *deploy.Client) (string, error) {
		name := cl.Host().Host
		l := remoteLaunch{what: "worker", args: []string{"worker", "--sys", remoteSys, "--name", name}, out: remoteWorkOut, wait: joinWait,
			status: []string{"worker", "--status", "--sys", remoteSys, "--name", name}}
		if natsURL != "" {
			l.args = append(l.args, "--nats", natsURL, "--token-file", "-")
			l.stdin = token + "\n"
		}
		return c.launch(ctx, cl, dir, l)
	})
}

// eachHost runs fn on every host over SSH (see deploy.ForEach) and
// prints the results as a table headed by what was done.
func (c *cluster) eachHost(ctx context.Context, stdout io.Writer, hosts []config.WorkerHost, done string, fn func(ctx context.Context, cl *deploy.Client) (string, error)) error {
	if err := c.opts.Validate(); err != nil {
		return fmt.Errorf("%s: %w", sysFileName(c.sys), err)
	}
	res := deploy.ForEach(ctx, hosts, c.opts, func(ctx context.Context, _ int, cl *deploy.Client) (string, error) { return fn(ctx, cl) })
	if err := deploy.FormatTable(stdout, done, res); err != nil {
		return err
	}
	return deploy.Errors(res)
}

// remoteLaunch is a process that start runs in the background on a
// host: a worker, or a member's service (whose worker joins likewise).
type remoteLaunch struct {
	what   string   // "worker" or "service", for messages
	args   []string // its ossimport arguments
	status []string // the ossimport arguments that tell whether it runs
	stdin  string   // given on its standard input ("" for none)
	out    string   // its output file, relative to the working directory
	wait   time.Duration
}

// launch starts l on the host unless it runs, and waits until the
// host's worker has joined; the status is "started" or "already
// running".
func (c *cluster) launch(ctx context.Context, cl *deploy.Client, dir workdir.Dir, l remoteLaunch) (string, error) {
	name := cl.Host().Host
	running, err := c.remoteRunning(ctx, cl, l.status)
	if err != nil {
		return "", err
	}
	if running {
		return "already running", nil
	}
	before, _ := recordedWorker(dir, name)
	var stdin io.Reader
	if l.stdin != "" {
		stdin = strings.NewReader(l.stdin)
	}
	if err := cl.Start(ctx, c.remoteCmd(" >>"+l.out+" 2>&1", l.args...), stdin); err != nil {
		return "", fmt.Errorf("start the %s: %w", l.what, err)
	}
	stillRunning := func(ctx context.Context) bool {
		r, err := c.remoteRunning(ctx, cl, l.status)
		return r || err != nil
	}
	if err := waitJoined(ctx, dir, name, before.LastHeartbeat, l.what, l.wait, stillRunning); err != nil {
		tail, _, _ := cl.Run(ctx, "tail -n 3 "+deploy.ShellQuote(path.Join(c.remoteDir(), l.out)), nil)
		if t := strings.TrimSpace(tail); t != "" {
			return "", fmt.Errorf("%w; the end of %s: %s", err, l.out, strings.Join(strings.Fields(t), " "))
		}
		return "", err
	}
	return "started", nil
}

// remoteRunning runs a --status command on the host: whether the worker
// or service it asks about runs.
func (c *cluster) remoteRunning(ctx context.Context, cl *deploy.Client, status []string) (bool, error) {
	_, _, err := cl.Run(ctx, c.remoteCmd("", status...), nil)
	if err == nil {
		return true, nil
	}
	var re *deploy.RunError
	if errors.As(err, &re) {
		switch {
		case re.Status == workerStoppedStatus:
			return false, nil
		case re.Status == notDeployed:
			return false, fmt.Errorf("ossimport is not deployed in %s on this host: run `console.sh deploy` first", c.remoteDir())
		}
	}
	return false, err
}

// remoteStop runs a --stop command on the host; the status is what it
// said, or "not deployed".
func (c *cluster) remoteStop(ctx context.Context, cl *deploy.Client, stop ...string) (string, error) {
	stdout, stderr, err := cl.Run(ctx, c.remoteCmd("", stop...), nil)
	var re *deploy.RunError
	if errors.As(err, &re) && re.Status == notDeployed {
		return "not deployed", nil
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(stdout + stderr), nil
}

// waitJoined waits up to wait until the master records a heartbeat of
// worker name newer than before (master/workers.json, refreshed every
// few seconds), or running says the process (what: the worker, or the
// service that runs it) ended.
func waitJoined(ctx context.Context, dir workdir.Dir, name string, before time.Time, what string, wait time.Duration, running func(ctx context.Context) bool) error {
	deadline := time.Now().Add(wait)
	nextCheck := time.Now().Add(time.Second)
	for {
		if time.Now().After(nextCheck) {
			if !running(ctx) {
				return fmt.Errorf("the %s exited right after it started", what)
			}
			nextCheck = time.Now().Add(2 * time.Second)
		}
		if w, ok := recordedWorker(dir, name); ok && w.Alive && !w.LastHeartbeat.Equal(before) {
			return nil
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("the %s started but its worker did not join the master within %s (can it reach the master's NATS port? check firewalls, natsListen and natsPort)", what, wait)
		}
		if err := transfer.Sleep(ctx, 500*time.Millisecond); err != nil {
			return err
		}
	}
}

// recordedWorker is the master's record of worker name.
func recordedWorker(dir workdir.Dir, name string) (tracker.WorkerStatus, bool) {
	ws, _ := tracker.ReadWorkers(dir)
	for _, w := range ws {
		if w.Name == name {
			return w, true
		}
	}
	return tracker.WorkerStatus{}, false
}

// stopWorkers stops the worker on every remote host that runs only a
// worker (each hands its running tasks back) and prints one row per host.
func (c *cluster) stopWorkers(ctx context.Context, stdout io.Writer) error {
	hosts := c.workerHosts()
	if len(hosts) == 0 {
		return nil
	}
	return c.eachHost(ctx, stdout, hosts, "workers stopped", func(ctx context.Context, cl *deploy.Client) (string, error) {
		return c.remoteStop(ctx, cl, "worker", "--stop", "--sys", remoteSys, "--name", cl.Host().Host)
	})
}
