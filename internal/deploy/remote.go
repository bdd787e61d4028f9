package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/service"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// Where `console deploy` puts ossimport in every worker's working
// directory, and where the processes started over SSH write their
// output (relative to the remote working directory).
const (
	RemoteBinary     = "bin/ossimport"
	RemoteSys        = "conf/sys.properties"
	RemoteWorkers    = "conf/workers"
	remoteWorkOut    = workdir.LogsDir + "/" + workdir.WorkerOutFile
	remoteServiceOut = workdir.LogsDir + "/" + workdir.ServiceLogFile
)

// notDeployed is the exit status of a remoteCmd on a host where
// ossimport was not deployed (no working directory or no binary).
const notDeployed = 127

// SysFileName names sys.properties in messages: its path, or
// "sys.properties" for the defaults.
func SysFileName(s *config.Sys) string {
	if s.File() != "" {
		return s.File()
	}
	return "sys.properties"
}

// remoteDir is the working directory as remote commands see it.
func remoteDir(c *service.Cluster) string {
	d := RemoteDir(c.Sys.WorkingDir)
	if d == "" {
		d = "."
	}
	return d
}

// remoteCmd is an ossimport command run in the remote working
// directory; more is shell text after it (redirections).
func remoteCmd(c *service.Cluster, more string, args ...string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = ShellQuote(a)
	}
	return "{ cd " + ShellQuote(remoteDir(c)) + " && [ -x " + RemoteBinary + " ]; } 2>/dev/null || exit " + strconv.Itoa(notDeployed) +
		"; mkdir -p logs && exec " + RemoteBinary + " " + strings.Join(q, " ") + more
}

// eachHost runs fn on every host over SSH (see ForEach) and prints the
// results as a table headed by what was done.
func eachHost(ctx context.Context, stdout io.Writer, c *service.Cluster, hosts []config.WorkerHost, done string, fn func(ctx context.Context, cl *Client) (string, error)) error {
	opts := FromSys(c.Sys)
	if err := opts.Validate(); err != nil {
		return fmt.Errorf("%s: %w", SysFileName(c.Sys), err)
	}
	res := ForEach(ctx, hosts, opts, func(ctx context.Context, _ int, cl *Client) (string, error) { return fn(ctx, cl) })
	if err := FormatTable(stdout, done, res); err != nil {
		return err
	}
	return Errors(res)
}

// launcher is a process that start runs in the background on a host: a
// worker, or a member's service (whose worker joins likewise).
type launcher struct {
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
func (l launcher) launch(ctx context.Context, c *service.Cluster, cl *Client) (string, error) {
	dir := workdir.Dir(c.Sys.WorkingDir)
	name := cl.Host().Host
	running, err := remoteRunning(ctx, c, cl, l.status)
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
	if err := cl.Start(ctx, remoteCmd(c, " >>"+l.out+" 2>&1", l.args...), stdin); err != nil {
		return "", fmt.Errorf("start the %s: %w", l.what, err)
	}
	stillRunning := func(ctx context.Context) bool {
		r, err := remoteRunning(ctx, c, cl, l.status)
		return r || err != nil
	}
	if err := waitJoined(ctx, dir, name, before.LastHeartbeat, l.what, l.wait, stillRunning); err != nil {
		tail, _, _ := cl.Run(ctx, "tail -n 3 "+ShellQuote(path.Join(remoteDir(c), l.out)), nil)
		if t := strings.TrimSpace(tail); t != "" {
			return "", fmt.Errorf("%w; the end of %s: %s", err, l.out, strings.Join(strings.Fields(t), " "))
		}
		return "", err
	}
	return "started", nil
}

// remoteRunning runs a --status command on the host: whether the worker
// or service it asks about runs.
func remoteRunning(ctx context.Context, c *service.Cluster, cl *Client, status []string) (bool, error) {
	_, _, err := cl.Run(ctx, remoteCmd(c, "", status...), nil)
	if err == nil {
		return true, nil
	}
	var re *RunError
	if errors.As(err, &re) {
		switch {
		case re.Status == service.StatusStopped:
			return false, nil
		case re.Status == notDeployed:
			return false, fmt.Errorf("ossimport is not deployed in %s on this host: run `console.sh deploy` first", remoteDir(c))
		}
	}
	return false, err
}

// remoteStop runs a --stop command on the host; the status is what it
// said, or "not deployed".
func remoteStop(ctx context.Context, c *service.Cluster, cl *Client, stop ...string) (string, error) {
	stdout, stderr, err := cl.Run(ctx, remoteCmd(c, "", stop...), nil)
	var re *RunError
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
