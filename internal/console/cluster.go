package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/deploy"
	"github.com/ossimport/ossimport/internal/protocol"
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

// cluster is a distributed deployment: the settings and the hosts of
// conf/workers other than this machine.
type cluster struct {
	sys     *config.Sys
	workers string // the workers file
	master  config.WorkerHost
	remote  []config.WorkerHost
	opts    deploy.Options
}

// loadCluster reads conf/workers. It returns nil (and no error) when the
// deployment is standalone: no workers file, or one listing only this
// machine.
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
	c := &cluster{sys: s, workers: file, opts: deploy.FromSys(s)}
	c.master, _ = w.Master()
	for _, h := range w.Hosts {
		if !isLocalHost(h.Host) {
			c.remote = append(c.remote, h)
		}
	}
	if len(c.remote) == 0 {
		return nil, nil
	}
	return c, nil
}

// remoteDir is the working directory as remote commands see it.
func (c *cluster) remoteDir() string {
	d := deploy.RemoteDir(c.sys.WorkingDir)
	if d == "" {
		d = "."
	}
	return d
}

// remoteCmd is an ossimport command run in the remote working
// directory; more is shell text after it (redirections).
func (c *cluster) remoteCmd(more string, args ...string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = deploy.ShellQuote(a)
	}
	return "cd " + deploy.ShellQuote(c.remoteDir()) + " && mkdir -p logs && exec " + remoteBinary + " " + strings.Join(q, " ") + more
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
	if c == nil {
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
	res := deploy.Deploy(ctx, c.remote, c.opts, files)
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
	cleanup := func() { os.Remove(f.Name()) }
	if _, err := f.Write(data); err != nil {
		f.Close()
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
	return "nats://" + net.JoinHostPort(host, strconv.Itoa(c.sys.NATSPort))
}

// startWorkers starts a worker over SSH on every remote host that does
// not run one, with the NATS token on standard input, and waits until
// each has joined (sent a heartbeat). It prints one row per host and
// returns an error when any failed.
func (c *cluster) startWorkers(ctx context.Context, stdout io.Writer, dir workdir.Dir, heartbeats func(ctx context.Context) (map[string]protocol.Heartbeat, error)) error {
	if err := c.opts.Validate(); err != nil {
		return fmt.Errorf("%s: %w", sysFileName(c.sys), err)
	}
	natsURL := c.natsURLForWorkers()
	var token string
	if natsURL != "" {
		data, err := os.ReadFile(tokenFile(dir))
		if err != nil {
			return fmt.Errorf("read the NATS token for the workers: %w", err)
		}
		token = strings.TrimSpace(string(data))
	}
	res := deploy.ForEach(ctx, c.remote, c.opts, func(ctx context.Context, cl *deploy.Client) (string, error) {
		name := cl.Host().Host
		running, err := c.remoteWorkerRunning(ctx, cl, name)
		if err != nil {
			return "", err
		}
		if running {
			return "already running", nil
		}
		args := []string{"worker", "--sys", remoteSys, "--name", name}
		var stdin io.Reader
		if natsURL != "" {
			args = append(args, "--nats", natsURL, "--token-file", "-")
			stdin = strings.NewReader(token + "\n")
		}
		if err := cl.Start(ctx, c.remoteCmd(" >>"+remoteWorkOut+" 2>&1", args...), stdin); err != nil {
			return "", fmt.Errorf("start the worker: %w", err)
		}
		stillRunning := func(ctx context.Context) bool {
			r, err := c.remoteWorkerRunning(ctx, cl, name)
			return r || err != nil
		}
		if err := waitJoined(ctx, name, heartbeats, stillRunning); err != nil {
			tail, _, _ := cl.Run(ctx, "tail -n 3 "+deploy.ShellQuote(path.Join(c.remoteDir(), remoteWorkOut)), nil)
			if t := strings.TrimSpace(tail); t != "" {
				return "", fmt.Errorf("%w; the end of %s: %s", err, remoteWorkOut, strings.Join(strings.Fields(t), " "))
			}
			return "", err
		}
		return "started", nil
	})
	if err := deploy.FormatTable(stdout, "workers running", res); err != nil {
		return err
	}
	return deploy.Errors(res)
}

// remoteWorkerRunning asks the host whether its worker runs.
func (c *cluster) remoteWorkerRunning(ctx context.Context, cl *deploy.Client, name string) (bool, error) {
	_, stderr, err := cl.Run(ctx, c.remoteCmd("", "worker", "--status", "--sys", remoteSys, "--name", name), nil)
	if err == nil {
		return true, nil
	}
	var re *deploy.RunError
	if errors.As(err, &re) {
		switch {
		case re.Status == workerStoppedStatus:
			return false, nil
		case re.Status == 127 || strings.Contains(stderr, "No such file") || strings.Contains(stderr, "can't cd"):
			return false, fmt.Errorf("ossimport is not deployed in %s on this host: run `console.sh deploy` first", c.remoteDir())
		}
	}
	return false, err
}

// waitJoined waits until worker name heartbeats, or running says its
// process ended.
func waitJoined(ctx context.Context, name string, heartbeats func(ctx context.Context) (map[string]protocol.Heartbeat, error), running func(ctx context.Context) bool) error {
	deadline := time.Now().Add(joinWait)
	nextCheck := time.Now().Add(time.Second)
	for {
		if time.Now().After(nextCheck) {
			if !running(ctx) {
				return errors.New("the worker exited right after it started")
			}
			nextCheck = time.Now().Add(2 * time.Second)
		}
		beats, err := heartbeats(ctx)
		if err == nil {
			if _, ok := beats[name]; ok {
				return nil
			}
		}
		if !time.Now().Before(deadline) {
			if err != nil {
				return fmt.Errorf("cannot tell whether the worker joined: %w", err)
			}
			return fmt.Errorf("the worker started but did not join the master within %s (can it reach the master's NATS port? check firewalls, natsListen and natsPort)", joinWait)
		}
		if err := sleepCtx(ctx, 500*time.Millisecond); err != nil {
			return err
		}
	}
}

// stopWorkers stops the worker on every remote host (each hands its
// running tasks back) and prints one row per host.
func (c *cluster) stopWorkers(ctx context.Context, stdout io.Writer) error {
	if err := c.opts.Validate(); err != nil {
		return fmt.Errorf("%s: %w", sysFileName(c.sys), err)
	}
	res := deploy.ForEach(ctx, c.remote, c.opts, func(ctx context.Context, cl *deploy.Client) (string, error) {
		name := cl.Host().Host
		_, stderr, err := cl.Run(ctx, c.remoteCmd("", "worker", "--stop", "--sys", remoteSys, "--name", name), nil)
		var re *deploy.RunError
		if errors.As(err, &re) && (re.Status == 127 || strings.Contains(stderr, "can't cd")) {
			return "not deployed", nil
		}
		if err != nil {
			return "", err
		}
		return strings.TrimSpace(stderr), nil
	})
	if err := deploy.FormatTable(stdout, "workers stopped", res); err != nil {
		return err
	}
	return deploy.Errors(res)
}

// heartbeatReader reads the live heartbeats from the running service's
// NATS over one connection, made at the first read.
type heartbeatReader struct {
	s   *config.Sys
	dir workdir.Dir
	mu  sync.Mutex
	b   *bus.Bus
}

func (r *heartbeatReader) read(ctx context.Context) (map[string]protocol.Heartbeat, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if r.b == nil {
		b, err := connectService(ctx, r.s, r.dir, 5*time.Second)
		if err != nil {
			return nil, err
		}
		if err := b.Setup(ctx, setupOptions(r.s)); err != nil {
			b.Close()
			return nil, err
		}
		r.b = b
	}
	kv := r.b.Workers()
	names, err := kv.Keys(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]protocol.Heartbeat{}
	for _, n := range names {
		data, err := kv.Get(ctx, n)
		if err != nil {
			continue // expired meanwhile
		}
		var hb protocol.Heartbeat
		if json.Unmarshal(data, &hb) == nil {
			if hb.Worker == "" {
				hb.Worker = n
			}
			out[hb.Worker] = hb
		}
	}
	return out, nil
}

func (r *heartbeatReader) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.b != nil {
		r.b.Close()
		r.b = nil
	}
}
