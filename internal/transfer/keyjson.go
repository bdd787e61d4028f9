package transfer

import (
	"encoding/json"
	"unicode/utf8"
)

// JSON cannot carry file names that are not valid UTF-8 (local files in
// another encoding): encoding/json would replace their bytes with U+FFFD
// and the worker would look for a file that does not exist. Such keys
// travel as raw bytes (base64) in "kb" and "db" instead.

type objectFields Object // Object without its methods

type objectWire struct {
	objectFields
	KeyBytes []byte `json:"kb,omitempty"`
	DstBytes []byte `json:"db,omitempty"`
}

// MarshalJSON implements json.Marshaler.
func (o Object) MarshalJSON() ([]byte, error) {
	w := objectWire{objectFields: objectFields(o)}
	if !utf8.ValidString(o.Key) {
		w.KeyBytes, w.Key = []byte(o.Key), ""
	}
	if !utf8.ValidString(o.DstKey) {
		w.DstBytes, w.DstKey = []byte(o.DstKey), ""
	}
	return json.Marshal(w)
}

// UnmarshalJSON implements json.Unmarshaler.
func (o *Object) UnmarshalJSON(data []byte) error {
	var w objectWire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*o = Object(w.objectFields)
	if w.KeyBytes != nil {
		o.Key = string(w.KeyBytes)
	}
	if w.DstBytes != nil {
		o.DstKey = string(w.DstBytes)
	}
	return nil
}
