// Package job turns a validated configuration (job.cfg and
// sys.properties) into what the engine runs: the source and destination
// store specs, the planner's options and the copier's options. Master
// and workers build their engine from a Spec.
package job

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/plan"
	"github.com/ossimport/ossimport/internal/storage"
	httpstore "github.com/ossimport/ossimport/internal/storage/httplist"
	"github.com/ossimport/ossimport/internal/transfer"
)

// Spec is everything needed to run one job.
type Spec struct {
	Name   string
	Source storage.Spec
	Dest   storage.Spec
	Plan   plan.Options
	// Transfer holds the copier's options, jobType=audit's included;
	// rate limiters and callbacks are added by whoever runs the copies.
	Transfer transfer.Options
	// Incremental rescans every Interval after the full pass.
	Incremental bool
	Interval    time.Duration
	// Threads is the number of objects copied at once (workerTaskThreadNum).
	Threads int
	// BytesPerSecond caps the read rate (workerMaxThroughput); 0 = no cap.
	BytesPerSecond int64
	// Schedule changes the cap by time of day (workerMaxThroughputSchedule).
	Schedule config.Schedule
	// RequestsPerSecond caps requests (workerMaxRequestRate); 0 = no cap.
	RequestsPerSecond float64
	// AbortOnUnknownError stops a task at the first unclassified error
	// (workerAbortWhenUncatchedException).
	AbortOnUnknownError bool
}

// New builds the Spec of job j run with the service settings s.
func New(j *config.Job, s *config.Sys) (*Spec, error) {
	spec := &Spec{
		Name:                j.JobName,
		Source:              sourceSpec(j),
		Dest:                destSpec(j),
		Incremental:         j.Incremental,
		Interval:            j.IncrementalInterval,
		Threads:             s.WorkerTaskThreadNum,
		BytesPerSecond:      s.MaxThroughput(),
		Schedule:            s.WorkerMaxThroughputSchedule,
		RequestsPerSecond:   float64(s.WorkerMaxRequestRate),
		AbortOnUnknownError: s.WorkerAbortWhenUncatchedException,
	}
	var err error
	if spec.Plan, err = planOptions(j); err != nil {
		return nil, err
	}
	spec.Transfer = transferOptions(j, s)
	return spec, nil
}

// sourceSpec maps the src* keys to a store spec.
func sourceSpec(j *config.Job) storage.Spec {
	sp := storage.Spec{
		Type: j.SrcType, Endpoint: config.EndpointURL(j.SrcDomain), Region: j.SrcRegion,
		Bucket: j.SrcBucket, AccessKey: j.SrcAccessKey, SecretKey: j.SrcSecretKey, SessionToken: j.SrcSecurityToken,
		PathStyle:        config.UsePathStyle(j.SrcDomain, j.SrcUsePathStyle),
		CName:            j.SrcType == "oss" && j.SrcUseCname,
		AllowSymlinks:    j.AllowSymbolicLink,
		HTTPListFile:     j.HTTPListFilePath,
		HTTPPrefixColumn: j.HTTPPrefixColumn, RelativePathColumn: j.RelativePathColumn,
		DownloadFromCDN: j.DownloadFromCDN, CDNDomain: j.CDNDomain,
		GetObjectMetaMode: j.GetObjectMetaMode,
	}
	switch j.SrcType {
	case "local":
		sp.Bucket, sp.Endpoint = j.SrcPrefix, ""
	case "cos":
		if j.AppID > 0 {
			sp.AppID = strconv.FormatInt(j.AppID, 10)
		}
		// COS takes a V4 region in srcDomain, not an endpoint URL.
		sp.Endpoint = j.SrcDomain
	case "azure", "qiniu":
		sp.Endpoint = j.SrcDomain
	}
	return sp
}

// destSpec maps the dest* keys to a store spec.
func destSpec(j *config.Job) storage.Spec {
	if j.DestType == "local" {
		return storage.Spec{Type: "local", Bucket: j.DestBucket}
	}
	return storage.Spec{
		Type: j.DestType, Endpoint: config.EndpointURL(j.DestDomain), Region: j.DestRegion,
		Bucket: j.DestBucket, AccessKey: j.DestAccessKey, SecretKey: j.DestSecretKey, SessionToken: j.DestSecurityToken,
		PathStyle: config.UsePathStyle(j.DestDomain, j.DestUsePathStyle),
		CName:     j.DestType == "oss" && j.DestUseCname,
		Checksum:  j.DestChecksum,
	}
}

// listPrefix is the prefix listed in the source store: local stores are
// rooted at srcPrefix and URL lists have none; COS prefixes drop their
// leading "/".
func listPrefix(j *config.Job) string {
	switch j.SrcType {
	case "local", "http":
		return ""
	case "cos":
		return strings.TrimPrefix(j.SrcPrefix, "/")
	}
	return j.SrcPrefix
}

func planOptions(j *config.Job) (plan.Options, error) {
	filter, err := config.NewPathFilter(j)
	if err != nil {
		return plan.Options{}, fmt.Errorf("job %s: %w", j.JobName, err)
	}
	o := plan.Options{
		Job: j.JobName, Prefix: listPrefix(j), DstPrefix: j.DestPrefix,
		MaxObjects: j.TaskObjectCountLimit, MaxBytes: j.TaskObjectSizeLimit,
		ScanThreads: j.ScanThreadCount, MaxScanDepth: j.MaxMultiThreadScanDepth,
		Keep: func(rel string, info storage.ObjectInfo) bool {
			if info.Size < 0 { // unknown (URL lists): only the patterns apply
				return filter.Match(rel, j.MinFileSize)
			}
			return filter.Match(rel, info.Size)
		},
		KeepReason: func(rel string, info storage.ObjectInfo) string {
			if info.Size < 0 {
				return filter.Reason(rel, j.MinFileSize)
			}
			return filter.Reason(rel, info.Size)
		},
	}
	if j.ImportSince > 0 {
		o.Since = time.Unix(j.ImportSince, 0)
	}
	if j.SrcType == "http" {
		o.GroupKey = func(info storage.ObjectInfo) string { return info.Meta.User[httpstore.PrefixMetaKey] }
	}
	return o, nil
}

func transferOptions(j *config.Job, s *config.Sys) transfer.Options {
	o := transfer.Options{
		MultipartThreshold: j.MultipartUploadThreshold,
		PartSize:           j.MultipartUploadPartSize,
		PartConcurrency:    j.UploadThreadNumPerLargeFile,
		SkipExisting:       j.SkipExistFile,
		AllowSymlinks:      j.AllowSymbolicLink,
		VerifyAfterCopy:    j.AuditAfterImport,
		RecordMD5:          s.WorkerRecordMD5,
		StorageClass:       j.DestStorageClass,
		RetryBudget:        s.WorkerRetryBudget,
		DirMarkers:         dirMarkerPolicy(j.DirMarkers),
	}
	if j.ServerSideEncryption {
		o.ServerSideEncryption = "AES256"
	}
	if j.JobType == "audit" {
		o.Audit = transfer.AuditMode(j.AuditMode)
		if j.LastModify > 0 {
			o.AuditModifiedBefore = time.Unix(j.LastModify, 0)
		}
	}
	return o
}

// dirMarkerPolicy maps the dirMarkers key (auto, copy, skip) to the
// copier's policy.
func dirMarkerPolicy(v string) transfer.DirMarkerPolicy {
	switch v {
	case "copy":
		return transfer.DirMarkersCopy
	case "skip":
		return transfer.DirMarkersSkip
	}
	return transfer.DirMarkersAuto
}

// Limiters returns the byte and request limiters of the spec (nil when
// uncapped). The byte limiter follows the schedule when one is set; call
// Throttle to apply it over time. A worker process shares one set
// instead (NewLimits).
func (s *Spec) Limiters() (bytes *rate.Limiter, requests *rate.Limiter) {
	return newLimiters(s.BytesPerSecond, s.Schedule, s.RequestsPerSecond)
}

// Open opens the job's source and destination.
func Open(ctx context.Context, s *Spec) (storage.Source, storage.Destination, error) {
	src, err := storage.OpenSource(ctx, s.Source)
	if err != nil {
		return nil, nil, fmt.Errorf("open source: %w", err)
	}
	dst, err := storage.OpenDestination(ctx, s.Dest)
	if err != nil {
		h, _ := destTypeHint(s.Dest)
		return nil, nil, fmt.Errorf("open destination: %w%s", err, h)
	}
	return src, dst, nil
}

// errPreflight is wrapped by every preflight failure.
var errPreflight = errors.New("preflight failed")
