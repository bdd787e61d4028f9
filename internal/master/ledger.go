package master

// openBook loads the jobs' counters (tracker.Ledger), rebuilding those a
// crash left unmarked, before anything is filed.
func (m *Master) openBook() error {
	return m.book.Open()
}

// closeBook writes the jobs' counters with the clean mark, once nothing
// is filed any more.
func (m *Master) closeBook() {
	if err := m.book.Close(); err != nil {
		m.log.Warn("cannot record the job counters; the next start rebuilds them", "err", err)
	}
}
