package console

import (
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/report"
	"github.com/ossimport/ossimport/internal/transfer"
)

// TestS3ChecksNamedInEveryMode: with destChecksum at its default (auto),
// against an S3 service other than Amazon's that checks S3 checksums
// (versitygw), `run` and the service copy a tree the same way, one
// engine: each object up to 256 KiB is proven by the CRC-32C the service
// checked (copied.csv names the check and holds the value), the larger
// ones by their ETags, and the bucket holds every file byte for byte.
func TestS3ChecksNamedInEveryMode(t *testing.T) {
	for _, mode := range []string{"run", "service"} {
		t.Run(mode, func(t *testing.T) {
			h, d := newS3Home(t, "", "")
			files := h.writeFiles(h.src, 12, 5000, 0)
			h.addBig(files, "big/single.bin", 300<<10, 3) // one PUT, above 256 KiB
			h.addBig(files, "big/multi.bin", 3<<20, 4)    // multipart (threshold 2m)
			if mode == "run" {
				if r := h.run("", nil, ossimportBin, "run", h.job, "--sys", h.sys, "--progress", "0"); r.code != 0 {
					t.Fatalf("run: %s\n%s", r, h.logs())
				}
			} else {
				h.mustConsole("", "submit", h.job)
				h.mustConsole("Start import service completed.\n", "start")
				h.waitState(failJob, "Succeed", 2*time.Minute)
				h.mustConsole("Stop import service completed.\n", "stop")
			}
			d.verify(t, files)
			rows := jobReportRows(t, h.workdir(), failJob, report.Copied)
			if len(rows) != len(files) {
				t.Fatalf("copied.csv has %d rows, want %d", len(rows), len(files))
			}
			for _, row := range rows {
				key, check, crc := row[0], row[6], row[7]
				small := len(files[key]) <= 256<<10
				switch {
				case small && (check != transfer.CheckCRC32C || crc == ""):
					t.Errorf("%s (%d bytes): check %q, crc32c %q; want crc32c, with its value", key, len(files[key]), check, crc)
				case !small && check != transfer.CheckETag:
					t.Errorf("%s (%d bytes): check %q, want etag", key, len(files[key]), check)
				}
			}
		})
	}
}
