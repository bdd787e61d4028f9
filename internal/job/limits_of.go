package job

import "github.com/ossimport/ossimport/internal/config"

// LimitsOf builds the limiters of a worker capped at bytesPerSecond (0:
// uncapped; schedule, when set, gives the cap by time of day) and
// requestsPerSecond (0: uncapped). Call Run to follow the schedule.
func LimitsOf(bytesPerSecond int64, schedule config.Schedule, requestsPerSecond float64) *Limits {
	l := &Limits{fixed: bytesPerSecond, schedule: schedule}
	l.Bytes, l.Requests = newLimiters(l.fixed, l.schedule, requestsPerSecond)
	return l
}
