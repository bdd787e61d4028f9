package console

import (
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
// It is the service's *service.Error, so that what the service returns
// ends the command with the status it calls for.
type ExitError = service.Error
