package job

import (
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/storage"
	httpstore "github.com/ossimport/ossimport/internal/storage/httplist"
	"github.com/ossimport/ossimport/internal/transfer"
)

func parse(t *testing.T, job, sys string) *Spec {
	t.Helper()
	j, diags := config.ParseJob("job.cfg", []byte(job))
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	s, diags := config.ParseSys("sys.properties", []byte(sys))
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	spec, err := New(j, s)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func TestLocalToS3(t *testing.T) {
	spec := parse(t, `jobName=demo_job
srcType=local
srcPrefix=/data/src/
destType=s3
destDomain=http://127.0.0.1:7070
destBucket=bucket
destAccessKey=ak
destSecretKey=sk
destPrefix=backup/
importSince=1700000000
taskObjectCountLimit=100
taskObjectSizeLimit=10m
multipartUploadThreshold=20m
multipartUploadPartSize=8m
uploadThreadNumPerLargeFile=4
isSkipExistFile=true
isServerSideEncryption=true
includePatterns=*.jpg
destChecksum=crc32c
`, "workerTaskThreadNum=12\nworkerMaxThroughput(KB/s)=2048\nworkerRecordMd5=true\n")
	checks := []struct {
		name      string
		got, want any
	}{
		{"source", spec.Source, storage.Spec{Type: "local", Bucket: "/data/src/", GetObjectMetaMode: "stat", HTTPPrefixColumn: 1, RelativePathColumn: 2}},
		{"dest type", spec.Dest.Type, "s3"},
		{"dest path style", spec.Dest.PathStyle, true},
		{"dest checksum", spec.Dest.Checksum, "crc32c"},
		{"dest endpoint", spec.Dest.Endpoint, "http://127.0.0.1:7070"},
		{"list prefix", spec.Plan.Prefix, ""},
		{"dest prefix", spec.Plan.DstPrefix, "backup/"},
		{"since", spec.Plan.Since, time.Unix(1700000000, 0)},
		{"max objects", spec.Plan.MaxObjects, 100},
		{"max bytes", spec.Plan.MaxBytes, int64(10 << 20)},
		{"threshold", spec.Transfer.MultipartThreshold, int64(20 << 20)},
		{"part size", spec.Transfer.PartSize, int64(8 << 20)},
		{"part threads", spec.Transfer.PartConcurrency, 4},
		{"skip existing", spec.Transfer.SkipExisting, true},
		{"sse", spec.Transfer.ServerSideEncryption, "AES256"},
		{"md5", spec.Transfer.RecordMD5, true},
		{"threads", spec.Threads, 12},
		{"bandwidth", spec.BytesPerSecond, int64(2048 * 1024)},
		{"audit", spec.Transfer.Audit, transfer.AuditMode("")},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	if !spec.Plan.Keep("a/b.jpg", storage.ObjectInfo{Size: 1}) || spec.Plan.Keep("a/b.png", storage.ObjectInfo{Size: 1}) {
		t.Error("includePatterns=*.jpg not applied")
	}
}

func TestCloudSources(t *testing.T) {
	cos := parse(t, "jobName=cos_job\nsrcType=cos\nsrcDomain=gz\nsrcBucket=photos\nappId=1250000000\nsrcAccessKey=a\nsrcSecretKey=b\nsrcPrefix=/docs/\ndestBucket=d\ndestDomain=http://oss-cn-hangzhou.aliyuncs.com\n", "")
	if cos.Plan.Prefix != "docs/" || cos.Source.AppID != "1250000000" || cos.Source.Endpoint != "gz" {
		t.Errorf("cos: prefix %q appId %q endpoint %q", cos.Plan.Prefix, cos.Source.AppID, cos.Source.Endpoint)
	}
	if cos.Dest.Type != "oss" || cos.Dest.PathStyle {
		t.Errorf("default destination: %+v", cos.Dest)
	}
	list := parse(t, "jobName=http_job\nsrcType=http\nhttpListFilePath=/data/list.txt\ndestBucket=d\ndestDomain=oss-cn-hangzhou.aliyuncs.com\nminFileSize=10\n", "")
	if list.Plan.GroupKey == nil || list.Source.HTTPListFile != "/data/list.txt" || list.Dest.Endpoint != "https://oss-cn-hangzhou.aliyuncs.com" {
		t.Fatalf("http: %+v", list.Source)
	}
	info := storage.ObjectInfo{Key: "a.jpg", Size: -1, Meta: storage.Metadata{User: map[string]string{httpstore.PrefixMetaKey: "http://h/"}}}
	if list.Plan.GroupKey(info) != "http://h/" || !list.Plan.Keep("a.jpg", info) {
		t.Error("URL lists: group by prefix column, and unknown sizes pass the size filter")
	}
	audit := parse(t, "jobName=audit_job\njobType=audit\nauditMode=detailed\nlastModify=1700000000\nsrcType=local\nsrcPrefix=/x/\ndestBucket=d\ndestDomain=oss-cn-hangzhou.aliyuncs.com\n", "")
	if audit.Transfer.Audit != transfer.AuditDetailed || !audit.Transfer.AuditModifiedBefore.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("audit: %q %v", audit.Transfer.Audit, audit.Transfer.AuditModifiedBefore)
	}
}

func TestSecretsStayOutOfStrings(t *testing.T) {
	spec := parse(t, "jobName=secret_job\nsrcType=oss\nsrcDomain=oss-cn-beijing.aliyuncs.com\nsrcBucket=source-bucket\nsrcAccessKey=AKIDSECRETID\nsrcSecretKey=TOPSECRETVALUE\ndestBucket=dest-bucket\ndestDomain=oss-cn-hangzhou.aliyuncs.com\ndestAccessKey=a\ndestSecretKey=ANOTHERSECRET\n", "")
	src, dst, err := Open(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{src.String(), dst.String()} {
		if strings.Contains(s, "SECRET") {
			t.Errorf("store name %q shows a secret", s)
		}
	}
}

func TestThroughputSchedule(t *testing.T) {
	spec := parse(t, "jobName=sched_job\nsrcType=local\nsrcPrefix=/x/\ndestBucket=d\ndestDomain=oss-cn-hangzhou.aliyuncs.com\n",
		"workerMaxThroughput(KB/s)=100\nworkerMaxThroughputSchedule=08:00,10M 23:00,off\n")
	at := func(h int) time.Time { return time.Date(2026, 11, 24, h, 30, 0, 0, time.Local) }
	if got := spec.RateAt(at(9)); got != 10<<20 {
		t.Errorf("09:30: %d bytes/s, want 10 MiB/s", got)
	}
	if got := spec.RateAt(at(23)); got != 0 {
		t.Errorf("23:30: %d, want unlimited", got)
	}
	if got := spec.RateAt(at(3)); got != 0 {
		t.Errorf("03:30 (after 23:00 off): %d, want unlimited", got)
	}
	bytes, _ := spec.Limiters()
	if bytes == nil {
		t.Fatal("no byte limiter although a cap and a schedule are set")
	}
	setRate(bytes, spec.RateAt(at(9)))
	if bytes.Limit() != 10<<20 || bytes.Burst() < 32<<10 {
		t.Errorf("limiter at 09:30: %v bytes/s, burst %d", bytes.Limit(), bytes.Burst())
	}
	fixed := parse(t, "jobName=fixed_job\nsrcType=local\nsrcPrefix=/x/\ndestBucket=d\ndestDomain=oss-cn-hangzhou.aliyuncs.com\n", "workerMaxThroughput(KB/s)=100\n")
	if got := fixed.RateAt(at(9)); got != 100*1024 {
		t.Errorf("fixed cap: %d, want 102400", got)
	}
}

func TestPreflightNamesTheKeyToFix(t *testing.T) {
	dst := t.TempDir()
	spec := parse(t, "jobName=pf_job\nsrcType=local\nsrcPrefix=/nonexistent/ossimport/dir/\ndestType=local\ndestBucket="+dst+"\n", "")
	src, d, err := Open(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	err = Preflight(t.Context(), spec, src, d)
	if err == nil || !strings.Contains(err.Error(), "check srcPrefix") {
		t.Fatalf("preflight of a missing source folder: %v", err)
	}
	spec = parse(t, "jobName=pf_job\nsrcType=local\nsrcPrefix="+t.TempDir()+"/\ndestType=local\ndestBucket="+dst+"\n", "")
	src, d, _ = Open(t.Context(), spec)
	if err := Preflight(t.Context(), spec, src, d); err != nil {
		t.Fatalf("preflight of good stores: %v", err)
	}
}
