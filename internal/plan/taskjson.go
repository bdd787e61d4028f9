package plan

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/ossimport/ossimport/internal/transfer"
)

// A task is written whole to the plan log and the task folder (json.Marshal
// of a Task): with encoding/json's reflection, and one json.Marshal per
// object through transfer.Object.MarshalJSON, that was the largest cost of
// planning after listing. MarshalJSON below writes the same bytes directly.

// MarshalJSON implements json.Marshaler with the bytes encoding/json
// writes for the struct's tags and transfer.Object's own encoding.
func (t Task) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 64+len(t.ID)+len(t.Job)+len(t.Objects)*64)
	b = append(b, `{"id":`...)
	b = appendString(b, t.ID)
	b = append(b, `,"job":`...)
	b = appendString(b, t.Job)
	b = append(b, `,"round":`...)
	b = strconv.AppendInt(b, int64(t.Round), 10)
	b = append(b, `,"objects":`...)
	if t.Objects == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, o := range t.Objects {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendObject(b, o); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, t.Bytes, 10)
	return append(b, '}'), nil
}

// appendObject appends o as transfer.Object.MarshalJSON writes it: keys
// that are not valid UTF-8 go as base64 bytes in "kb" and "db".
func appendObject(b []byte, o transfer.Object) ([]byte, error) {
	key, dst := o.Key, o.DstKey
	var keyBytes, dstBytes string
	if !utf8.ValidString(key) {
		keyBytes, key = key, ""
	}
	if !utf8.ValidString(dst) {
		dstBytes, dst = dst, ""
	}
	b = append(b, `{"k":`...)
	b = appendString(b, key)
	if dst != "" {
		b = append(b, `,"d":`...)
		b = appendString(b, dst)
	}
	b = append(b, `,"s":`...)
	b = strconv.AppendInt(b, o.Size, 10)
	if !o.ModTime.IsZero() {
		b = append(b, `,"m":`...)
		var err error
		if b, err = appendTime(b, o.ModTime); err != nil {
			return nil, err
		}
	}
	if o.ETag != "" {
		b = append(b, `,"e":`...)
		b = appendString(b, o.ETag)
	}
	if o.IsSymlink {
		b = append(b, `,"l":true`...)
	}
	if o.UploadID != "" {
		b = append(b, `,"u":`...)
		b = appendString(b, o.UploadID)
	}
	if o.PartSize != 0 {
		b = append(b, `,"p":`...)
		b = strconv.AppendInt(b, o.PartSize, 10)
	}
	if keyBytes != "" {
		b = append(b, `,"kb":"`...)
		b = base64.StdEncoding.AppendEncode(b, []byte(keyBytes))
		b = append(b, '"')
	}
	if dstBytes != "" {
		b = append(b, `,"db":"`...)
		b = base64.StdEncoding.AppendEncode(b, []byte(dstBytes))
		b = append(b, '"')
	}
	return append(b, '}'), nil
}

// appendTime appends t as time.Time.MarshalJSON does.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); y < 0 || y > 9999 {
		_, err := t.MarshalJSON() // the same error encoding/json reports
		return nil, err
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// appendString appends s as a JSON string the way encoding/json does
// (HTML characters escaped); strings needing more than plain copying go
// through encoding/json itself.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
