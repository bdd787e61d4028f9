package workdir

import (
	"crypto/md5"
	"encoding/hex"
	"path/filepath"
)

// The working directory:
//
//	ossimport.pid                            the running service's process id (0644)
//	nats/                                    the embedded NATS server's JetStream store (0700);
//	                                         the service holds an exclusive lock on it while it
//	                                         runs, a console command while it uses the store
//	nats/token                               the token NATS clients authenticate with (0600)
//	nats/store.key                           the store's encryption key (0600; package bus names it)
//	nats/tls/                                natsAutoTls's CA and server certificate (bus.AutoTLS)
//	logs/                                    import.log, master.log, tracker.log, worker.log,
//	                                         ossimport.log (a background service's output),
//	                                         worker.out (a deployed worker's output)
//	master/LEADER                            the active master, as this view last saw it
//	master/LOST                              a restore of a lost NATS store still to do
//	master/JOURNAL                           how far this view has filed the job journals
//	master/workers.json                      the workers' last heartbeats
//	master/jobs/<job>/job.cfg                the job file as submitted, secrets masked
//	master/jobs/<job>/SUBMITTED              where the job was submitted from
//	master/jobs/<job>/STATE                  a state set explicitly (an abort and its reason)
//	master/jobs/<job>/COUNTERS               the job's counters, for status in constant time
//	master/jobs/<job>/PLANNED                every planned task, one JSON line each
//	master/jobs/<job>/checkpoints/0/<hex>.cpt  the scan checkpoint
//	master/jobs/<job>/reports/               the object reports (package report)
//	master/jobs/<job>/pending_tasks/<task>/  planned, not yet running
//	master/jobs/<job>/dispatched/<worker>/<task>/  running on a worker
//	master/jobs/<job>/succeed_tasks/<task>/  finished, every object copied or skipped
//	master/jobs/<job>/failed_tasks/<task>/   finished with failed objects
//
// A task's folder holds:
//
//	TASK            the task as planned: its objects
//	progress.jsonl  one line per object finished, so none is copied or counted twice
//	audit.log       one line per object: what was copied and how it was checked
//	error.list      the objects that failed
//	STATUS, DONE    the task's end: Completed or Failed, and when
//	WORKER          the worker that ran it
//	PROGRESS        a running task's last progress report
//	RETRIES         how many times the task was retried
//	REPORTING       report rows a crash may have left unwritten

// Task states, the folders of a job directory.
const (
	Pending    = "pending_tasks"
	Dispatched = "dispatched"
	Succeed    = "succeed_tasks"
	Failed     = "failed_tasks"
)

// Files of a task's folder.
const (
	TaskFile      = "TASK"
	FinishedFile  = "progress.jsonl"
	AuditFile     = "audit.log"
	ErrorFile     = "error.list"
	StatusFile    = "STATUS"
	DoneFile      = "DONE"
	WorkerFile    = "WORKER"
	ProgressFile  = "PROGRESS"
	RetriesFile   = "RETRIES"
	ReportingFile = "REPORTING"
)

// Files and folders of a job's folder.
const (
	JobConfigFile  = "job.cfg"
	SubmittedFile  = "SUBMITTED"
	StateFile      = "STATE"
	CountersFile   = "COUNTERS"
	PlannedFile    = "PLANNED"
	ReportsDir     = "reports"
	checkpointsDir = "checkpoints"
)

// Files and folders at the top of the working directory and in master/.
const (
	PidFile        = "ossimport.pid"
	NATSDir        = "nats"
	TokenFile      = "token" // in NATSDir
	AutoTLSDir     = "tls"   // in NATSDir
	LogsDir        = "logs"
	ServiceLogFile = "ossimport.log" // in LogsDir
	LeaderFile     = "LEADER"        // in master/
	LostFile       = "LOST"          // in master/
	JournalFile    = "JOURNAL"       // in master/
	WorkersFile    = "workers.json"  // in master/
	masterDir      = "master"
	jobsDir        = "jobs"
)

// The logs, in LogsDir.
const (
	ImportLog  = "import.log"
	MasterLog  = "master.log"
	TrackerLog = "tracker.log"
	WorkerLog  = "worker.log"
	// WorkerOutFile is the output of a worker that deploy started on
	// another host.
	WorkerOutFile = "worker.out"
)

// Dir is a working directory.
type Dir string

// Logs is the log folder.
func (d Dir) Logs() string { return filepath.Join(string(d), LogsDir) }

// Log is the path of a log file in the log folder.
func (d Dir) Log(name string) string { return filepath.Join(d.Logs(), name) }

// Pid is the running service's pid file.
func (d Dir) Pid() string { return filepath.Join(string(d), PidFile) }

// NATS is the embedded NATS server's store folder.
func (d Dir) NATS() string { return filepath.Join(string(d), NATSDir) }

// Token is the file of the token NATS clients authenticate with.
func (d Dir) Token() string { return filepath.Join(d.NATS(), TokenFile) }

// AutoTLS is the folder of natsAutoTls's certificates.
func (d Dir) AutoTLS() string { return filepath.Join(d.NATS(), AutoTLSDir) }

// Master is the master's folder of the view.
func (d Dir) Master(name string) string { return filepath.Join(string(d), masterDir, name) }

// Jobs is the folder holding every job's folder.
func (d Dir) Jobs() string { return filepath.Join(string(d), masterDir, jobsDir) }

// Job is a job's folder.
func (d Dir) Job(job string) string { return filepath.Join(d.Jobs(), job) }

// JobFile is the copy of a job's submitted job file, secrets masked,
// in its folder.
func (d Dir) JobFile(job string) string { return filepath.Join(d.Job(job), JobConfigFile) }

// Reports is a job's reports folder.
func (d Dir) Reports(job string) string { return filepath.Join(d.Job(job), ReportsDir) }

// Task is a task's folder in a state; dispatched tasks sit under their
// worker's name.
func (d Dir) Task(job, state, worker, task string) string {
	if state == Dispatched {
		return filepath.Join(d.Job(job), Dispatched, worker, task)
	}
	return filepath.Join(d.Job(job), state, task)
}

// Checkpoint is the path of a job's scan checkpoint: ossimport keeps
// checkpoints/0/<32 hex>.cpt; the hex is derived from the job name.
func (d Dir) Checkpoint(job string) string {
	sum := md5.Sum([]byte(job))
	return filepath.Join(d.Job(job), checkpointsDir, "0", hex.EncodeToString(sum[:])+".cpt")
}
