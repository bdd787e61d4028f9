package transfer

import (
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/local"
	"github.com/ossimport/ossimport/internal/storage/memory"
)

// plainDest is a memory store that, like a file system, keeps no
// directory-marker objects.
type plainDest struct{ *memory.Store }

func (p plainDest) Capabilities() storage.Capabilities {
	c := p.Store.Capabilities()
	c.DirMarkers = false
	return c
}

func TestDirectoryMarkers(t *testing.T) {
	mtime := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name   string
		dst    func(t *testing.T) storage.Destination
		policy DirMarkerPolicy
		key    string
		data   string
		size   int64 // planned size; -1 unknown
		want   Code
		detail string
	}{
		{"marker between object stores", func(*testing.T) storage.Destination { return memory.New("d") }, DirMarkersAuto, "m/", "", 0, Succeed, ""},
		{"marker of unknown size", func(*testing.T) storage.Destination { return memory.New("d") }, DirMarkersAuto, "m/", "", -1, Succeed, ""},
		{"marker skipped by policy", func(*testing.T) storage.Destination { return memory.New("d") }, DirMarkersSkip, "m/", "", 0, Skipped, "the job skips directory markers"},
		{"marker to a store without markers", func(*testing.T) storage.Destination { return plainDest{memory.New("d")} }, DirMarkersAuto, "m/", "", 0, Skipped, "keeps no directory-marker objects"},
		{"marker to a local directory", func(t *testing.T) storage.Destination {
			st, err := local.New(t.TempDir(), local.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return st
		}, DirMarkersAuto, "m/", "", 0, Skipped, "directory marker"},
		{"slash key with data", func(*testing.T) storage.Destination { return plainDest{memory.New("d")} }, DirMarkersSkip, "x/", "twenty-one bytes here", 21, Succeed, ""},
		{"slash key with data to a local directory", func(t *testing.T) storage.Destination {
			st, err := local.New(t.TempDir(), local.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return st
		}, DirMarkersAuto, "x/", "twenty-one bytes here", 21, UploadFailed, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := memory.New("s")
			obj := seed(t, src, tc.key, []byte(tc.data), mtime)
			obj.Size = tc.size
			opts := testOptions()
			opts.DirMarkers = tc.policy
			opts.Attempts = 1
			dst := tc.dst(t)
			res := newCopier(t, dst, src, opts).Copy(t.Context(), obj)
			if res.Code != tc.want || !strings.Contains(res.Detail, tc.detail) {
				t.Fatalf("copy %q = %s %q, want %s with %q", tc.key, res.Code, res.Detail, tc.want, tc.detail)
			}
			if res.Code == Succeed {
				if got := readAll(t, dst, tc.key); string(got) != tc.data {
					t.Errorf("destination holds %q, want %q", got, tc.data)
				}
			}
		})
	}
}

func TestDirMarkerPolicyValidated(t *testing.T) {
	opts := testOptions()
	opts.DirMarkers = "sometimes"
	if err := opts.Validate(); err == nil {
		t.Fatal("an unknown DirMarkers policy was accepted")
	}
}

// TestSkippedMarkersAreNotChanged: an incremental rescan does not plan
// again a marker the job does not copy, and plans a copied marker only
// when the destination lacks it.
func TestSkippedMarkersAreNotChanged(t *testing.T) {
	src := memory.New("s")
	seed(t, src, "m/", nil, time.Unix(5, 0))
	info, err := src.Stat(t.Context(), "m/")
	if err != nil {
		t.Fatal(err)
	}
	if newCopier(t, plainDest{memory.New("d")}, src, testOptions()).Changed(t.Context(), info, "m/") {
		t.Error("a marker the job skips is seen as changed")
	}
	dst := memory.New("d")
	c := newCopier(t, dst, src, testOptions())
	if !c.Changed(t.Context(), info, "m/") {
		t.Error("a marker missing at the destination is not seen as changed")
	}
	if res := c.Copy(t.Context(), Object{Key: "m/", Size: 0, ModTime: info.ModTime}); res.Code != Succeed {
		t.Fatal(res.Detail)
	}
	if c.Changed(t.Context(), info, "m/") {
		t.Error("a copied marker is seen as changed")
	}
}

// TestAuditOfSkippedMarker: jobType=audit reports a marker the job does
// not copy as Skipped, not as missing at the destination.
func TestAuditOfSkippedMarker(t *testing.T) {
	src := memory.New("s")
	obj := seed(t, src, "m/", nil, time.Unix(5, 0))
	res := newCopier(t, plainDest{memory.New("d")}, src, testOptions()).Audit(t.Context(), obj, AuditGeneral)
	if res.Code != Skipped || !strings.Contains(res.Detail, "directory marker") {
		t.Fatalf("audit of a skipped marker = %s %q, want Skipped", res.Code, res.Detail)
	}
}
