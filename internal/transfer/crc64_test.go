package transfer

import (
	"hash/crc64"
	"math/rand/v2"
	"testing"
)

func TestCRC64Combine(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	for _, cut := range []int{0, 1, 7, 100, 65536, 1<<20 - 1, 1 << 20} {
		a, b := data[:cut], data[cut:]
		got := crc64Combine(crc64.Checksum(a, crcTable), crc64.Checksum(b, crcTable), int64(len(b)))
		if want := crc64.Checksum(data, crcTable); got != want {
			t.Errorf("cut at %d: combined %x, want %x", cut, got, want)
		}
	}
}
