package tracker

import "github.com/ossimport/ossimport/internal/record"

// addSkippedBy adds sign*c's skip reasons to sum, dropping the reasons
// that come to zero.
func addSkippedBy(sum *record.Counters, c record.Counters, sign int64) {
	for why, n := range c.SkippedBy {
		if sum.SkippedBy == nil {
			sum.SkippedBy = map[string]int64{}
		}
		sum.SkippedBy[why] += sign * n
		if sum.SkippedBy[why] == 0 {
			delete(sum.SkippedBy, why)
		}
	}
}
