package bus

import (
	"bytes"
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/testenv"
)

// TestPayloadsCompressedAboveThreshold checks how a payload that fits a
// message travels: as it is up to compressAbove, zstd-compressed above it
// when that makes it smaller (a task's object list), and as it is when
// it does not (random bytes); every one arrives unchanged.
func TestPayloadsCompressedAboveThreshold(t *testing.T) {
	_, b := newBus(t, SetupOptions{})
	line := []byte(`{"k":"d12/f345","s":0,"m":"2026-12-05T17:40:12.123456789Z"},`)
	small := bytes.Repeat(line, compressAbove/len(line))
	list := bytes.Repeat(line, 2*compressAbove/len(line))
	random := make([]byte, 2*compressAbove)
	rand.Read(random)
	cases := []struct {
		id   string
		data []byte
		enc  string
	}{{"small", small, ""}, {"list", list, encZstd}, {"random", random, ""}}
	for _, c := range cases {
		must(t, b.PublishTask(tctx(t), "zjob", c.id, c.data))
	}
	for _, c := range cases {
		m := next(t, b, "w")
		if m.TaskID != c.id {
			t.Fatalf("got task %s, want %s", m.TaskID, c.id)
		}
		h := m.msg.Headers()
		if enc := h.Get(hdrEncoding); enc != c.enc || h.Get(hdrObject) != "" {
			t.Errorf("%s (%d bytes): encoding %q object %q, want encoding %q inline", c.id, len(c.data), enc, h.Get(hdrObject), c.enc)
		}
		if c.enc != "" && len(m.msg.Data()) > len(c.data)/4 {
			t.Errorf("%s: %d bytes compressed to %d", c.id, len(c.data), len(m.msg.Data()))
		}
		if !bytes.Equal(mustData(t, m), c.data) {
			t.Fatalf("%s: payload differs after the round trip", c.id)
		}
		must(t, m.Ack())
	}
	// A journal entry goes the same way.
	must(t, b.Append(tctx(t), "zjob", KindPlanned, "list", "list", list))
	got := make(chan []byte, 1)
	ctx, cancel := context.WithTimeout(t.Context(), testenv.Scale(30*time.Second))
	defer cancel()
	go func() {
		_ = b.Follow(ctx, 0, func(e JournalEntry) error {
			if e.Job == "zjob" {
				got <- e.Data
				cancel()
			}
			return nil
		})
	}()
	select {
	case data := <-got:
		if !bytes.Equal(data, list) {
			t.Fatalf("a journal entry of %d bytes came back as %d bytes", len(list), len(data))
		}
	case <-ctx.Done():
		t.Fatal("the journal entry was not delivered")
	}
}
