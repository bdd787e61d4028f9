package logging

import (
	"io"
	"log/slog"
	"strings"
)

// Options configure a log file.
type Options struct {
	// Level is the least severe level written: debug, info, warn or
	// error (sys.properties logLevel); anything else means info.
	Level string
	// MaxSize is the size at which the file is rotated (logMaxSize);
	// <= 0 never rotates.
	MaxSize int64
	// MaxFiles is the number of rotated files kept (logMaxFiles).
	MaxFiles int
}

// ParseLevel returns the slog level named by s (case-insensitive), or
// info.
func ParseLevel(s string) slog.Level {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(strings.TrimSpace(s))); err != nil {
		return slog.LevelInfo
	}
	return lv
}

// New returns a logger writing text records at opts.Level to w, with
// secrets masked.
func New(w io.Writer, opts Options) *slog.Logger {
	return slog.New(NewMaskHandler(slog.NewTextHandler(w, &slog.HandlerOptions{Level: ParseLevel(opts.Level)})))
}

// Open opens the log file path, rotated by size, as a logger (see New).
// Close the returned closer when done.
func Open(path string, opts Options) (*slog.Logger, io.Closer, error) {
	f, err := OpenRotating(path, opts.MaxSize, opts.MaxFiles)
	if err != nil {
		return nil, nil, err
	}
	return New(f, opts), f, nil
}
