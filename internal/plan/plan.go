// Package plan lists a job's source and cuts it into tasks: the master's
// half of the engine. Listing streams page by page (memory stays bounded
// whatever the object count), fans out over directories with several
// threads, filters objects, and hands each finished task to an emit
// function together with a checkpoint, so a scan killed at any point
// resumes without gaps or duplicate tasks. It knows nothing about queues
// or processes.
package plan

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/transfer"
)

// Task is a unit of work for a worker: a list of objects, never splitting
// an object.
type Task struct {
	ID      string            `json:"id"`
	Job     string            `json:"job"`
	Round   int               `json:"round"` // 0 for the full pass, n for the n-th incremental rescan
	Objects []transfer.Object `json:"objects"`
	// Bytes is the sum of the known object sizes.
	Bytes int64 `json:"bytes"`
}

// Options configure a Planner.
type Options struct {
	Job string
	// Prefix is the source prefix listed (srcPrefix for object stores, ""
	// for local sources, whose root is srcPrefix); DstPrefix replaces it
	// in destination keys (destPrefix).
	Prefix    string
	DstPrefix string
	// MaxObjects and MaxBytes bound a task (taskObjectCountLimit,
	// taskObjectSizeLimit). MaxBytes is ignored when GroupKey is set.
	MaxObjects int
	MaxBytes   int64
	// ScanThreads lists that many directories at once (scanThreadCount),
	// fanning out down to MaxScanDepth directory levels
	// (maxMultiThreadScanDepth).
	ScanThreads  int
	MaxScanDepth int
	// Since keeps only objects modified after it (importSince); zero
	// keeps all.
	Since time.Time
	// Keep, when set, selects objects by their key relative to Prefix
	// (include/exclude patterns, size bounds).
	Keep func(rel string, info storage.ObjectInfo) bool
	// GroupKey, when set, starts a new task whenever its value changes
	// between consecutive objects (URL lists: the prefix column).
	GroupKey func(storage.ObjectInfo) string
	// Round is stamped on every task; incremental rescans count up.
	Round int
	// Changed, when set, keeps only objects it reports as new or changed
	// at their destination key (incremental rescans).
	Changed func(ctx context.Context, info storage.ObjectInfo, dstKey string) bool
	// PageSize is the listing page size (default 1000).
	PageSize int
	// Excluded, when set, is called for every listed object the filters
	// drop (not directory markers), with the reason: "importSince",
	// "unchanged" (Changed), or KeepReason's answer for Keep ("filter"
	// when KeepReason is not set). Scan threads call it concurrently.
	// Dry runs report with it.
	Excluded func(info storage.ObjectInfo, reason string)
	// KeepReason, when set, names the filter Keep drops an object by.
	KeepReason func(rel string, info storage.ObjectInfo) string
}

// Validate checks the options and fills in defaults.
func (o *Options) Validate() error {
	var errs []error
	if o.Job == "" {
		errs = append(errs, errors.New("plan options: Job is empty"))
	}
	if o.MaxObjects <= 0 {
		errs = append(errs, errors.New("plan options: MaxObjects must be positive"))
	}
	if o.MaxBytes <= 0 {
		errs = append(errs, errors.New("plan options: MaxBytes must be positive"))
	}
	if o.ScanThreads <= 0 {
		o.ScanThreads = 1
	}
	if o.MaxScanDepth <= 0 {
		o.MaxScanDepth = 1
	}
	if o.PageSize <= 0 {
		o.PageSize = 1000
	}
	return errors.Join(errs...)
}

// Emit publishes a task. The planner saves the checkpoint that covers
// the task after Emit returns: a crash in between plans the same task
// again with the same ID, so publishing must be idempotent by task ID.
type Emit func(ctx context.Context, t Task) error

// Save persists a checkpoint. The planner calls it with the state
// locked, so it must not call back into the planner.
type Save func(ctx context.Context, cp *Checkpoint) error

// Stats count what a scan saw.
type Stats struct {
	Listed   int64 // objects listed (before filtering)
	Planned  int64 // objects put into tasks
	Bytes    int64 // bytes put into tasks
	Filtered int64 // objects dropped by filters
	Tasks    int64
}

// taskID derives a stable task id from the job, the shard and the task's
// sequence number in it, in ossimport's "<32 hex>_<millis>" shape; the
// millis are the job's planning start, kept in the checkpoint.
func taskID(job string, round int, shard string, seq int, started int64) string {
	sum := md5.Sum([]byte(job + "\x00" + strconv.Itoa(round) + "\x00" + shard + "\x00" + strconv.Itoa(seq)))
	return strings.ToUpper(hex.EncodeToString(sum[:])) + "_" + strconv.FormatInt(started, 10)
}

// dstKey maps a source key to its destination key.
func (o *Options) dstKey(key string) string {
	return o.DstPrefix + strings.TrimPrefix(key, o.Prefix)
}

func (o *Options) object(info storage.ObjectInfo) transfer.Object {
	obj := transfer.Object{Key: info.Key, Size: info.Size, ModTime: info.ModTime, ETag: info.ETag, IsSymlink: info.IsSymlink}
	if d := o.dstKey(info.Key); d != info.Key {
		obj.DstKey = d
	}
	return obj
}
