// Package protocol holds the messages master, tracker, workers and
// console exchange over the bus. The in-process types (TaskResult,
// ObjectResult, TaskProgress, Heartbeat; tasks are plan.Task) are
// converted at the edge, by Encode* and Decode*, to and from the wire
// types (WireTask, WireResult, WireProgress, WireHeartbeat): JSON
// carrying the format's major version in "v" (Major). Within a major
// version the format evolves by field presence: new fields are
// optional, old ones are never reused. A message of a newer major
// version is refused with ErrNewerVersion; one without a version (from
// before versioning) reads as version 1.
package protocol

import (
	"time"

	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/transfer"
)

// Job is a submitted job, as kept in the jobs key-value bucket.
type Job struct {
	Name string `json:"name"`
	// Config is the job file as submitted (it holds the job's
	// credentials; the bucket is only reachable with the cluster token).
	Config    []byte    `json:"config"`
	File      string    `json:"file"` // the path it was submitted from, for messages
	Submitted time.Time `json:"submitted"`
	// State is "", Running, Succeed, Failed or Abort; Reason explains
	// Abort.
	State  string `json:"state,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// ObjectResult is the outcome of one object of a task.
type ObjectResult struct {
	Object transfer.Object `json:"o"`
	Code   transfer.Code   `json:"c"`
	Detail string          `json:"d,omitempty"`
	Size   int64           `json:"s,omitempty"`
	Bytes  int64           `json:"b,omitempty"`
	At     time.Time       `json:"t"`
	// Check names what verification compared (transfer.CheckCRC64, ...);
	// CRC64 (when HasCRC64), CRC32C (when HasCRC32C) and MD5 are the
	// content checksums computed while copying, for the copied report.
	// All optional.
	Check     string `json:"ck,omitempty"`
	CRC64     uint64 `json:"crc,omitempty"`
	HasCRC64  bool   `json:"hc,omitempty"`
	CRC32C    uint32 `json:"c32,omitempty"`
	HasCRC32C bool   `json:"hc32,omitempty"`
	MD5       []byte `json:"md5,omitempty"`
}

// Result converts back to a transfer.Result for the records.
func (o ObjectResult) Result() transfer.Result {
	return transfer.Result{Object: o.Object, Code: o.Code, Detail: o.Detail, Size: o.Size, Bytes: o.Bytes, Check: o.Check,
		Checksums: storage.Checksums{CRC64: o.CRC64, HasCRC64: o.HasCRC64, CRC32C: o.CRC32C, HasCRC32C: o.HasCRC32C, MD5: o.MD5}}
}

// FromResult converts a transfer.Result for the wire.
func FromResult(r transfer.Result, at time.Time) ObjectResult {
	return ObjectResult{Object: r.Object, Code: r.Code, Detail: r.Detail, Size: r.Size, Bytes: r.Bytes, At: at,
		Check: r.Check, CRC64: r.Checksums.CRC64, HasCRC64: r.Checksums.HasCRC64,
		CRC32C: r.Checksums.CRC32C, HasCRC32C: r.Checksums.HasCRC32C, MD5: r.Checksums.MD5}
}

// TaskResult is a worker's report of a finished task.
type TaskResult struct {
	Job      string          `json:"job"`
	TaskID   string          `json:"task"`
	Worker   string          `json:"worker"`
	Attempt  int             `json:"attempt"` // the queue's delivery count
	Objects  []ObjectResult  `json:"objects"`
	Counters record.Counters `json:"counters"`
	Started  time.Time       `json:"started"`
	Finished time.Time       `json:"finished"`
	// Abort, when set, says the job cannot proceed at all (destination
	// bucket gone, credentials refused) and why.
	Abort string `json:"abort,omitempty"`
	// Partial marks the objects a worker finished (successfully) before
	// it stopped and handed the task back: the tracker records them but
	// the task stays unfinished, and a later result of the task finishes
	// it. Finished is when the worker stopped.
	Partial bool `json:"partial,omitempty"`
}

// TaskProgress is a running task's progress, sent every
// workerProgressInterval while it runs.
type TaskProgress struct {
	Job    string `json:"job"`
	TaskID string `json:"task"`
	Worker string `json:"worker"`
	// FilesDone counts finished objects (failed ones included).
	FilesDone  int64 `json:"filesDone"`
	FilesTotal int64 `json:"filesTotal"`
	// BytesDone counts the sizes of objects finished successfully plus
	// BytesInFlight.
	BytesDone  int64 `json:"bytesDone"`
	BytesTotal int64 `json:"bytesTotal"`
	// BytesInFlight is what was read so far of the objects being copied
	// (at most each one's size), FilesInFlight how many they are.
	BytesInFlight int64 `json:"bytesInFlight,omitempty"`
	// BytesCopied counts the sizes of the objects copied (not skipped
	// or verified) plus BytesInFlight: what copy rates are measured on.
	BytesCopied   int64 `json:"bytesCopied,omitempty"`
	FilesInFlight int64 `json:"filesInFlight,omitempty"`
	// At is when the worker measured it.
	At time.Time `json:"at,omitzero"`
}

// Heartbeat is a worker's liveness record.
type Heartbeat struct {
	Worker  string    `json:"worker"`
	At      time.Time `json:"at"`
	Running int       `json:"running"` // tasks in flight
	// BytesPerSecond read from sources over the last interval.
	BytesPerSecond float64 `json:"bytesPerSecond"`
	Version        string  `json:"version"`
}
