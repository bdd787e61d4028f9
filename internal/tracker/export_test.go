package tracker

import (
	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/protocol"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/workdir"
)

// NewFiling returns a tracker that files results into dir and counts
// them with mx, without a bus or counters (tests of the filing).
func NewFiling(dir workdir.Dir, mx Observer) *Tracker {
	t, err := New(Options{Dir: dir, Bus: new(bus.Bus), Metrics: mx})
	if err != nil {
		panic(err)
	}
	t.book = nil
	return t
}

// ApplyResult files a result as the journal's filing does.
func (t *Tracker) ApplyResult(res protocol.TaskResult) (record.Counters, error) { return t.apply(res) }
