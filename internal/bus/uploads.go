package bus

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// uploadMarkerTTL is how long the marker of a removed upload record is
// kept: long enough for a concurrent reader to see the removal, short
// enough that markers do not pile up, one per large object, forever.
const uploadMarkerTTL = time.Minute

// Upload is a multipart upload a worker started at the destination and
// has not finished: whichever worker runs the task next resumes it, and
// cleaning the job aborts it.
type Upload struct {
	// Key is the object's source key; DstKey its destination key (what
	// AbortMultipart needs).
	Key      string    `json:"key"`
	DstKey   string    `json:"dst"`
	UploadID string    `json:"uploadId"`
	PartSize int64     `json:"partSize"`
	Started  time.Time `json:"started"`
	Worker   string    `json:"worker"`
	// Delivery is the delivery count of the task on Worker that started
	// or took over the upload (see Owner).
	Delivery uint64 `json:"delivery,omitempty"`
	// Task is filled in by JobUploads and TaskUploads from the record's
	// key; it is not stored.
	Task string `json:"-"`
}

// uploadKey is the record key of one object of a task:
// <job>.<task>.<sha-256 of the source key, 32 hex digits>. Object keys
// are hashed because KV keys allow few characters.
func uploadKey(job, task, objectKey string) (string, error) {
	if err := checkJob(job); err != nil {
		return "", err
	}
	if !tokenRE.MatchString(task) {
		return "", fmt.Errorf("bus: invalid task ID %q", task)
	}
	sum := sha256.Sum256([]byte(objectKey))
	return job + "." + task + "." + hex.EncodeToString(sum[:16]), nil
}

// PutUpload records (or replaces) the unfinished upload of one object of
// a task.
func (b *Bus) PutUpload(ctx context.Context, job, task string, u Upload) error {
	key, err := uploadKey(job, task, u.Key)
	if err != nil {
		return err
	}
	data, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("bus: upload record of %q: %w", u.Key, err)
	}
	return b.uploads().Put(ctx, key, data)
}

// DeleteUpload removes the upload record of one object of a task;
// removing a missing record is not an error.
func (b *Bus) DeleteUpload(ctx context.Context, job, task, objectKey string) error {
	key, err := uploadKey(job, task, objectKey)
	if err != nil {
		return err
	}
	st, err := b.state()
	if err == nil {
		err = st.uploads.Purge(ctx, key, jetstream.PurgeTTL(uploadMarkerTTL))
	}
	if err != nil {
		return fmt.Errorf("bus: %s delete %q: %w", UploadsBucket, key, err)
	}
	return nil
}

// TaskUploads returns the upload records of one task.
func (b *Bus) TaskUploads(ctx context.Context, job, task string) ([]Upload, error) {
	if err := checkJob(job); err != nil {
		return nil, err
	}
	if !tokenRE.MatchString(task) {
		return nil, fmt.Errorf("bus: invalid task ID %q", task)
	}
	return b.listUploads(ctx, job+"."+task+".*")
}

// JobUploads returns the upload records of every task of a job.
func (b *Bus) JobUploads(ctx context.Context, job string) ([]Upload, error) {
	if err := checkJob(job); err != nil {
		return nil, err
	}
	return b.listUploads(ctx, job+".>")
}

// listUploads reads the records whose keys match filter.
func (b *Bus) listUploads(ctx context.Context, filter string) ([]Upload, error) {
	st, err := b.state()
	if err != nil {
		return nil, err
	}
	lister, err := st.uploads.ListKeysFiltered(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("bus: %s keys %q: %w", UploadsBucket, filter, err)
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	_ = lister.Stop()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bus: %s keys %q: %w", UploadsBucket, filter, err)
	}
	var out []Upload
	for _, k := range keys {
		data, err := b.uploads().Get(ctx, k)
		if errors.Is(err, ErrNotFound) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		var u Upload
		if err := json.Unmarshal(data, &u); err != nil {
			return nil, fmt.Errorf("bus: %s %q: %w", UploadsBucket, k, err)
		}
		u.Task = taskOfUploadKey(k)
		out = append(out, u)
	}
	return out, nil
}

// taskOfUploadKey returns the task part of <job>.<task>.<hash>.
func taskOfUploadKey(k string) string {
	if parts := strings.Split(k, "."); len(parts) == 3 {
		return parts[1]
	}
	return ""
}

// uploads is the OSSIMPORT_UPLOADS bucket.
func (b *Bus) uploads() *KV {
	return &KV{b, UploadsBucket, func(s *state) jetstream.KeyValue { return s.uploads }}
}
