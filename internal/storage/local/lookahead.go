package local

import (
	"runtime"
	"sync"

	"github.com/ossimport/ossimport/internal/storage"
)

// A listing spends most of its time looking up each file's size and
// mtime, one system call per file. The walk looks up the files of a
// directory ahead of the caller, a batch at a time, with a few goroutines
// at once: the batch comes back in about the time of its share of
// files per core, and the walk stays in key order.

const (
	// lookAhead is the most files looked up ahead in one directory.
	lookAhead = 512
	// minLookups is the fewest files worth a goroutine.
	minLookups = 32
	// maxLookupThreads bounds the goroutines of one batch.
	maxLookupThreads = 4
)

// looked is the lookup of one file: statAt's answer.
type looked struct {
	info storage.ObjectInfo
	err  error
}

// lookup returns statAt's answer for the file at entry i of f, looking up
// the files that follow it (up to the next directory) first when there
// are enough for several goroutines.
func (w *walker) lookup(f *frame, i int) (storage.ObjectInfo, error) {
	if j := i - f.aheadAt; j >= 0 && j < len(f.ahead) {
		l := f.ahead[j]
		f.ahead[j] = looked{} // its key and error go with the item
		return l.info, l.err
	}
	threads := min(runtime.GOMAXPROCS(0), maxLookupThreads)
	end := i
	for end < len(f.names) && end-i < lookAhead && !isDirName(f.names[end]) {
		end++
	}
	if threads < 2 || end-i < 2*minLookups {
		return w.s.statAt(f.d, f.names[i], f.dir+f.names[i])
	}
	n := end - i
	if cap(f.ahead) < n {
		f.ahead = make([]looked, n)
	}
	f.ahead, f.aheadAt = f.ahead[:n], i
	threads = min(threads, n/minLookups)
	var wg sync.WaitGroup
	for t := range threads {
		lo, hi := t*n/threads, (t+1)*n/threads
		wg.Go(func() {
			for j := lo; j < hi; j++ {
				name := f.names[i+j]
				info, err := w.s.statAt(f.d, name, f.dir+name)
				f.ahead[j] = looked{info: info, err: err}
			}
		})
	}
	wg.Wait()
	return w.lookup(f, i)
}
