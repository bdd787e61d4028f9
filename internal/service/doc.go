// Package service runs ossimport's service process: the working
// directory's lock and pid files, the engine that `console start` and
// `ossimport run` both assemble (the embedded NATS server or natsUrl's
// cluster, the master and tracker, the in-process worker), the start and
// stop of the local background process, the worker processes' pid
// files, the NATS connections that reach a running service, and the TLS
// of its NATS server. The console's verbs call it; it never prints
// except where a caller hands it a writer, and it never imports the
// console.
//
// Failures that decide the process's exit status are returned as
// *Error.
package service

import "fmt"

// Error is a failure with the process exit status it calls for: 1 when
// the service or the work failed, 2 when it could not start
// (configuration, I/O). Err may be nil when what went wrong was already
// printed. The console's ExitError is this type: what the service
// returns ends the command with its status.
type Error struct {
	Code int
	Err  error
}

// Error returns the message of Err, or the exit status when Err is nil.
func (e *Error) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// Exit statuses of `ossimport service --status` and `ossimport worker
// --status`.
const (
	StatusRunning = 0
	StatusStopped = 3
)
