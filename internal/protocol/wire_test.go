package protocol

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/record"
	"github.com/ossimport/ossimport/internal/transfer"
)

// noZeroFields fails the test when a field of v (a struct, looked into
// through nested structs and the first element of slices) is zero: the
// round trips below must set every field, so a field added to an
// in-process type and forgotten by the wire types fails them.
func noZeroFields(t *testing.T, path string, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			if v.Interface().(time.Time).IsZero() {
				t.Errorf("%s is zero: set it so the round trip checks it", path)
			}
			return
		}
		if v.Type() == reflect.TypeFor[record.Counters]() {
			return // carried as it is
		}
		for i := range v.NumField() {
			noZeroFields(t, path+"."+v.Type().Field(i).Name, v.Field(i))
		}
	case reflect.Slice:
		if v.Len() == 0 {
			t.Errorf("%s is empty: set it so the round trip checks it", path)
			return
		}
		if v.Type().Elem().Kind() == reflect.Struct {
			noZeroFields(t, path+"[0]", v.Index(0))
		}
	default:
		if v.IsZero() {
			t.Errorf("%s is zero: set it so the round trip checks it", path)
		}
	}
}

var (
	at  = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	obj = transfer.Object{Key: "k", DstKey: "d", Size: 3, ModTime: at, ETag: "e", IsSymlink: true, UploadID: "u", PartSize: 5}
)

// TestWireRoundTrips: every message comes back from the wire as it was
// sent, every field of the in-process types included, and carries the
// current major version.
func TestWireRoundTrips(t *testing.T) {
	task := plan.Task{ID: "T_1", Job: "j", Round: 2, Objects: []transfer.Object{obj}, Bytes: 3}
	res := TaskResult{Job: "j", TaskID: "T_1", Worker: "w", Attempt: 2, Counters: record.Counters{Objects: 1, Copied: 1},
		Started: at, Finished: at.Add(time.Second), Abort: "a", Partial: true,
		Objects: []ObjectResult{{Object: obj, Code: transfer.Succeed, Detail: "x", Size: 3, Bytes: 3, At: at,
			Check: transfer.CheckCRC64, CRC64: 7, HasCRC64: true, CRC32C: 9, HasCRC32C: true, MD5: []byte{1}}}}
	prog := TaskProgress{Job: "j", TaskID: "T_1", Worker: "w", FilesDone: 1, FilesTotal: 2, BytesDone: 3, BytesTotal: 4,
		BytesInFlight: 5, BytesCopied: 6, FilesInFlight: 7, At: at}
	hb := Heartbeat{Worker: "w", At: at, Running: 1, BytesPerSecond: 2.5, Version: "v"}
	cases := []struct {
		name string
		in   any
		enc  func() ([]byte, error)
		dec  func([]byte) (any, error)
	}{
		{"task", task, func() ([]byte, error) { return EncodeTask(task) }, func(b []byte) (any, error) { return DecodeTask(b) }},
		{"result", res, func() ([]byte, error) { return EncodeResult(res) }, func(b []byte) (any, error) { return DecodeResult(b) }},
		{"progress", prog, func() ([]byte, error) { return EncodeProgress(prog) }, func(b []byte) (any, error) { return DecodeProgress(b) }},
		{"heartbeat", hb, func() ([]byte, error) { return EncodeHeartbeat(hb) }, func(b []byte) (any, error) { return DecodeHeartbeat(b) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			noZeroFields(t, c.name, reflect.ValueOf(c.in))
			data, err := c.enc()
			if err != nil {
				t.Fatal(err)
			}
			var h version
			if err := json.Unmarshal(data, &h); err != nil || h.V != Major {
				t.Errorf("version %d (%v), want %d: %s", h.V, err, Major, data)
			}
			out, err := c.dec(data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(out, c.in) {
				t.Errorf("after the wire:\n got %+v\nwant %+v", out, c.in)
			}
		})
	}
}

// TestWireKeepsNamesThatAreNotUTF8: a key in another encoding (bytes
// that are not UTF-8) crosses the wire byte for byte, in a task and in a
// result, and reads the same from a message of before versioning.
func TestWireKeepsNamesThatAreNotUTF8(t *testing.T) {
	o := transfer.Object{Key: "bad\xffname.txt", DstKey: "dst/bad\xfe.txt", Size: 1}
	data, err := EncodeTask(plan.Task{ID: "T", Objects: []transfer.Object{o}})
	if err != nil {
		t.Fatal(err)
	}
	task, err := DecodeTask(data)
	if err != nil || len(task.Objects) != 1 || task.Objects[0] != o {
		t.Fatalf("task after the wire: %+v, %v", task, err)
	}
	data, err = EncodeResult(TaskResult{TaskID: "T", Objects: []ObjectResult{{Object: o, Code: transfer.Succeed}}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := DecodeResult(data)
	if err != nil || len(res.Objects) != 1 || res.Objects[0].Object != o {
		t.Fatalf("result after the wire: %+v, %v", res, err)
	}
	old, _ := json.Marshal(plan.Task{ID: "T", Objects: []transfer.Object{o}}) // transfer.Object's own JSON
	if task, err := DecodeTask(old); err != nil || task.Objects[0] != o {
		t.Fatalf("unversioned task: %+v, %v", task, err)
	}
}

// TestWireReadsOlderMessages: a message from a worker or master of
// before the version field (the in-process types marshalled as they
// were) still decodes, as version 1.
func TestWireReadsOlderMessages(t *testing.T) {
	task := plan.Task{ID: "T_1", Job: "j", Objects: []transfer.Object{obj}, Bytes: 3}
	old, _ := json.Marshal(task)
	if got, err := DecodeTask(old); err != nil || !reflect.DeepEqual(got, task) {
		t.Errorf("unversioned task: %+v, %v", got, err)
	}
	res := TaskResult{Job: "j", TaskID: "T_1", Worker: "w", Objects: []ObjectResult{FromResult(transfer.Result{Object: obj, Code: transfer.Succeed}, at)}}
	old, _ = json.Marshal(res)
	if got, err := DecodeResult(old); err != nil || !reflect.DeepEqual(got, res) {
		t.Errorf("unversioned result: %+v, %v", got, err)
	}
	if got, err := DecodeProgress([]byte(`{"job":"j","task":"T_1","worker":"w","filesDone":1,"filesTotal":2,"bytesDone":3,"bytesTotal":4}`)); err != nil || got.BytesTotal != 4 {
		t.Errorf("unversioned progress: %+v, %v", got, err)
	}
	if got, err := DecodeHeartbeat([]byte(`{"worker":"w","at":"2026-01-01T00:00:00Z","running":2,"bytesPerSecond":1,"version":"x"}`)); err != nil || got.Running != 2 {
		t.Errorf("unversioned heartbeat: %+v, %v", got, err)
	}
	if got, err := DecodeJob([]byte(`{"name":"j","config":"YT0x","file":"/c/job.cfg","submitted":"2026-01-01T00:00:00Z"}`)); err != nil ||
		got.Name != "j" || string(got.Config) != "a=1" || got.File != "/c/job.cfg" {
		t.Errorf("unversioned job: %+v, %v", got, err)
	}
	// A newer minor version (an optional field this build does not know)
	// decodes too.
	if got, err := DecodeTask([]byte(`{"v":1,"id":"T_1","job":"j","objects":[],"future":{"x":1}}`)); err != nil || got.ID != "T_1" {
		t.Errorf("task with an unknown field: %+v, %v", got, err)
	}
}

// TestWireRefusesNewerMajorVersion: a message of a newer major version
// is refused with ErrNewerVersion and an error that names both versions,
// also when its fields no longer fit this build's types.
func TestWireRefusesNewerMajorVersion(t *testing.T) {
	newer := `{"v":2,"id":"T_1","job":"j","task":"T_1","worker":"w","objects":[]}`
	misfit := `{"v":2,"objects":"now a string","running":"busy","filesDone":"many"}`
	decoders := map[string]func([]byte) error{
		"task":      func(b []byte) error { _, err := DecodeTask(b); return err },
		"result":    func(b []byte) error { _, err := DecodeResult(b); return err },
		"progress":  func(b []byte) error { _, err := DecodeProgress(b); return err },
		"heartbeat": func(b []byte) error { _, err := DecodeHeartbeat(b); return err },
		"job":       func(b []byte) error { _, err := DecodeJob(b); return err },
	}
	for name, dec := range decoders {
		for _, msg := range []string{newer, misfit} {
			err := dec([]byte(msg))
			if !errors.Is(err, ErrNewerVersion) {
				t.Errorf("%s %s: %v, want ErrNewerVersion", name, msg, err)
				continue
			}
			if !strings.Contains(err.Error(), "version 2") || !strings.Contains(err.Error(), "up to 1") {
				t.Errorf("%s: the error does not name the versions: %v", name, err)
			}
		}
		if err := dec([]byte(`{"v":1,"objects":"x","running":"x","filesDone":"x","config":1}`)); err == nil || errors.Is(err, ErrNewerVersion) {
			t.Errorf("%s: a malformed current message: %v, want a decode error", name, err)
		}
	}
}

// TestJobRoundTrip: a submitted job keeps every field through the wire,
// which carries the format's version.
func TestJobRoundTrip(t *testing.T) {
	j := Job{Name: "j", Config: []byte("srcType=local\n"), File: "/conf/job.cfg", Submitted: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		State: "Abort", Reason: "the destination refuses everything"}
	data, err := EncodeJob(j)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"v":1`) {
		t.Errorf("no version in %s", data)
	}
	got, err := DecodeJob(data)
	if err != nil || !reflect.DeepEqual(got, j) {
		t.Errorf("decoded %+v (%v), want %+v", got, err, j)
	}
}
