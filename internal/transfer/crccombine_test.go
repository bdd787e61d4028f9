package transfer

import (
	"hash/crc32"
	"hash/crc64"
	"math/rand/v2"
	"testing"
)

func TestCRCCombine(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	castagnoli := crc32.MakeTable(crc32.Castagnoli)
	for _, cut := range []int{0, 1, 7, 100, 65536, 1<<20 - 1, 1 << 20} {
		a, b := data[:cut], data[cut:]
		got := crc64Combine(crc64.Checksum(a, crcTable), crc64.Checksum(b, crcTable), int64(len(b)))
		if want := crc64.Checksum(data, crcTable); got != want {
			t.Errorf("CRC-64, cut at %d: combined %x, want %x", cut, got, want)
		}
		got32 := crc32cCombine(crc32.Checksum(a, castagnoli), crc32.Checksum(b, castagnoli), int64(len(b)))
		if want := crc32.Checksum(data, castagnoli); got32 != want {
			t.Errorf("CRC-32C, cut at %d: combined %x, want %x", cut, got32, want)
		}
	}
}
