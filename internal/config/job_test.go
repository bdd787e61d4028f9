package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

var baseJob = [][2]string{
	{"jobName", "rule_test"},
	{"srcPrefix", "/data/src/"},
	{"destDomain", "http://oss-cn-hangzhou.aliyuncs.com"},
	{"destBucket", "examplebucket"},
	{"destAccessKey", "LTAI5tExampleAccessKey"},
	{"destSecretKey", "ExampleSecret"},
}

// jobText writes the base job with some values replaced (in place, so line
// numbers stay 1-6) followed by extra lines from line 7 on.
func jobText(set map[string]string, extra ...string) string {
	var b strings.Builder
	for _, kv := range baseJob {
		v := kv[1]
		if o, ok := set[kv[0]]; ok {
			v = o
		}
		b.WriteString(kv[0] + "=" + v + "\n")
	}
	for _, l := range extra {
		b.WriteString(l + "\n")
	}
	return b.String()
}

func diagLines(ds Diagnostics) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Severity.String() + ": " + d.String()
	}
	return out
}

func TestBaseJobIsClean(t *testing.T) {
	if _, diags := ParseJob("j.cfg", []byte(jobText(nil))); len(diags) != 0 {
		t.Fatalf("base job: %v", diagLines(diags))
	}
}

var (
	ossPrefix = map[string]string{"srcPrefix": "data/"}
	ossSrc    = []string{"srcType=oss", "srcAccessKey=LTAI5tSourceKeyXXXX", "srcSecretKey=s", "srcBucket=b", "srcDomain=http://oss-cn-beijing.aliyuncs.com"}
)

var jobRuleCases = []struct {
	name  string
	set   map[string]string
	extra []string
	want  string
}{
	{"jobName pattern", map[string]string{"jobName": "a b"}, nil,
		`error: j.cfg:1: jobName "a b" must be 4 to 128 letters, digits, '_' or '-' (e.g. local_test)`},
	{"jobType enum", nil, []string{"jobType=copy"},
		`error: j.cfg:7: jobType "copy" is not allowed (use one of: import, audit)`},
	{"srcType case", nil, []string{"srcType=Local"},
		`error: j.cfg:7: srcType "Local" is not allowed (did you mean "local"? allowed: local, oss, qiniu, bos, ks3, s3, youpai, http, cos, azure)`},
	{"local prefix trailing slash", map[string]string{"srcPrefix": "/data/x"}, nil,
		`error: j.cfg:2: srcPrefix "/data/x" must end with "/" (write /data/x/)`},
	{"local prefix relative", map[string]string{"srcPrefix": "data/x/"}, nil,
		`error: j.cfg:2: srcPrefix "data/x/" must be an absolute path (write /data/x/)`},
	{"local prefix backslash", map[string]string{"srcPrefix": `c:\\data\\`}, nil,
		`error: j.cfg:2: srcPrefix "c:\\data\\" must use "/" as the separator (write c:/data/)`},
	{"local prefix double slash", map[string]string{"srcPrefix": "c:/data//x/"}, nil,
		`error: j.cfg:2: srcPrefix "c:/data//x/" must not contain "//" (write c:/data/x/)`},
	{"cloud prefix leading slash", ossPrefix, append(ossSrc[:4:4], "srcDomain=http://oss-cn-beijing.aliyuncs.com", "srcPrefix=/x/"),
		`error: j.cfg:12: srcPrefix "/x/" must not start with "/" for srcType=oss (write x/)`},
	{"cos prefix", ossPrefix, []string{"srcType=cos", "appId=1", "srcAccessKey=a", "srcSecretKey=b", "srcBucket=c", "srcPrefix=x/"},
		`error: j.cfg:12: srcPrefix "x/" must be empty or start and end with "/" for srcType=cos (write /x/)`},
	{"cos appId", ossPrefix, []string{"srcType=cos", "srcAccessKey=a", "srcSecretKey=b", "srcBucket=c"},
		`error: j.cfg: appId is required for srcType=cos (set your Tencent Cloud AppID, a positive number)`},
	{"src bucket slash", ossPrefix, append(ossSrc[:3:3], "srcBucket=b/dir", "srcDomain=http://oss-cn-beijing.aliyuncs.com"),
		`error: j.cfg:10: srcBucket "b/dir" must be a bucket name without "/" (write b and put dir/ in srcPrefix)`},
	{"src domain with bucket", ossPrefix, append(ossSrc[:4:4], "srcDomain=http://b.oss-cn-beijing.aliyuncs.com"),
		`error: j.cfg:11: srcDomain "http://b.oss-cn-beijing.aliyuncs.com" must not contain the bucket name (write http://oss-cn-beijing.aliyuncs.com)`},
	{"dest domain with bucket", map[string]string{"destDomain": "https://ExampleBucket.oss-cn-hangzhou.aliyuncs.com"}, nil,
		`error: j.cfg:3: destDomain "https://ExampleBucket.oss-cn-hangzhou.aliyuncs.com" must not contain the bucket name (write https://oss-cn-hangzhou.aliyuncs.com)`},
	{"dest domain scheme", map[string]string{"destDomain": "ftp://oss-cn-hangzhou.aliyuncs.com"}, nil,
		`error: j.cfg:3: destDomain "ftp://oss-cn-hangzhou.aliyuncs.com" must start with http:// or https://`},
	{"dest domain path", map[string]string{"destDomain": "http://oss-cn-hangzhou.aliyuncs.com/x"}, nil,
		`warning: j.cfg:3: destDomain "http://oss-cn-hangzhou.aliyuncs.com/x" has a path, which is unusual for an endpoint (write only scheme and host)`},
	{"dest bucket required", map[string]string{"destBucket": ""}, nil,
		`error: j.cfg:4: destBucket is required for destType=oss (set the destination bucket name)`},
	{"dest domain required", map[string]string{"destDomain": ""}, nil,
		`error: j.cfg:3: destDomain is required for destType=oss (set the region endpoint, e.g. http://oss-cn-hangzhou.aliyuncs.com)`},
	{"dest prefix backslash", nil, []string{`destPrefix=\\x/`},
		`error: j.cfg:7: destPrefix "\\x/" must not start with "/" or "\" (write x/)`},
	{"interval minimum", nil, []string{"incrementalModeInterval=0"},
		`error: j.cfg:7: incrementalModeInterval "0" is out of range (use at least 1)`},
	{"interval under ossimport's minimum", nil, []string{"isIncremental=true", "incrementalModeInterval=60"},
		`warning: j.cfg:8: incrementalModeInterval "60" is under ossimport's minimum of 900 seconds: accepted for trying a setup, but every round lists the whole source; use 3600 or more in production`},
	{"interval warning", nil, []string{"isIncremental=true", "incrementalModeInterval=1800"},
		`warning: j.cfg:8: incrementalModeInterval "1800" is under 3600 seconds; frequent rescans mostly waste list requests`},
	{"lastModify", nil, []string{"lastModify=-5"},
		`error: j.cfg:7: lastModify "-5" is out of range (use at least 0)`},
	{"count limit", nil, []string{"taskObjectCountLimit=50001"},
		`error: j.cfg:7: taskObjectCountLimit "50001" is out of range (use 1 to 50000)`},
	{"size limit", nil, []string{"taskObjectSizeLimit=0"},
		`error: j.cfg:7: taskObjectSizeLimit "0" is out of range (use at least 1)`},
	{"threshold", nil, []string{"multipartUploadThreshold=1024k"},
		`error: j.cfg:7: multipartUploadThreshold "1m" must be larger than 1m (e.g. 150m)`},
	{"part size small", nil, []string{"multipartUploadPartSize=99k"},
		`warning: j.cfg:7: multipartUploadPartSize "99k" is under 100k, so 50m is used instead (write at least 100k)`},
	{"part size large", nil, []string{"multipartUploadPartSize=6g"},
		`error: j.cfg:7: multipartUploadPartSize "6g" is larger than 5g (write at most 5g, e.g. 50m)`},
	{"threshold below part", nil, []string{"multipartUploadThreshold=10m"},
		`warning: j.cfg:7: multipartUploadThreshold "10m" is smaller than the part size 50m, so files in between are uploaded as a single part (raise the threshold or lower multipartUploadPartSize)`},
	{"upload threads", nil, []string{"uploadThreadNumPerLargeFile=101"},
		`error: j.cfg:7: uploadThreadNumPerLargeFile "101" is out of range (use 1 to 100)`},
	{"scan threads", nil, []string{"scanThreadCount=33"},
		`error: j.cfg:7: scanThreadCount "33" is out of range (use 1 to 32)`},
	{"scan depth", nil, []string{"maxMultiThreadScanDepth=17"},
		`error: j.cfg:7: maxMultiThreadScanDepth "17" is out of range (use 1 to 16)`},
	{"not a number", nil, []string{"scanThreadCount=four"},
		`error: j.cfg:7: scanThreadCount "four" is not a whole number (write digits only, e.g. 1)`},
	{"http list required", nil, []string{"srcType=http"},
		`error: j.cfg: httpListFilePath is required for srcType=http (set the absolute path of the URL list file)`},
	{"http columns", nil, []string{"srcType=http", "httpListFilePath=/l", "relativePathColumn=1"},
		`error: j.cfg:9: relativePathColumn "1" must differ from httpPrefixColumn (the defaults are 1 and 2)`},
	{"http column zero", nil, []string{"srcType=http", "httpListFilePath=/l", "httpPrefixColumn=0"},
		`error: j.cfg:9: httpPrefixColumn "0" is out of range (use at least 1)`},
	{"azure account", nil, []string{"srcType=azure", "srcSecretKey=k", "srcBucket=c"},
		`error: j.cfg: srcAccessKey is required for srcType=azure (set the storage account name)`},
	{"azure container", nil, []string{"srcType=azure", "srcAccessKey=acct", "srcSecretKey=k"},
		`error: j.cfg: srcBucket is required for srcType=azure (set the container name)`},
	{"s3 half credentials", nil, []string{"srcType=s3", "srcBucket=b", "srcAccessKey=AKIAEXAMPLE"},
		`error: j.cfg: srcAccessKey and srcSecretKey must be set together (or both left empty to use the provider's default credential chain)`},
	{"youpai cdn", nil, []string{"srcType=youpai", "srcAccessKey=op", "srcSecretKey=pw", "srcBucket=svc", "srcDomain=http://v0.api.upyun.com", "isDownloadFromCdn=true"},
		`error: j.cfg: cdnDomain is required when isDownloadFromCdn=true (set the UPYUN CDN host, or set isDownloadFromCdn=false)`},
	{"qiniu domain", nil, []string{"srcType=qiniu", "srcAccessKey=a", "srcSecretKey=b", "srcBucket=c"},
		`error: j.cfg: srcDomain is required for srcType=qiniu (set the source endpoint, e.g. http://your-bucket-domain.example.com)`},
	{"meta mode elsewhere", nil, []string{"getObjectMetaMode=head"},
		`warning: j.cfg:7: getObjectMetaMode only applies to srcType qiniu and is ignored for srcType=local (remove it)`},
	{"meta mode enum", nil, []string{"getObjectMetaMode=get"},
		`error: j.cfg:7: getObjectMetaMode "get" is not allowed (use one of: stat, head)`},
	{"express tunnel", nil, []string{"isUseExpressTunnel=true"},
		`error: j.cfg:7: isUseExpressTunnel=true: Express Connect tunnels are not supported by this implementation (set isUseExpressTunnel=false and reach OSS through a normal endpoint in destDomain, e.g. an -internal endpoint over your leased line or VPC)`},
	{"audit skip", nil, []string{"jobType=audit", "isSkipExistFile=true"},
		`warning: j.cfg:8: isSkipExistFile has no effect when jobType=audit`},
	{"local dest relative", nil, []string{"destType=local", "destBucket=out"},
		`error: j.cfg:8: destBucket "out" must be the absolute destination directory when destType=local (e.g. /data/dest)`},
	{"s3 storage class", nil, []string{"destType=s3", "destStorageClass=STANDARD IA"},
		`error: j.cfg:8: destStorageClass "STANDARD IA" must be a single word such as STANDARD_IA`},
	{"oss storage class", nil, []string{"destStorageClass=ia"},
		`error: j.cfg:7: destStorageClass "ia" is not an OSS storage class (did you mean "IA"?)`},
	{"region token", nil, []string{"destRegion=us east"},
		`error: j.cfg:7: destRegion "us east" must be a region name such as us-east-1 (letters, digits, '-', '_' or '.')`},
	{"bad pattern", nil, []string{"excludePatterns=ok/*, a/[/b"},
		`error: j.cfg:7: excludePatterns entry "a/[/b" is not a valid pattern: syntax error in pattern (see path.Match syntax; escape special characters with \)`},
	{"min above max", nil, []string{"minFileSize=2M", "maxFileSize=1mb"},
		`error: j.cfg:7: minFileSize "2m" is larger than maxFileSize "1m", so no file would be copied (lower minFileSize or raise maxFileSize)`},
	{"missing dest secret", map[string]string{"destSecretKey": ""}, nil,
		`error: j.cfg:6: destSecretKey is empty but destAccessKey is set (set the secret, or clear both)`},
}

func TestJobRules(t *testing.T) {
	for _, tt := range jobRuleCases {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := ParseJob("j.cfg", []byte(jobText(tt.set, tt.extra...)))
			got := diagLines(diags)
			if !slices.Contains(got, tt.want) {
				t.Errorf("missing diagnostic\nwant: %s\ngot:  %s", tt.want, strings.Join(got, "\n      "))
			}
		})
	}
}

func TestMissingKeysTakeDefaults(t *testing.T) {
	j, diags := ParseJob("j.cfg", []byte("destDomain=http://oss-cn-hangzhou.aliyuncs.com\ndestBucket=b\n"))
	want := DefaultJob()
	if j.TaskObjectCountLimit != 10000 || j.MultipartUploadThreshold != 150*MiB || j.MultipartUploadPartSize != 50*MiB ||
		j.IncrementalInterval != 86400*time.Second || !j.AuditAfterImport || j.AuditMode != "general" ||
		j.JobName != "local_test" || j.SrcType != "local" || j.DestType != "oss" || j.HTTPPrefixColumn != 1 || j.RelativePathColumn != 2 {
		t.Errorf("defaults not applied: %+v", j)
	}
	if j.TaskObjectSizeLimit != want.TaskObjectSizeLimit || j.UploadThreadNumPerLargeFile != 3 {
		t.Errorf("size defaults: %d %d", j.TaskObjectSizeLimit, j.UploadThreadNumPerLargeFile)
	}
	// Absent keys are reported without a line number.
	wantMsg := `error: j.cfg: srcPrefix is empty; srcType=local needs the absolute source directory ending with "/" (e.g. /data/src/)`
	if got := diagLines(diags); !slices.Contains(got, wantMsg) {
		t.Errorf("got %q", got)
	}
	for _, s := range j.Effective() {
		if s.Key == "taskObjectCountLimit" && (s.Source() != "default" || s.Value != "10000") {
			t.Errorf("effective %+v", s)
		}
		if s.Key == "destBucket" && s.Source() != "j.cfg:2" {
			t.Errorf("effective %+v", s)
		}
	}
}

func TestEmptyValueTakesDefault(t *testing.T) {
	j, _ := ParseJob("j.cfg", []byte(jobText(nil, "scanThreadCount=", "multipartUploadPartSize=", "isAuditAfterImport=")))
	if j.ScanThreadCount != 1 || j.MultipartUploadPartSize != 50*MiB || !j.AuditAfterImport {
		t.Errorf("got %d %d %v", j.ScanThreadCount, j.MultipartUploadPartSize, j.AuditAfterImport)
	}
}

func TestFallbacks(t *testing.T) {
	j, diags := ParseJob("j.cfg", []byte(jobText(map[string]string{"srcPrefix": "data/"},
		"srcType=baidu", "srcAccessKey=a", "srcSecretKey=b", "srcBucket=c", "srcDomain=http://bj.bcebos.com", "multipartUploadPartSize=50k")))
	if diags.HasErrors() {
		t.Fatal(diagLines(diags))
	}
	if j.SrcType != "bos" || j.MultipartUploadPartSize != 50*MiB {
		t.Errorf("srcType %q, part size %d", j.SrcType, j.MultipartUploadPartSize)
	}
}

func TestUnknownKeySuggestion(t *testing.T) {
	tests := map[string]string{
		"srcPerfix":     `warning: j.cfg:7: unknown key "srcPerfix" (did you mean "srcPrefix"?)`,
		"destbucket":    `warning: j.cfg:7: unknown key "destbucket" (did you mean "destBucket"?)`,
		"isIncrement":   `warning: j.cfg:7: unknown key "isIncrement" (did you mean "isIncremental"?)`,
		"somethingElse": `warning: j.cfg:7: unknown key "somethingElse" is ignored (check the spelling against the template)`,
		"sshPort":       `warning: j.cfg:7: key "sshPort" belongs in sys.properties and is ignored here (move it there)`,
	}
	for key, want := range tests {
		_, diags := ParseJob("j.cfg", []byte(jobText(nil, key+"=1")))
		if got := diagLines(diags); !slices.Contains(got, want) {
			t.Errorf("%s: got %q", key, got)
		}
	}
}

func TestValidateProgrammaticJob(t *testing.T) {
	j := DefaultJob()
	j.JobName = "programmatic"
	j.SrcPrefix = "/src/"
	j.DestType = "local"
	j.DestBucket = "/dst"
	if diags := j.Validate(); len(diags) != 0 {
		t.Fatalf("unexpected: %v", diagLines(diags))
	}
	j.ScanThreadCount = 0
	diags := j.Validate()
	if len(diags) != 1 || diags[0].String() != `scanThreadCount "0" is out of range (use 1 to 32)` || diags[0].Line != 0 {
		t.Fatalf("got %v", diagLines(diags))
	}
	if err := diags.Err(); err == nil || !strings.Contains(err.Error(), "scanThreadCount") {
		t.Errorf("Err() = %v", err)
	}
	for _, s := range j.Effective() {
		if s.Key == "scanThreadCount" && s.Source() != "set" {
			t.Errorf("source %q", s.Source())
		}
	}
}

func TestEffectiveNotesBareEndpoint(t *testing.T) {
	j, _ := ParseJob("j.cfg", []byte(jobText(map[string]string{"destDomain": "oss-cn-hangzhou.aliyuncs.com"})))
	for _, s := range j.Effective() {
		if s.Key == "destDomain" && s.Note != "no scheme given, so https://oss-cn-hangzhou.aliyuncs.com is used" {
			t.Errorf("note %q", s.Note)
		}
	}
}

func TestRegistryCoversEveryField(t *testing.T) {
	for _, r := range []*registry{jobRegistry(), sysRegistry()} {
		for name := range r.field {
			if _, ok := r.lookup(name); !ok {
				t.Errorf("field tagged %q has no key", name)
			}
		}
		seen := map[string]bool{}
		for _, k := range r.keys {
			if seen[k.Name] || k.Doc == "" || k.Section == "" {
				t.Errorf("key %q: duplicate or undocumented", k.Name)
			}
			seen[k.Name] = true
		}
	}
}
