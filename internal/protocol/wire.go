package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/transfer"
)

// Major is the major version of the wire format this build writes and
// the newest it reads. Adding an optional field keeps it; a change an
// older reader would misread (a field renamed, retyped or given a new
// meaning) increments it. Messages written before versioning carry no
// version (0) and read as version 1, whose fields they have.
const Major = 1

// ErrNewerVersion is returned (wrapped) for a message written in a newer
// major version of the wire format than this process reads: it is
// refused, never guessed at. The remedy is to upgrade this process.
var ErrNewerVersion = errors.New("message written by a newer ossimport")

// The messages as they travel on the bus: JSON, with short field names
// for the per-object parts. Each top-level message carries its major
// version in "v". Encode* and Decode* convert them from and to the
// in-process types (plan.Task, TaskResult, TaskProgress, Heartbeat, Job) at
// the edge, so the in-process types can change without changing the
// wire.

// WireObject is a transfer.Object on the wire. JSON strings cannot carry
// names that are not valid UTF-8 (local files in another encoding):
// those keys travel as raw bytes (base64) in "kb" and "db" instead, and
// "k" and "d" are empty.
type WireObject struct {
	Key       string    `json:"k"`
	DstKey    string    `json:"d,omitempty"`
	Size      int64     `json:"s"`
	ModTime   time.Time `json:"m,omitzero"`
	ETag      string    `json:"e,omitempty"`
	IsSymlink bool      `json:"l,omitempty"`
	UploadID  string    `json:"u,omitempty"`
	PartSize  int64     `json:"p,omitempty"`
	KeyBytes  []byte    `json:"kb,omitempty"`
	DstBytes  []byte    `json:"db,omitempty"`
}

// WireTask is a planned task on the task queue and in the journal.
type WireTask struct {
	V       int          `json:"v"`
	ID      string       `json:"id"`
	Job     string       `json:"job"`
	Round   int          `json:"round"`
	Objects []WireObject `json:"objects"`
	Bytes   int64        `json:"bytes"`
}

// WireObjectResult is an ObjectResult on the wire.
type WireObjectResult struct {
	Object    WireObject `json:"o"`
	Code      string     `json:"c"`
	Detail    string     `json:"d,omitempty"`
	Size      int64      `json:"s,omitempty"`
	Bytes     int64      `json:"b,omitempty"`
	At        time.Time  `json:"t"`
	Check     string     `json:"ck,omitempty"`
	CRC64     uint64     `json:"crc,omitempty"`
	HasCRC64  bool       `json:"hc,omitempty"`
	CRC32C    uint32     `json:"c32,omitempty"`
	HasCRC32C bool       `json:"hc32,omitempty"`
	MD5       []byte     `json:"md5,omitempty"`
}

// WireResult is a TaskResult on the wire (the job journal).
type WireResult struct {
	V        int                `json:"v"`
	Job      string             `json:"job"`
	TaskID   string             `json:"task"`
	Worker   string             `json:"worker"`
	Attempt  int                `json:"attempt"`
	Objects  []WireObjectResult `json:"objects"`
	Counters record.Counters    `json:"counters"`
	Started  time.Time          `json:"started"`
	Finished time.Time          `json:"finished"`
	Abort    string             `json:"abort,omitempty"`
	Partial  bool               `json:"partial,omitempty"`
}

// WireProgress is a TaskProgress on the wire (the progress subject).
type WireProgress struct {
	V             int       `json:"v"`
	Job           string    `json:"job"`
	TaskID        string    `json:"task"`
	Worker        string    `json:"worker"`
	FilesDone     int64     `json:"filesDone"`
	FilesTotal    int64     `json:"filesTotal"`
	BytesDone     int64     `json:"bytesDone"`
	BytesTotal    int64     `json:"bytesTotal"`
	BytesInFlight int64     `json:"bytesInFlight,omitempty"`
	BytesCopied   int64     `json:"bytesCopied,omitempty"`
	FilesInFlight int64     `json:"filesInFlight,omitempty"`
	At            time.Time `json:"at,omitzero"`
}

// WireHeartbeat is a Heartbeat on the wire (the workers bucket).
type WireHeartbeat struct {
	V              int       `json:"v"`
	Worker         string    `json:"worker"`
	At             time.Time `json:"at"`
	Running        int       `json:"running"`
	BytesPerSecond float64   `json:"bytesPerSecond"`
	Version        string    `json:"version"`
}

// version is the header every message shares.
type version struct {
	V int `json:"v"`
}

// decode reads data into msg, whose version field is at *v; a message of
// a newer major version is refused with ErrNewerVersion, also when its
// fields no longer fit msg.
func decode(kind string, data []byte, msg any, v *int) error {
	err := json.Unmarshal(data, msg)
	if err != nil {
		var h version
		if json.Unmarshal(data, &h) == nil && h.V > Major {
			*v = h.V
		}
	}
	if *v > Major {
		return fmt.Errorf("decode %s: wire format version %d, this ossimport reads up to %d (upgrade it): %w", kind, *v, Major, ErrNewerVersion)
	}
	if err != nil {
		return fmt.Errorf("decode %s: %w", kind, err)
	}
	return nil
}

// EncodeTask renders a planned task for the bus.
func EncodeTask(t plan.Task) ([]byte, error) {
	w := WireTask{V: Major, ID: t.ID, Job: t.Job, Round: t.Round, Bytes: t.Bytes}
	if t.Objects != nil {
		w.Objects = make([]WireObject, len(t.Objects))
	}
	for i, o := range t.Objects {
		w.Objects[i] = wireObject(o)
	}
	data, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encode task %s: %w", t.ID, err)
	}
	return data, nil
}

// DecodeTask reads a task from the bus.
func DecodeTask(data []byte) (plan.Task, error) {
	var w WireTask
	if err := decode("task", data, &w, &w.V); err != nil {
		return plan.Task{}, err
	}
	t := plan.Task{ID: w.ID, Job: w.Job, Round: w.Round, Bytes: w.Bytes}
	if w.Objects != nil {
		t.Objects = make([]transfer.Object, len(w.Objects))
	}
	for i, o := range w.Objects {
		t.Objects[i] = o.object()
	}
	return t, nil
}

// EncodeResult renders a task's result for the bus.
func EncodeResult(r TaskResult) ([]byte, error) {
	w := WireResult{V: Major, Job: r.Job, TaskID: r.TaskID, Worker: r.Worker, Attempt: r.Attempt, Counters: r.Counters,
		Started: r.Started, Finished: r.Finished, Abort: r.Abort, Partial: r.Partial}
	if r.Objects != nil {
		w.Objects = make([]WireObjectResult, len(r.Objects))
	}
	for i, o := range r.Objects {
		w.Objects[i] = WireObjectResult{Object: wireObject(o.Object), Code: string(o.Code), Detail: o.Detail, Size: o.Size, Bytes: o.Bytes,
			At: o.At, Check: o.Check, CRC64: o.CRC64, HasCRC64: o.HasCRC64, CRC32C: o.CRC32C, HasCRC32C: o.HasCRC32C, MD5: o.MD5}
	}
	data, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encode the result of task %s: %w", r.TaskID, err)
	}
	return data, nil
}

// DecodeResult reads a task's result from the bus.
func DecodeResult(data []byte) (TaskResult, error) {
	var w WireResult
	if err := decode("result", data, &w, &w.V); err != nil {
		return TaskResult{}, err
	}
	r := TaskResult{Job: w.Job, TaskID: w.TaskID, Worker: w.Worker, Attempt: w.Attempt, Counters: w.Counters,
		Started: w.Started, Finished: w.Finished, Abort: w.Abort, Partial: w.Partial}
	if w.Objects != nil {
		r.Objects = make([]ObjectResult, len(w.Objects))
	}
	for i, o := range w.Objects {
		r.Objects[i] = ObjectResult{Object: o.Object.object(), Code: transfer.Code(o.Code), Detail: o.Detail, Size: o.Size, Bytes: o.Bytes,
			At: o.At, Check: o.Check, CRC64: o.CRC64, HasCRC64: o.HasCRC64, CRC32C: o.CRC32C, HasCRC32C: o.HasCRC32C, MD5: o.MD5}
	}
	return r, nil
}

// EncodeProgress renders a running task's progress for the bus.
func EncodeProgress(p TaskProgress) ([]byte, error) {
	data, err := json.Marshal(WireProgress{V: Major, Job: p.Job, TaskID: p.TaskID, Worker: p.Worker,
		FilesDone: p.FilesDone, FilesTotal: p.FilesTotal, BytesDone: p.BytesDone, BytesTotal: p.BytesTotal,
		BytesInFlight: p.BytesInFlight, BytesCopied: p.BytesCopied, FilesInFlight: p.FilesInFlight, At: p.At})
	if err != nil {
		return nil, fmt.Errorf("encode the progress of task %s: %w", p.TaskID, err)
	}
	return data, nil
}

// DecodeProgress reads a running task's progress from the bus.
func DecodeProgress(data []byte) (TaskProgress, error) {
	var w WireProgress
	if err := decode("progress", data, &w, &w.V); err != nil {
		return TaskProgress{}, err
	}
	return TaskProgress{Job: w.Job, TaskID: w.TaskID, Worker: w.Worker,
		FilesDone: w.FilesDone, FilesTotal: w.FilesTotal, BytesDone: w.BytesDone, BytesTotal: w.BytesTotal,
		BytesInFlight: w.BytesInFlight, BytesCopied: w.BytesCopied, FilesInFlight: w.FilesInFlight, At: w.At}, nil
}

// EncodeHeartbeat renders a worker's heartbeat for the bus.
func EncodeHeartbeat(h Heartbeat) ([]byte, error) {
	data, err := json.Marshal(WireHeartbeat{V: Major, Worker: h.Worker, At: h.At, Running: h.Running,
		BytesPerSecond: h.BytesPerSecond, Version: h.Version})
	if err != nil {
		return nil, fmt.Errorf("encode the heartbeat of worker %s: %w", h.Worker, err)
	}
	return data, nil
}

// DecodeHeartbeat reads a worker's heartbeat from the bus.
func DecodeHeartbeat(data []byte) (Heartbeat, error) {
	var w WireHeartbeat
	if err := decode("heartbeat", data, &w, &w.V); err != nil {
		return Heartbeat{}, err
	}
	return Heartbeat{Worker: w.Worker, At: w.At, Running: w.Running, BytesPerSecond: w.BytesPerSecond, Version: w.Version}, nil
}

func wireObject(o transfer.Object) WireObject {
	w := WireObject{Key: o.Key, DstKey: o.DstKey, Size: o.Size, ModTime: o.ModTime, ETag: o.ETag,
		IsSymlink: o.IsSymlink, UploadID: o.UploadID, PartSize: o.PartSize}
	if !utf8.ValidString(o.Key) {
		w.KeyBytes, w.Key = []byte(o.Key), ""
	}
	if !utf8.ValidString(o.DstKey) {
		w.DstBytes, w.DstKey = []byte(o.DstKey), ""
	}
	return w
}

func (o WireObject) object() transfer.Object {
	t := transfer.Object{Key: o.Key, DstKey: o.DstKey, Size: o.Size, ModTime: o.ModTime, ETag: o.ETag,
		IsSymlink: o.IsSymlink, UploadID: o.UploadID, PartSize: o.PartSize}
	if o.KeyBytes != nil {
		t.Key = string(o.KeyBytes)
	}
	if o.DstBytes != nil {
		t.DstKey = string(o.DstBytes)
	}
	return t
}

// WireJob is a submitted Job in the jobs bucket.
type WireJob struct {
	V         int       `json:"v"`
	Name      string    `json:"name"`
	Config    []byte    `json:"config"`
	File      string    `json:"file"`
	Submitted time.Time `json:"submitted"`
	State     string    `json:"state,omitempty"`
	Reason    string    `json:"reason,omitempty"`
}

// EncodeJob renders a submitted job for the jobs bucket.
func EncodeJob(j Job) ([]byte, error) {
	data, err := json.Marshal(WireJob{V: Major, Name: j.Name, Config: j.Config, File: j.File, Submitted: j.Submitted,
		State: j.State, Reason: j.Reason})
	if err != nil {
		return nil, fmt.Errorf("encode job %s: %w", j.Name, err)
	}
	return data, nil
}

// DecodeJob reads a submitted job from the jobs bucket.
func DecodeJob(data []byte) (Job, error) {
	var w WireJob
	if err := decode("job", data, &w, &w.V); err != nil {
		return Job{}, err
	}
	return Job{Name: w.Name, Config: w.Config, File: w.File, Submitted: w.Submitted, State: w.State, Reason: w.Reason}, nil
}
