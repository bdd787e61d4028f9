package transfer

import "github.com/ossimport/ossimport/internal/storage"

// checkedBody is a streamed source read sent as a request body: the
// copier hashes it as it goes and compares the store's answer, so the
// store need not hash it again (storage.CheckedBody).
type checkedBody struct{ sr *sourceReader }

var _ storage.CRC32CBody = checkedBody{}

func (b checkedBody) Read(p []byte) (int, error) { return b.sr.Read(p) }

// CheckedByCaller marks the body as checked by the copier.
func (checkedBody) CheckedByCaller() {}

// SumCRC32C returns the CRC-32C of the bytes read so far, when the
// copier computes one (a destination that checks CRC-32Cs).
func (b checkedBody) SumCRC32C() (uint32, bool) {
	if b.sr.crc32c == nil {
		return 0, false
	}
	return b.sr.crc32c.Sum32(), true
}
