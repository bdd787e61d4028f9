package transfer

import "github.com/ossimport/ossimport/internal/storage"

// checkedBody is a streamed source read sent as a request body: the
// copier hashes it as it goes and compares the store's answer, so the
// store need not hash it again (storage.CheckedBody).
type checkedBody struct{ sr *sourceReader }

var _ storage.CheckedBody = checkedBody{}

func (b checkedBody) Read(p []byte) (int, error) { return b.sr.Read(p) }

// CheckedByCaller marks the body as checked by the copier.
func (checkedBody) CheckedByCaller() {}
