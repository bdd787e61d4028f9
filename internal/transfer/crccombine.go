package transfer

import (
	"hash/crc32"
	"hash/crc64"
)

// crc64Combine returns the CRC-64/ECMA of A followed by B from crcA,
// crcB and the length of B, without reading the data again.
func crc64Combine(crcA, crcB uint64, lenB int64) uint64 {
	return crcCombine(crc64.ECMA, 64, crcA, crcB, lenB)
}

// crc32cCombine is crc64Combine for CRC-32C (Castagnoli), the checksum
// S3 computes of each part: the whole object's CRC-32C from its parts'.
func crc32cCombine(crcA, crcB uint32, lenB int64) uint32 {
	return uint32(crcCombine(crc32.Castagnoli, 32, uint64(crcA), uint64(crcB), lenB))
}

// crcCombine combines two reflected CRCs of the given width (at most 64)
// and polynomial: the zero-padding operator is applied to crcA as a
// width×width matrix over GF(2), squared once per bit of lenB.
func crcCombine(poly uint64, width int, crcA, crcB uint64, lenB int64) uint64 {
	if lenB <= 0 {
		return crcA
	}
	var even, odd gf2Matrix
	odd.width = width
	odd.rows[0] = poly // the operator for one zero bit
	row := uint64(1)
	for n := 1; n < width; n++ {
		odd.rows[n] = row
		row <<= 1
	}
	even.square(&odd) // two zero bits
	odd.square(&even) // four zero bits
	for {
		even.square(&odd)
		if lenB&1 != 0 {
			crcA = even.times(crcA)
		}
		lenB >>= 1
		if lenB == 0 {
			break
		}
		odd.square(&even)
		if lenB&1 != 0 {
			crcA = odd.times(crcA)
		}
		lenB >>= 1
		if lenB == 0 {
			break
		}
	}
	return crcA ^ crcB
}

// gf2Matrix is a square matrix over GF(2) of width rows, each a column
// vector packed in the low bits of a uint64.
type gf2Matrix struct {
	rows  [64]uint64
	width int
}

func (m *gf2Matrix) times(vec uint64) uint64 {
	var sum uint64
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= m.rows[i]
		}
	}
	return sum
}

// square sets m to a×a.
func (m *gf2Matrix) square(a *gf2Matrix) {
	m.width = a.width
	for n := range a.width {
		m.rows[n] = a.times(a.rows[n])
	}
}
