package master

// openBook loads the jobs' counters (tracker.Ledger), rebuilding those a
// crash left unmarked, before anything is filed. A job whose counters
// cannot be rebuilt is still served: stat reads its folders.
func (m *Master) openBook() {
	if err := m.book.Open(); err != nil {
		m.log.Warn("cannot keep the counters of some jobs; stat reads their task folders", "err", err)
	}
}

// closeBook writes the jobs' counters with the clean mark, once nothing
// is filed any more.
func (m *Master) closeBook() {
	if err := m.book.Close(); err != nil {
		m.log.Warn("cannot record the job counters; the next start rebuilds them", "err", err)
	}
}
