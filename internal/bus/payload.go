package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// Message headers set by the bus.
const (
	hdrJob      = "Ossimport-Job"
	hdrTask     = "Ossimport-Task"
	hdrWorker   = "Ossimport-Worker"
	hdrSize     = "Ossimport-Size"     // length of the original payload
	hdrEncoding = "Ossimport-Encoding" // "zstd" when compressed
	hdrObject   = "Ossimport-Object"   // object in TaskDataBucket holding the payload
	hdrError    = "Ossimport-Error"    // control reply carrying an error
	encZstd     = "zstd"

	// headroom is kept below the server's max payload for headers.
	headroom = 8 << 10
	// compressAbove: larger payloads are zstd-compressed even when they
	// fit a message (a task of 10,000 objects shrinks about tenfold), which
	// keeps the streams, and the NATS server's caches of the blocks it
	// writes, that much smaller.
	compressAbove = 64 << 10
	// maxDecoded bounds decompression of a single payload.
	maxDecoded = 1 << 30
)

var (
	zenc = sync.OnceValue(func() *zstd.Encoder {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
		if err != nil {
			panic(err) // only on invalid options
		}
		return e
	})
	zdec = sync.OnceValue(func() *zstd.Decoder {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxDecoded))
		if err != nil {
			panic(err) // only on invalid options
		}
		return d
	})
)

// inlineLimit is the largest payload sent inside a message.
func (b *Bus) inlineLimit() int {
	maxp := int(b.nc.MaxPayload())
	return maxp - min(headroom, maxp/2)
}

// objectName names a payload object uniquely: a republished duplicate
// never overwrites the object of the message it duplicates.
func objectName(kind, job, id string) string {
	return kind + "/" + job + "/" + id + "/" + nuid.Next()
}

// pack puts data into msg: inline, zstd-compressed inline when too large,
// or in the object store when still too large (it never truncates). It
// returns the name of the object it stored, if any.
func (b *Bus) pack(ctx context.Context, st *state, msg *nats.Msg, name string, data []byte) (string, error) {
	msg.Header.Set(hdrSize, strconv.Itoa(len(data)))
	limit := b.inlineLimit()
	if len(data) <= min(limit, compressAbove) {
		msg.Data = data
		return "", nil
	}
	packed := zenc().EncodeAll(data, make([]byte, 0, len(data)/2))
	if len(packed) <= limit && len(packed) < len(data) {
		msg.Header.Set(hdrEncoding, encZstd)
		msg.Data = packed
		return "", nil
	}
	if len(data) <= limit {
		msg.Data = data
		return "", nil
	}
	if len(packed) < len(data) {
		msg.Header.Set(hdrEncoding, encZstd)
	} else {
		packed = data
	}
	if _, err := st.data.PutBytes(ctx, name, packed); err != nil {
		return "", fmt.Errorf("bus: store %d-byte payload in %s: %w", len(data), TaskDataBucket, err)
	}
	msg.Header.Set(hdrObject, name)
	msg.Data = nil
	return name, nil
}

// unpack returns the original payload of a message built by pack.
func (b *Bus) unpack(ctx context.Context, st *state, h nats.Header, body []byte) ([]byte, error) {
	data := body
	if name := h.Get(hdrObject); name != "" {
		// Rides out a leader election, as a key-value read does: a
		// task whose payload cannot be fetched cannot run at all.
		err := b.ride(ctx, func(ctx context.Context) (err error) { data, err = st.data.GetBytes(ctx, name); return err })
		if errors.Is(err, jetstream.ErrObjectNotFound) {
			return nil, fmt.Errorf("bus: payload object %s: %w (the job was cleaned or the task already acknowledged)", name, ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("bus: fetch payload object %s: %w", name, err)
		}
	}
	switch enc := h.Get(hdrEncoding); enc {
	case "":
	case encZstd:
		var err error
		if data, err = zdec().DecodeAll(data, nil); err != nil {
			return nil, fmt.Errorf("bus: decompress payload: %w", err)
		}
	default:
		return nil, fmt.Errorf("bus: unknown payload encoding %q (mixed ossimport versions?)", enc)
	}
	if size := h.Get(hdrSize); size != "" && size != strconv.Itoa(len(data)) {
		return nil, fmt.Errorf("bus: payload is %d bytes, header says %s", len(data), size)
	}
	return data, nil
}

// dropObject deletes a payload object; a missing object is fine.
func (b *Bus) dropObject(st *state, name string) error {
	if name == "" {
		return nil
	}
	ctx, cancel := b.opContext()
	defer cancel()
	err := st.data.Delete(ctx, name)
	if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("bus: delete payload object %s: %w", name, err)
	}
	return nil
}

// compressValue is used for key-value entries, which carry no headers:
// a compressed value starts with kvMagic.
func compressValue(v []byte) []byte {
	return zenc().EncodeAll(v, append(make([]byte, 0, len(v)/2+len(kvMagic)), kvMagic...))
}

const kvMagic = "\x00ossimport-zstd\x00"
