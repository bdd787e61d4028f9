package s3

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"

	"github.com/ossimport/ossimport/internal/storage"
)

// A streamed body (one that cannot be rewound) written with
// Config.TrailingCRC32C goes in aws-chunked encoding with its CRC-32C in
// a trailer, as S3's flexible checksums define for a payload whose
// checksum is only known at its end:
//
//	X-Amz-Content-Sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER
//	Content-Encoding: aws-chunked
//	X-Amz-Decoded-Content-Length: <size>
//	X-Amz-Trailer: x-amz-checksum-crc32c
//
//	10000\r\n<65536 bytes>\r\n ... <hex size>\r\n<last bytes>\r\n
//	0\r\n
//	x-amz-checksum-crc32c:<base64 of the big-endian CRC-32C>\r\n
//	\r\n
//
// The SDK only sends trailers over HTTPS and refuses a stream it cannot
// rewind over plain HTTP, so the store frames the body itself.
//
// The direct path (fastput.go) sends it once it knows the object
// endpoint; until then (the store's first object request), and wherever
// it cannot (endpoints that differ between requests, no credentials to
// sign with, an auth scheme other than SigV4), the SDK sends the same
// framed body, told its headers and payload hash (sdkTrailerOptions). Learning the endpoint
// up front instead would mean re-deriving the SDK's endpoint parameters
// (FIPS, dual-stack, accelerate, access points...) or a throw-away
// request; the SDK path resolves and signs exactly as for any other
// request, so every write carries the checksum, and it teaches the direct
// path the endpoint for the next.
//
// A response without x-amz-checksum-crc32c (a service that ignored the
// trailer) leaves Checksums.HasCRC32C false: the caller then proves the
// write another way (it reads the object back).

const (
	// streamingTrailerHash is X-Amz-Content-Sha256 for an unsigned
	// aws-chunked body with trailers.
	streamingTrailerHash = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	// crc32cHeader names the checksum in the trailer and the response.
	crc32cHeader = "x-amz-checksum-crc32c"
	// trailerChunkSize is the data in each chunk but the last. S3 wants
	// at least 8 KiB per chunk; 64 KiB (the SDK's size) keeps the framing
	// below 0.02% of the body.
	trailerChunkSize = 64 << 10
)

// castagnoli is the CRC-32C table; crc32.Update uses the CPU's CRC32
// instruction for it.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// chunkedBody frames the bytes of r (left of them) as an aws-chunked body
// whose trailer is their CRC-32C, hashing them as they pass.
type chunkedBody struct {
	r         io.Reader
	left      int64  // data bytes not yet read from r
	inChunk   int64  // data bytes of the current chunk not yet read
	afterData bool   // a chunk's data was read: its CRLF is due
	done      bool   // the trailer is framed
	frame     []byte // framing bytes not yet returned
	buf       [64]byte
	crc       uint32
	// sum, when set, is the CRC-32C of the data read, computed by the
	// caller's body (storage.CRC32CBody): crc is then not computed.
	sum func() uint32
	// flip is xored into the CRC-32C sent (tests make the service refuse
	// it); zero in use.
	flip uint32
}

// newChunkedBody frames size bytes of r; body is the caller's body r
// reads from, whose CRC-32C is taken when it computes one.
func newChunkedBody(r, body io.Reader, size int64, flip uint32) *chunkedBody {
	b := &chunkedBody{r: r, left: size, flip: flip}
	if cb, ok := body.(storage.CRC32CBody); ok {
		if _, ok := cb.SumCRC32C(); ok {
			b.sum = func() uint32 { sum, _ := cb.SumCRC32C(); return sum }
		}
	}
	return b
}

// encodedLength is the length of the aws-chunked body of size data
// bytes, the request's Content-Length.
func encodedLength(size int64) int64 {
	chunk := func(n int64) int64 {
		return int64(len(strconv.FormatInt(n, 16))) + 2 + n + 2
	}
	n := size / trailerChunkSize * chunk(trailerChunkSize)
	if rest := size % trailerChunkSize; rest > 0 {
		n += chunk(rest)
	}
	// "0\r\n", the trailer line with 8 base64 characters, the final CRLF
	return n + 3 + int64(len(crc32cHeader)+1+8+2) + 2
}

func (b *chunkedBody) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		switch {
		case len(b.frame) > 0:
			c := copy(p[n:], b.frame)
			b.frame, n = b.frame[c:], n+c
		case b.inChunk > 0:
			c, err := b.readData(p[n:])
			n += c
			if err != nil || c == 0 {
				return n, err
			}
			return n, nil // the source may block; hand over what there is
		case b.done:
			if n == 0 {
				return 0, io.EOF
			}
			return n, nil
		default:
			b.nextFrame()
		}
	}
	return n, nil
}

// readData reads data of the current chunk into p.
func (b *chunkedBody) readData(p []byte) (int, error) {
	if int64(len(p)) > b.inChunk {
		p = p[:b.inChunk]
	}
	n, err := b.r.Read(p)
	if b.sum == nil {
		b.crc = crc32.Update(b.crc, castagnoli, p[:n])
	}
	b.inChunk -= int64(n)
	b.left -= int64(n)
	b.afterData = true
	if errors.Is(err, io.EOF) {
		if b.left == 0 {
			return n, nil
		}
		err = fmt.Errorf("body ended %d bytes short: %w", b.left, io.ErrUnexpectedEOF)
	}
	return n, err
}

// nextFrame frames the end of the chunk read, then the next chunk's size
// or, after the data, the last chunk and the trailer.
func (b *chunkedBody) nextFrame() {
	f := b.buf[:0]
	if b.afterData {
		f = append(f, '\r', '\n')
		b.afterData = false
	}
	if b.left > 0 {
		b.inChunk = min(b.left, trailerChunkSize)
		f = strconv.AppendInt(f, b.inChunk, 16)
		f = append(f, '\r', '\n')
		b.frame = f
		return
	}
	if b.sum != nil {
		b.crc = b.sum()
	}
	f = append(f, "0\r\n"+crc32cHeader+":"...)
	f = append(f, encodeCRC32C(b.crc^b.flip)...)
	f = append(f, "\r\n\r\n"...)
	b.frame, b.done = f, true
}

// encodeCRC32C is the base64 text of S3's checksum headers.
func encodeCRC32C(crc uint32) string {
	var raw [4]byte
	binary.BigEndian.PutUint32(raw[:], crc)
	return base64.StdEncoding.EncodeToString(raw[:])
}

// parseCRC32C reads an x-amz-checksum-crc32c value. An empty one is an
// unknown checksum, not an error: the service did not say.
func parseCRC32C(v string) (storage.Checksums, error) {
	if v == "" {
		return storage.Checksums{}, nil
	}
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(raw) != 4 {
		if len(v) > 64 {
			v = v[:64] + "..."
		}
		return storage.Checksums{}, fmt.Errorf("the service returned a malformed %s %q (set destChecksum=md5 if it does not support S3 checksums)", crc32cHeader, v)
	}
	return storage.Checksums{CRC32C: binary.BigEndian.Uint32(raw), HasCRC32C: true}, nil
}

// setTrailerHeaders sets the headers of an aws-chunked body of size data
// bytes; contentEncoding is the object's own, kept after aws-chunked.
func setTrailerHeaders(h http.Header, size int64, contentEncoding string) {
	h.Set("Content-Encoding", trailerContentEncoding(contentEncoding))
	h.Set("X-Amz-Decoded-Content-Length", strconv.FormatInt(size, 10))
	h.Set("X-Amz-Trailer", crc32cHeader)
}

// trailerContentEncoding is Content-Encoding for an aws-chunked body: S3
// removes aws-chunked and stores the rest.
func trailerContentEncoding(contentEncoding string) string {
	if contentEncoding == "" {
		return "aws-chunked"
	}
	return "aws-chunked," + contentEncoding
}

// sdkTrailerHash makes the SDK sign an aws-chunked body: it sets the
// payload hash the signer signs and puts in X-Amz-Content-Sha256 (the
// SDK's own payload middlewares keep a hash already set).
func sdkTrailerHash(o *awss3.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("OssimportStreamingTrailer",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				return next.HandleInitialize(v4.SetPayloadHash(ctx, streamingTrailerHash), in)
			}), middleware.After)
	})
}

// sdkTrailerOptions are the SDK options of an aws-chunked request: those
// of a streamed body (unsigned, no retries), the trailer headers but
// Content-Encoding, and the payload hash.
func sdkTrailerOptions(optFns []func(*awss3.Options), size int64) []func(*awss3.Options) {
	return append(optFns,
		withHeader("X-Amz-Decoded-Content-Length", strconv.FormatInt(size, 10)),
		withHeader("X-Amz-Trailer", crc32cHeader),
		sdkTrailerHash)
}
