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
