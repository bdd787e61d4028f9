package config

import (
	"fmt"
	"os"
	"reflect"
	"sync"
	"time"
)

// SourceTypes lists the accepted srcType values.
var SourceTypes = []string{"local", "oss", "qiniu", "bos", "ks3", "s3", "youpai", "http", "cos", "azure"}

// DestTypes lists the accepted destType values.
var DestTypes = []string{"oss", "s3", "local"}

// Job is the content of a job file (job.cfg / local_job.cfg). Field tags
// name the key each field is read from; see JobKeys for defaults and rules.
type Job struct {
	JobName             string        `key:"jobName"`
	JobType             string        `key:"jobType"`
	Incremental         bool          `key:"isIncremental"`
	IncrementalInterval time.Duration `key:"incrementalModeInterval"`
	ImportSince         int64         `key:"importSince"` // Unix seconds; 0 = everything
	LastModify          int64         `key:"lastModify"`  // Unix seconds; 0 = verify everything

	SrcType            string `key:"srcType"`
	SrcAccessKey       string `key:"srcAccessKey"`
	SrcSecretKey       string `key:"srcSecretKey"`
	SrcDomain          string `key:"srcDomain"`
	SrcBucket          string `key:"srcBucket"`
	SrcPrefix          string `key:"srcPrefix"`
	AppID              int64  `key:"appId"`
	DownloadFromCDN    bool   `key:"isDownloadFromCdn"`
	CDNDomain          string `key:"cdnDomain"`
	HTTPListFilePath   string `key:"httpListFilePath"`
	HTTPPrefixColumn   int    `key:"httpPrefixColumn"`
	RelativePathColumn int    `key:"relativePathColumn"`
	GetObjectMetaMode  string `key:"getObjectMetaMode"`
	AllowSymbolicLink  bool   `key:"isAllowSymbolicLink"`

	DestAccessKey string `key:"destAccessKey"`
	DestSecretKey string `key:"destSecretKey"`
	DestDomain    string `key:"destDomain"`
	DestBucket    string `key:"destBucket"`
	DestPrefix    string `key:"destPrefix"`

	TaskObjectCountLimit    int   `key:"taskObjectCountLimit"`
	TaskObjectSizeLimit     int64 `key:"taskObjectSizeLimit"`
	SkipExistFile           bool  `key:"isSkipExistFile"`
	ScanThreadCount         int   `key:"scanThreadCount"`
	MaxMultiThreadScanDepth int   `key:"maxMultiThreadScanDepth"`

	MultipartUploadThreshold    int64 `key:"multipartUploadThreshold"`
	MultipartUploadPartSize     int64 `key:"multipartUploadPartSize"`
	UploadThreadNumPerLargeFile int   `key:"uploadThreadNumPerLargeFile"`
	ServerSideEncryption        bool  `key:"isServerSideEncryption"`

	AuditAfterImport bool   `key:"isAuditAfterImport"`
	AuditMode        string `key:"auditMode"`

	UseExpressTunnel       bool   `key:"isUseExpressTunnel"`
	ExpressTunnelProxyHost string `key:"expressTunnelProxyHost"`
	ExpressTunnelProxyType string `key:"expressTunnelProxyType"`
	ExpressTunnelProxyUser string `key:"expressTunnelProxyUser"`
	ExpressTunnelProxyDest string `key:"expressTunnelProxyDest"`
	ExpressTunnelAuthToken string `key:"expressTunnelAuthToken"`

	// Extensions.
	DestType          string   `key:"destType"`
	DestRegion        string   `key:"destRegion"`
	SrcRegion         string   `key:"srcRegion"`
	DestStorageClass  string   `key:"destStorageClass"`
	DestUsePathStyle  string   `key:"destUsePathStyle"`
	DestChecksum      string   `key:"destChecksum"`
	SrcUsePathStyle   string   `key:"srcUsePathStyle"`
	SrcUseCname       bool     `key:"srcUseCname"`
	DestUseCname      bool     `key:"destUseCname"`
	SrcSecurityToken  string   `key:"srcSecurityToken"`
	DestSecurityToken string   `key:"destSecurityToken"`
	DirMarkers        string   `key:"dirMarkers"`
	IncludePatterns   []string `key:"includePatterns"`
	ExcludePatterns   []string `key:"excludePatterns"`
	MinFileSize       int64    `key:"minFileSize"`
	MaxFileSize       int64    `key:"maxFileSize"`

	file  string         // file name for diagnostics
	lines map[string]int // key -> line it was read from
}

var jobRegistry = sync.OnceValue(func() *registry {
	return newRegistry(jobKeys, reflect.TypeFor[Job]())
})

// JobKeys returns the table of job-file keys, in template order.
func JobKeys() []Key { return append([]Key(nil), jobKeys...) }

// DefaultJob returns a Job with every key at its default value.
func DefaultJob() *Job {
	j := &Job{}
	jobRegistry().setDefaults(reflect.ValueOf(j))
	return j
}

// LoadJob reads and checks the job file at path. The error is non-nil only
// when the file cannot be read; configuration problems are in the
// Diagnostics.
func LoadJob(path string) (*Job, Diagnostics, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read job file %s: %w", path, err)
	}
	j, diags := ParseJob(path, data)
	return j, diags, nil
}

// ParseJob decodes and checks a job file; name is used in diagnostics.
// Missing keys take their defaults. The returned Job is never nil; it is
// fit for use only when the Diagnostics hold no errors. After validation
// the documented fallbacks are applied: srcType "baidu" becomes "bos", and
// a multipartUploadPartSize under 100k becomes 50m.
func ParseJob(name string, data []byte) (*Job, Diagnostics) {
	pf, diags := parseProperties(name, data)
	j := DefaultJob()
	j.file = name
	lines, more := jobRegistry().decode(pf, reflect.ValueOf(j), sysRegistry(), "sys.properties")
	j.lines = lines
	diags = append(diags, more...)
	diags = append(diags, j.Validate()...)
	j.applyFallbacks()
	diags.sort()
	return j, diags
}

// Effective lists every job key with the value in use and where it came
// from. Secrets are masked.
func (j *Job) Effective() []Setting {
	out := jobRegistry().effective(reflect.ValueOf(j), j.file, j.lines)
	for i := range out {
		if out[i].Key == "srcDomain" {
			out[i].Value = maskConnectionString(out[i].Value)
		}
		if v := out[i].Value; v != "" && !hasScheme(v) && j.isEndpointKey(out[i].Key) {
			out[i].Note = "no scheme given, so " + EndpointURL(v) + " is used"
		}
	}
	return out
}

// File returns the name the job was parsed from, or "" for a Job built in
// code.
func (j *Job) File() string { return j.file }

// applyFallbacks applies ossimport's silent corrections after validation.
func (j *Job) applyFallbacks() {
	if j.SrcType == "baidu" {
		j.SrcType = "bos"
	}
	if j.MultipartUploadPartSize < minPartSize {
		j.MultipartUploadPartSize = 50 * MiB
	}
}
