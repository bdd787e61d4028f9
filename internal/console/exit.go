package console

import (
	"fmt"

	"github.com/ossimport/ossimport/internal/service"
)

// exitStatuses is the table of exit statuses, in the root command's help
// (the README has the same table).
const exitStatuses = `Exit statuses:
  0    done: every object copied, verified or skipped; the verb succeeded
  1    the work or the check failed: objects failed, the job aborted, the
       service failed, an unknown job or verb
  2    the command could not start: bad or missing configuration, an
       unreadable file
  3    ossimport worker --status: the worker is not running
  130  interrupted (Ctrl-C, SIGTERM): run the same command again to continue`

// ExitError ends a command with a chosen process exit status. Execute
// prints Err (when not nil) as one line and exits with Code, without usage
// text or stack trace. Codes in use: 1 = the work or the check failed,
// 2 = the command could not start (bad or missing configuration, I/O).
type ExitError struct {
	Code int
	Err  error
}

// Error returns the message of Err, or the exit status when Err is nil.
func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

// Unwrap returns Err.
func (e *ExitError) Unwrap() error { return e.Err }

// exitOf turns the service's *service.Error, which carries the exit
// status it calls for, into an *ExitError; other errors (and nil) pass
// as they are.
func exitOf(err error) error {
	if e, ok := err.(*service.Error); ok {
		return &ExitError{Code: e.Code, Err: e.Err}
	}
	return err
}
