package bus

import (
	"slices"
	"testing"
	"time"
)

func TestUploadRecords(t *testing.T) {
	srv, b := newBus(t, SetupOptions{})
	started := time.Unix(1700000000, 0).UTC()
	// Keys with characters a KV key cannot hold are hashed.
	recs := []struct {
		job, task string
		u         Upload
	}{
		{"jobA", "T1_1", Upload{Key: "dir/big file ü.bin", DstKey: "pre/big file ü.bin", UploadID: "u1", PartSize: 8 << 20, Started: started, Worker: "10.0.0.1"}},
		{"jobA", "T1_1", Upload{Key: "dir/other*.bin", UploadID: "u2", PartSize: 8 << 20, Started: started, Worker: "10.0.0.1"}},
		{"jobA", "T2_1", Upload{Key: "x", UploadID: "u3", PartSize: 1, Started: started}},
		{"jobB", "T1_1", Upload{Key: "dir/big file ü.bin", UploadID: "u4", PartSize: 1, Started: started}},
	}
	for _, r := range recs {
		must(t, b.PutUpload(tctx(t), r.job, r.task, r.u))
	}
	ids := func(us []Upload, err error) []string {
		t.Helper()
		must(t, err)
		var out []string
		for _, u := range us {
			out = append(out, u.Task+"/"+u.UploadID)
		}
		slices.Sort(out)
		return out
	}
	if got := ids(b.TaskUploads(tctx(t), "jobA", "T1_1")); !slices.Equal(got, []string{"T1_1/u1", "T1_1/u2"}) {
		t.Fatalf("TaskUploads(jobA, T1_1) = %v", got)
	}
	if got := ids(b.JobUploads(tctx(t), "jobA")); !slices.Equal(got, []string{"T1_1/u1", "T1_1/u2", "T2_1/u3"}) {
		t.Fatalf("JobUploads(jobA) = %v", got)
	}
	us, err := b.TaskUploads(tctx(t), "jobA", "T1_1")
	must(t, err)
	for _, u := range us {
		if u.UploadID == "u1" && (u.Key != recs[0].u.Key || u.DstKey != recs[0].u.DstKey || u.PartSize != 8<<20 || !u.Started.Equal(started) || u.Worker != "10.0.0.1") {
			t.Fatalf("record read back as %+v", u)
		}
	}

	// A newer upload of the same object replaces the record.
	r := recs[0].u
	r.UploadID = "u1b"
	must(t, b.PutUpload(tctx(t), "jobA", "T1_1", r))
	if got := ids(b.TaskUploads(tctx(t), "jobA", "T1_1")); !slices.Equal(got, []string{"T1_1/u1b", "T1_1/u2"}) {
		t.Fatalf("after replacing: %v", got)
	}

	// Removal, twice, and of a record that never existed.
	must(t, b.DeleteUpload(tctx(t), "jobA", "T1_1", r.Key))
	must(t, b.DeleteUpload(tctx(t), "jobA", "T1_1", r.Key))
	must(t, b.DeleteUpload(tctx(t), "jobA", "T9_1", "never"))
	if got := ids(b.JobUploads(tctx(t), "jobA")); !slices.Equal(got, []string{"T1_1/u2", "T2_1/u3"}) {
		t.Fatalf("after delete: %v", got)
	}

	// Records survive a reconnect (another worker reads them).
	b2 := connect(t, srv, SetupOptions{})
	if got := ids(b2.JobUploads(tctx(t), "jobB")); !slices.Equal(got, []string{"T1_1/u4"}) {
		t.Fatalf("JobUploads(jobB) from another connection = %v", got)
	}
	if err := b.PutUpload(tctx(t), "job.bad", "T1", Upload{Key: "k"}); err == nil {
		t.Fatal("PutUpload accepted a job name with a dot")
	}
	if _, err := b.TaskUploads(tctx(t), "jobA", "T>"); err == nil {
		t.Fatal("TaskUploads accepted a wildcard task ID")
	}
}
