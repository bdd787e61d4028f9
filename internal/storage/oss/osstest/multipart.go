package osstest

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"hash/crc64"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// upload is a multipart upload in progress.
type upload struct {
	id        string
	key       string
	header    http.Header
	class     string
	initiated time.Time
	parts     map[int]*part
}

type part struct {
	blob
	etag     string
	modified time.Time
}

type initiateResult struct {
	XMLName      xml.Name `xml:"InitiateMultipartUploadResult"`
	Bucket       string
	Key          string
	UploadId     string
	EncodingType string `xml:",omitempty"`
}

// initiateMultipart starts an upload (InitiateMultipartUpload). The
// object's headers and storage class are fixed here.
func (s *Server) initiateMultipart(rq *request) *ossError {
	b, err := s.bucketFor(rq)
	if err != nil {
		return err
	}
	if err := checkKey(rq.key); err != nil {
		return err
	}
	header, class, err := objectHeaders(rq.r.Header, b.class)
	if err != nil {
		return err
	}
	u := &upload{id: strings.ToUpper(newRequestID() + newRequestID()[:8]), key: rq.key, header: header, class: class,
		initiated: time.Now(), parts: map[int]*part{}}
	s.mu.Lock()
	b.uploads[u.id] = u
	s.mu.Unlock()
	res := initiateResult{Bucket: rq.bucket, Key: rq.key, UploadId: u.id}
	if rq.r.URL.Query().Get("encoding-type") == "url" {
		res.Key, res.EncodingType = urlEncode(rq.key), "url"
	}
	copySSE(rq.w.Header(), header)
	return s.writeXML(rq, res)
}

// lookupUpload finds the upload named by the uploadId parameter.
func (s *Server) lookupUpload(rq *request) (*upload, *ossError) {
	id := rq.r.URL.Query().Get("uploadId")
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.lookupBucket(rq.bucket)
	if err != nil {
		return nil, err
	}
	u, ok := b.uploads[id]
	if !ok || u.key != rq.key {
		return nil, errNoSuchUpload(id)
	}
	return u, nil
}

func partNumber(rq *request) (int, *ossError) {
	v := rq.r.URL.Query().Get("partNumber")
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPartNumber {
		return 0, errInvalidArgument("partNumber", v, "Part number must be an integer between 1 and 10000, inclusive.")
	}
	return n, nil
}

// uploadPart stores one part (UploadPart).
func (s *Server) uploadPart(rq *request) *ossError {
	u, err := s.lookupUpload(rq)
	if err != nil {
		return err
	}
	n, err := partNumber(rq)
	if err != nil {
		return err
	}
	if rq.r.ContentLength > maxPutSize {
		return errorf(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
	}
	data, err := s.spool(rq.r.Body, rq.r.ContentLength, rq.fx.corrupt)
	if err != nil {
		return err
	}
	if err := checkContentMD5(rq.r.Header, data.md5); err != nil {
		_ = os.Remove(data.path)
		return err
	}
	p := &part{blob: data, etag: md5ETag(data.md5), modified: time.Now()}
	if err := s.storePart(rq, u, n, p); err != nil {
		return err
	}
	h := rq.w.Header()
	h.Set("ETag", p.etag)
	h.Set("Content-Md5", base64MD5(data.md5))
	h.Set("X-Oss-Hash-Crc64ecma", crcHeader(data.crc, rq.fx.wrongCRC))
	return okEmpty(rq)
}

// storePart records p as part n of u, replacing an earlier upload of it.
func (s *Server) storePart(rq *request, u *upload, n int, p *part) *ossError {
	s.mu.Lock()
	b, err := s.lookupBucket(rq.bucket)
	if err == nil && b.uploads[u.id] != u {
		err = errNoSuchUpload(u.id)
	}
	var old *part
	if err == nil {
		old = u.parts[n]
		u.parts[n] = p
	}
	s.mu.Unlock()
	if err != nil {
		_ = os.Remove(p.path)
		return err
	}
	if old != nil {
		_ = os.Remove(old.path)
	}
	return nil
}

type copyPartResult struct {
	XMLName      xml.Name `xml:"CopyPartResult"`
	LastModified string
	ETag         string
}

// uploadPartCopy makes a part from a range of an existing object
// (UploadPartCopy, x-oss-copy-source-range: bytes=first-last).
func (s *Server) uploadPartCopy(rq *request) *ossError {
	u, err := s.lookupUpload(rq)
	if err != nil {
		return err
	}
	n, err := partNumber(rq)
	if err != nil {
		return err
	}
	src, err := s.copySource(rq)
	if err != nil {
		return err
	}
	start, end := int64(0), src.size-1
	if v := rq.r.Header.Get("X-Oss-Copy-Source-Range"); v != "" {
		var partial bool
		start, end, partial, err = parseRange(v, src.size, true)
		if err != nil || !partial {
			return errInvalidArgument("x-oss-copy-source-range", v, "The x-oss-copy-source-range is not valid.")
		}
	}
	f, ferr := os.Open(src.path)
	if ferr != nil {
		return errorf(http.StatusInternalServerError, "InternalError", "%v", ferr)
	}
	defer f.Close()
	data, err := s.spool(io.NewSectionReader(f, start, end-start+1), end-start+1, false)
	if err != nil {
		return err
	}
	p := &part{blob: data, etag: md5ETag(data.md5), modified: time.Now()}
	if err := s.storePart(rq, u, n, p); err != nil {
		return err
	}
	rq.w.Header().Set("X-Oss-Hash-Crc64ecma", crcHeader(data.crc, rq.fx.wrongCRC))
	return s.writeXML(rq, copyPartResult{LastModified: xmlTime(p.modified), ETag: p.etag})
}

type listPartsResult struct {
	XMLName              xml.Name `xml:"ListPartsResult"`
	Bucket               string
	Key                  string
	UploadId             string
	EncodingType         string `xml:",omitempty"`
	PartNumberMarker     int
	NextPartNumberMarker int
	MaxParts             int
	IsTruncated          bool
	StorageClass         string
	Part                 []listedPart
}

type listedPart struct {
	PartNumber    int
	LastModified  string
	ETag          string
	HashCrc64ecma uint64
	Size          int64
}

// listParts lists the parts of an upload in number order (ListParts),
// max-parts (default and at most 1000) at a time after
// part-number-marker.
func (s *Server) listParts(rq *request) *ossError {
	u, err := s.lookupUpload(rq)
	if err != nil {
		return err
	}
	q := rq.r.URL.Query()
	maxParts, marker := 1000, 0
	if v := q.Get("max-parts"); v != "" {
		if maxParts, _ = strconv.Atoi(v); maxParts < 1 || maxParts > 1000 {
			return errInvalidArgument("max-parts", v, "Argument max-parts must be an integer between 1 and 1000.")
		}
	}
	if v := q.Get("part-number-marker"); v != "" {
		if m, perr := strconv.Atoi(v); perr == nil && m >= 0 {
			marker = m
		}
	}
	res := listPartsResult{Bucket: rq.bucket, Key: rq.key, UploadId: u.id, PartNumberMarker: marker, MaxParts: maxParts, StorageClass: u.class}
	if q.Get("encoding-type") == "url" {
		res.Key, res.EncodingType = urlEncode(rq.key), "url"
	}
	s.mu.Lock()
	numbers := slices.Sorted(maps.Keys(u.parts))
	parts := maps.Clone(u.parts)
	s.mu.Unlock()
	for _, n := range numbers {
		if n <= marker {
			continue
		}
		if len(res.Part) == maxParts {
			res.IsTruncated = true
			break
		}
		p := parts[n]
		res.Part = append(res.Part, listedPart{PartNumber: n, LastModified: xmlTime(p.modified), ETag: p.etag, HashCrc64ecma: p.crc, Size: p.size})
		res.NextPartNumberMarker = n
	}
	return s.writeXML(rq, res)
}

type completeRequest struct {
	Part []completePart
}

type completePart struct {
	PartNumber int
	ETag       string
}

type completeResult struct {
	XMLName      xml.Name `xml:"CompleteMultipartUploadResult"`
	EncodingType string   `xml:",omitempty"`
	Location     string
	Bucket       string
	Key          string
	ETag         string
}

// completeMultipart assembles the listed parts into the object
// (CompleteMultipartUpload). Parts must be listed in ascending order with
// the ETags they were given, and all but the last must be at least
// 100 KiB. x-oss-complete-all: yes uses every uploaded part instead.
func (s *Server) completeMultipart(rq *request) *ossError {
	u, err := s.lookupUpload(rq)
	if err != nil {
		return err
	}
	parts, err := s.chooseParts(rq, u)
	if err != nil {
		return err
	}
	o, err := s.assemble(parts)
	if err != nil {
		return err
	}
	o.class, o.header = u.class, u.header
	if err := s.finishUpload(rq, u, o); err != nil {
		return err
	}
	rq.w.Header().Set("X-Oss-Hash-Crc64ecma", crcHeader(o.crc, rq.fx.wrongCRC))
	copySSE(rq.w.Header(), o.header)
	res := completeResult{Location: s.URL + "/" + rq.bucket + "/" + rq.key, Bucket: rq.bucket, Key: rq.key, ETag: o.etag}
	if rq.r.URL.Query().Get("encoding-type") == "url" {
		res.Key, res.EncodingType = urlEncode(rq.key), "url"
	}
	return s.writeXML(rq, res)
}

// chooseParts returns the parts a complete request names, checked.
func (s *Server) chooseParts(rq *request, u *upload) ([]*part, *ossError) {
	s.mu.Lock()
	uploaded := maps.Clone(u.parts)
	s.mu.Unlock()
	var req completeRequest
	if strings.EqualFold(rq.r.Header.Get("X-Oss-Complete-All"), "yes") {
		for _, n := range slices.Sorted(maps.Keys(uploaded)) {
			req.Part = append(req.Part, completePart{n, uploaded[n].etag})
		}
	} else if err := readCompleteBody(rq, &req); err != nil {
		return nil, err
	}
	if len(req.Part) == 0 {
		return nil, errorf(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
	}
	for i := 1; i < len(req.Part); i++ {
		if req.Part[i].PartNumber <= req.Part[i-1].PartNumber {
			return nil, errorf(http.StatusBadRequest, "InvalidPartOrder",
				"The list of parts was not in ascending order. Parts list must specified in order by part number.")
		}
	}
	parts := make([]*part, len(req.Part))
	for i, rp := range req.Part {
		p, ok := uploaded[rp.PartNumber]
		if !ok || !strings.EqualFold(strings.Trim(rp.ETag, `"`), strings.Trim(p.etag, `"`)) {
			return nil, errorf(http.StatusBadRequest, "InvalidPart",
				"One or more of the specified parts could not be found or the specified entity tag might not have matched the part's entity tag.").
				with("PartNumber", strconv.Itoa(rp.PartNumber)).with("ETag", rp.ETag)
		}
		parts[i] = p
	}
	for i, p := range parts[:len(parts)-1] {
		if p.size < minPartSize {
			return nil, errorf(http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size.").
				with("PartNumber", strconv.Itoa(req.Part[i].PartNumber))
		}
	}
	return parts, nil
}

func readCompleteBody(rq *request, req *completeRequest) *ossError {
	body, err := io.ReadAll(io.LimitReader(rq.r.Body, 4<<20))
	if err != nil {
		return errorf(http.StatusBadRequest, "IncompleteBody", "%v", err)
	}
	if err := checkContentMD5(rq.r.Header, md5Sum(body)); err != nil {
		return err
	}
	if err := xml.Unmarshal(body, req); err != nil {
		return errorf(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
	}
	return nil
}

func md5Sum(b []byte) []byte {
	sum := md5.Sum(b)
	return sum[:]
}

// assemble concatenates parts into a new object. Its ETag is the MD5 of
// the parts' binary MD5s followed by the part count.
func (s *Server) assemble(parts []*part) (*object, *ossError) {
	f, err := s.newFile("data")
	if err != nil {
		return nil, errorf(http.StatusInternalServerError, "InternalError", "%v", err)
	}
	defer f.Close()
	crc, etagSum := crc64.New(crcTable), md5.New()
	var size int64
	for _, p := range parts {
		n, err := appendFile(io.MultiWriter(f, crc), p.path)
		if err != nil {
			_ = os.Remove(f.Name())
			return nil, errorf(http.StatusInternalServerError, "InternalError", "%v", err)
		}
		size += n
		etagSum.Write(p.md5)
	}
	if err := f.Close(); err != nil {
		return nil, errorf(http.StatusInternalServerError, "InternalError", "%v", err)
	}
	etag := fmt.Sprintf(`"%s-%d"`, strings.ToUpper(hex.EncodeToString(etagSum.Sum(nil))), len(parts))
	return &object{blob: blob{path: f.Name(), size: size, crc: crc.Sum64()}, etag: etag, typ: "Multipart", modified: time.Now()}, nil
}

func appendFile(w io.Writer, path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return io.Copy(w, f)
}

// finishUpload stores o and forgets the upload and its parts.
func (s *Server) finishUpload(rq *request, u *upload, o *object) *ossError {
	s.mu.Lock()
	b, err := s.lookupBucket(rq.bucket)
	if err == nil && b.uploads[u.id] != u {
		err = errNoSuchUpload(u.id)
	}
	if err == nil {
		delete(b.uploads, u.id)
	}
	s.mu.Unlock()
	if err != nil {
		_ = os.Remove(o.path)
		return err
	}
	removeParts(u)
	return s.commit(rq.bucket, rq.key, o)
}

func removeParts(u *upload) {
	for _, p := range u.parts {
		_ = os.Remove(p.path)
	}
}

// abortMultipart discards an upload and its parts (AbortMultipartUpload).
func (s *Server) abortMultipart(rq *request) *ossError {
	u, err := s.lookupUpload(rq)
	if err != nil {
		return err
	}
	s.mu.Lock()
	if b, ok := s.buckets[rq.bucket]; ok {
		delete(b.uploads, u.id)
	}
	s.mu.Unlock()
	removeParts(u)
	return noContent(rq)
}

type listUploadsResult struct {
	XMLName            xml.Name `xml:"ListMultipartUploadsResult"`
	EncodingType       string   `xml:",omitempty"`
	Bucket             string
	KeyMarker          string
	UploadIdMarker     string
	NextKeyMarker      string
	NextUploadIdMarker string
	Prefix             string
	MaxUploads         int
	IsTruncated        bool
	Upload             []listedUpload
}

type listedUpload struct {
	Key       string
	UploadId  string
	Initiated string
}

// listUploads lists the uploads in progress in key and upload id order
// (ListMultipartUploads), after key-marker and upload-id-marker. The
// delimiter parameter is not supported.
func (s *Server) listUploads(rq *request) *ossError {
	q := rq.r.URL.Query()
	if q.Get("delimiter") != "" {
		return errorf(http.StatusNotImplemented, "NotImplemented", "osstest does not group uploads by delimiter")
	}
	res := listUploadsResult{Bucket: rq.bucket, KeyMarker: q.Get("key-marker"), UploadIdMarker: q.Get("upload-id-marker"),
		Prefix: q.Get("prefix"), MaxUploads: 1000}
	if v := q.Get("max-uploads"); v != "" {
		if res.MaxUploads, _ = strconv.Atoi(v); res.MaxUploads < 1 || res.MaxUploads > 1000 {
			return errInvalidArgument("max-uploads", v, "Argument max-uploads must be an integer between 1 and 1000.")
		}
	}
	s.mu.Lock()
	b, err := s.lookupBucket(rq.bucket)
	var uploads []*upload
	if err == nil {
		uploads = slices.Collect(maps.Values(b.uploads))
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	slices.SortFunc(uploads, func(a, b *upload) int { return strings.Compare(a.key+"\x00"+a.id, b.key+"\x00"+b.id) })
	encode := func(v string) string { return v }
	if q.Get("encoding-type") == "url" {
		encode, res.EncodingType = urlEncode, "url"
	}
	for _, u := range uploads {
		if !strings.HasPrefix(u.key, res.Prefix) || u.key < res.KeyMarker ||
			(u.key == res.KeyMarker && (res.UploadIdMarker == "" || u.id <= res.UploadIdMarker)) {
			continue
		}
		if len(res.Upload) == res.MaxUploads {
			res.IsTruncated = true
			break
		}
		res.Upload = append(res.Upload, listedUpload{Key: encode(u.key), UploadId: u.id, Initiated: xmlTime(u.initiated)})
		res.NextKeyMarker, res.NextUploadIdMarker = encode(u.key), u.id
	}
	res.KeyMarker, res.Prefix = encode(res.KeyMarker), encode(res.Prefix)
	return s.writeXML(rq, res)
}
