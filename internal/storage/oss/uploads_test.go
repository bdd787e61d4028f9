package oss_test

import (
	"slices"
	"testing"

	"github.com/ossimport/ossimport/internal/storage"
	"github.com/ossimport/ossimport/internal/storage/oss/osstest"
)

// ListUploads lists the unfinished uploads under a prefix with their
// start times; an aborted upload is no longer listed.
func TestListUploads(t *testing.T) {
	srv := osstest.New(t, osstest.Options{})
	st := openFresh(t, srv)
	ctx := t.Context()
	var lister storage.UploadLister = st
	var ids []string
	for _, k := range []string{"a/1", "a/2", "b/1"} {
		id, err := st.CreateMultipart(ctx, k, storage.Metadata{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := st.AbortMultipart(ctx, "a/2", ids[1]); err != nil {
		t.Fatal(err)
	}
	ups, err := lister.ListUploads(ctx, "a/")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range ups {
		if u.Initiated.IsZero() {
			t.Errorf("upload %s has no start time", u.UploadID)
		}
		got = append(got, u.Key+" "+u.UploadID)
	}
	if want := []string{"a/1 " + ids[0]}; !slices.Equal(got, want) {
		t.Fatalf("uploads under a/: %v, want %v", got, want)
	}
}
