package storage

import "io"

// CheckedBody is a request body (of Writer.Put or
// MultipartWriter.UploadPart) whose writer hashes the bytes as it sends
// them and compares its checksums with those the store reports
// (PutResult, Part). A store may then skip hashing the body itself (the
// OSS SDK's upload CRC-64), so that each byte is hashed once, and may
// send it as an unsigned payload where the protocol allows it. The body
// cannot be rewound: the store must not retry a request it partly sent.
type CheckedBody interface {
	io.Reader
	// CheckedByCaller marks the body; it does nothing.
	CheckedByCaller()
}

// CRC32CBody is a CheckedBody that hashes its bytes with CRC-32C as they
// are read. A store that sends the body's CRC-32C with the write
// (Capabilities.CRC32C) takes it from the body once the last byte was
// read, instead of hashing every byte a second time.
type CRC32CBody interface {
	CheckedBody
	// SumCRC32C returns the CRC-32C of the bytes read so far, and false
	// when the body does not compute one.
	SumCRC32C() (uint32, bool)
}

// KnownCRC32CBody is a CheckedBody read whole before it is sent, so its
// CRC-32C is known before the first byte goes: a store whose
// Capabilities.KnownCRC32C is not No sends it with the write for the
// service to check (S3's x-amz-checksum-crc32c header), where a
// streamed body would need a trailer.
type KnownCRC32CBody interface {
	CheckedBody
	// KnownCRC32C returns the CRC-32C of the whole body.
	KnownCRC32C() uint32
}
