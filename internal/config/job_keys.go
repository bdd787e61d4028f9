package config

import "math"

// Template sections of the job file.
const (
	secTypes   = "Source and destination types"
	secJob     = "Job"
	secSource  = "Source"
	secDest    = "Destination"
	secTasks   = "Task splitting and scanning"
	secUpload  = "Uploading"
	secAudit   = "Verification"
	secExpress = "Express Connect (accepted for compatibility, not supported)"
	secExtDest = "Extensions: destination and addressing"
	secExtFilt = "Extensions: filters"
)

var (
	s3Like      = []string{"oss", "s3", "bos", "ks3"}
	regionSrcs  = []string{"oss", "s3", "bos", "ks3", "cos", "qiniu"}
	tokenSrcs   = []string{"oss", "s3", "bos", "ks3", "cos", "qiniu"}
	cloudDests  = []string{"oss", "s3"}
	maxInt64Key = int64(math.MaxInt64)
)

var jobKeys = []Key{
	{Name: "srcType", Default: "local", Kind: KindEnum, Enum: SourceTypes, Section: secTypes,
		Doc: "Where the data comes from: local, oss, qiniu, bos, ks3, s3, youpai, http, cos or azure (lower case). baidu is read as bos."},
	{Name: "destType", Default: "oss", Kind: KindEnum, Enum: DestTypes, Extension: true, Section: secTypes,
		Doc: "Kind of destination: oss, s3 (any S3-compatible service) or local (a directory; destBucket is then its absolute path). An extension: Alibaba's ossimport always writes to OSS. Set s3 for any endpoint that is not OSS (not *.aliyuncs.com); check warns when destDomain does not look like OSS."},

	{Name: "jobName", Default: "local_test", Section: secJob,
		Doc: "Name that identifies the job; 4 to 128 letters, digits, '_' or '-'. A name can be submitted again only after the old job is cleaned. Standalone scripts expect local_test."},
	{Name: "jobType", Default: "import", Kind: KindEnum, Enum: []string{"import", "audit"}, Section: secJob,
		Doc: "import copies the data (and verifies it when isAuditAfterImport is true); audit only compares source and destination."},
	{Name: "isIncremental", Default: "false", Kind: KindBool, Section: secJob,
		Doc: "When true the job never ends: after the first full pass it rescans the source every incrementalModeInterval seconds and copies new or changed files. Deletions are not propagated."},
	{Name: "incrementalModeInterval", Default: "86400", Kind: KindSeconds, Min: 1, Max: maxInt64Key, Bounded: true, Section: secJob,
		Doc: "Seconds between incremental rescans (from the end of one round's scan to the start of the next). ossimport's minimum is 900; shorter intervals are accepted with a warning, for trying a setup in minutes. Below 3600 mostly wastes list requests."},
	{Name: "importSince", Default: "0", Kind: KindInt, Min: 0, Max: maxInt64Key, Bounded: true, Section: secJob,
		Doc: "Unix time in seconds: only files modified after it are copied; 0 copies everything. In incremental mode it applies to the first full pass only."},
	{Name: "lastModify", Default: "0", Kind: KindInt, Min: 0, Max: maxInt64Key, Bounded: true, Section: secJob,
		Doc: "Unix time in seconds: files modified after it are left out of verification; 0 verifies everything."},

	{Name: "srcAccessKey", Kind: KindString, PartSecret: true, Section: secSource,
		Doc: "Access key ID of the source account. UPYUN: operator name; Azure: storage account name. Not used by local and http. " +
			"Left empty together with srcSecretKey: oss reads OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET/OSS_SESSION_TOKEN, then the ECS instance's RAM role, else reads anonymously; s3, bos, ks3, cos and qiniu use the AWS default chain (AWS_ACCESS_KEY_ID..., shared config and AWS_PROFILE, web identity, ECS/EC2 roles)."},
	{Name: "srcSecretKey", Kind: KindString, Secret: true, Section: secSource,
		Doc: "Secret of the source account. UPYUN: operator password; Azure: account key."},
	{Name: "srcDomain", Kind: KindString, Section: secSource,
		Doc: "Source endpoint without the bucket name, e.g. http://oss-cn-hangzhou.aliyuncs.com, http://bj.bcebos.com, http://v0.api.upyun.com; qiniu: the bucket's download domain; cos: the region (e.g. ap-guangzhou, may be empty); azure: the endpoint suffix (e.g. core.windows.net), the blob service URL (e.g. http://127.0.0.1:10000/devstoreaccount1 for Azurite, Azure Stack or a private endpoint) or a connection string with BlobEndpoint= or EndpointSuffix= (never AccountKey=, which belongs in srcSecretKey). A bare host name means https. " +
			"oss: an endpoint naming its region, or a custom domain bound to the bucket with srcUseCname=true and srcRegion set. bos: the region endpoint, not a bucket domain such as mybkt.bj.bcebos.com. " +
			"Qiniu, BOS, KS3 and COS are read through their S3-compatible APIs: qiniu uses https://s3.<srcRegion>.qiniucs.com (set srcRegion, e.g. cn-east-1, or give that endpoint here); " +
			"bos turns http://bj.bcebos.com into https://s3.bj.bcebos.com; ks3 uses its endpoint as written and signs for the region KS3 names it by (http://ks3-cn-beijing.ksyuncs.com: BEIJING, the legacy http://kss.ksyun.com: HANGZHOU; set srcRegion for an IP address or a private deployment); " +
			"cos turns a short region (gz, sh, tj, bj, cd, ...) or a full one (ap-guangzhou) into https://cos.<region>.myqcloud.com and reads bucket <srcBucket>-<appId>. " +
			"An IP address or localhost is used as written, with path-style addressing."},
	{Name: "srcBucket", Kind: KindString, Section: secSource,
		Doc: "Source bucket name without any '/'; azure: the container; qiniu: the Kodo bucket name as the console lists it (the name Qiniu's S3 API knows), not a domain. Not used by local and http."},
	{Name: "srcPrefix", Kind: KindString, Section: secSource,
		Doc: "local: absolute directory with '/' separators ending in '/', e.g. /data/src/ or c:/data/src/. Cloud sources: key prefix inside the bucket, empty for the whole bucket, never starting with '/' (cos: empty or starting and ending with '/')."},
	{Name: "appId", Default: "0", Kind: KindInt, Min: 0, Max: maxInt64Key, Bounded: true, Sources: []string{"cos"}, Section: secSource,
		Doc: "Tencent COS AppID (a positive number); cos only."},
	{Name: "isDownloadFromCdn", Default: "false", Kind: KindBool, Sources: []string{"youpai"}, Section: secSource,
		Doc: "youpai only: list from storage but download each file from cdnDomain + key, avoiding UPYUN's download throttling."},
	{Name: "cdnDomain", Kind: KindString, Sources: []string{"youpai"}, Section: secSource,
		Doc: "youpai only: CDN host used when isDownloadFromCdn is true."},
	{Name: "httpListFilePath", Kind: KindString, Sources: []string{"http"}, Section: secSource,
		Doc: "http only: absolute path of the URL list file (one file per line, whitespace-separated columns, LF line ends)."},
	{Name: "httpPrefixColumn", Default: "1", Kind: KindInt, Min: 1, Max: math.MaxInt32, Bounded: true, Sources: []string{"http"}, Section: secSource,
		Doc: "http only: 1-based column holding the URL prefix (scheme and host part)."},
	{Name: "relativePathColumn", Default: "2", Kind: KindInt, Min: 1, Max: math.MaxInt32, Bounded: true, Sources: []string{"http"}, Section: secSource,
		Doc: "http only: 1-based column holding the path that is appended to the prefix and becomes the object name after destPrefix."},
	{Name: "getObjectMetaMode", Default: "stat", Kind: KindEnum, Enum: []string{"stat", "head"}, Sources: []string{"qiniu"}, Section: secSource,
		Doc: "qiniu only: read object metadata with the stat API or with an HTTP HEAD request."},
	{Name: "isAllowSymbolicLink", Default: "false", Kind: KindBool, Sources: []string{"local"}, Section: secSource,
		Doc: "local only: also copy files reached through symbolic links. Links to directories are never followed."},

	{Name: "destAccessKey", Kind: KindString, PartSecret: true, Dests: cloudDests, Section: secDest,
		Doc: "Access key ID for the destination (a RAM user with write and list access is recommended). " +
			"Left empty together with destSecretKey: oss reads OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET/OSS_SESSION_TOKEN, then the ECS instance's RAM role; s3 uses the AWS default chain (environment, shared config and AWS_PROFILE, web identity, ECS/EC2 roles)."},
	{Name: "destSecretKey", Kind: KindString, Secret: true, Dests: cloudDests, Section: secDest,
		Doc: "Secret for destAccessKey."},
	{Name: "destDomain", Kind: KindString, Dests: cloudDests, Section: secDest,
		Doc: "Destination endpoint without the bucket name, e.g. http://oss-cn-hangzhou.aliyuncs.com (use the -internal endpoint on ECS in the same region). For destType=s3 it may be empty to use AWS."},
	{Name: "destBucket", Kind: KindString, Section: secDest,
		Doc: "Destination bucket name only, no '/'. For destType=local: the absolute destination directory."},
	{Name: "destPrefix", Kind: KindString, Section: secDest,
		Doc: "Prefix put in front of every copied file's relative path; must not start with '/' or '\\'. End it with '/' to place the data in a folder."},

	{Name: "taskObjectCountLimit", Default: "10000", Kind: KindInt, Min: 1, Max: 50000, Bounded: true, Section: secTasks,
		Doc: "Most files in one task (1 to 50000). Roughly: total files / workers / workerTaskThreadNum. Too large a value leaves threads idle."},
	{Name: "taskObjectSizeLimit", Default: "1000000000", Kind: KindSize, Min: 1, Max: maxInt64Key, Bounded: true, Section: secTasks,
		Doc: "Most bytes in one task; size suffixes allowed. Ignored for http sources, whose sizes are unknown when tasks are cut."},
	{Name: "isSkipExistFile", Default: "false", Kind: KindBool, Section: secTasks,
		Doc: "When true a file is skipped if the destination already holds an object of the same size and modification time; otherwise it is overwritten."},
	{Name: "scanThreadCount", Default: "1", Kind: KindInt, Min: 1, Max: 32, Bounded: true, Section: secTasks,
		Doc: "Threads listing the source in parallel (1 to 32)."},
	{Name: "maxMultiThreadScanDepth", Default: "1", Kind: KindInt, Min: 1, Max: 16, Bounded: true, Section: secTasks,
		Doc: "Deepest directory level listed in parallel (1 to 16); 1 splits the listing by top-level directory only."},

	{Name: "multipartUploadThreshold", Default: "150m", Kind: KindSize, Section: secUpload,
		Doc: "Files larger than this are uploaded in parts; must be more than 1m. Sizes accept k, m and g suffixes (powers of 1024)."},
	{Name: "multipartUploadPartSize", Default: "50m", Kind: KindSize, Section: secUpload,
		Doc: "Size of each part, at most 5g. Values under 100k are ignored and 50m is used instead."},
	{Name: "uploadThreadNumPerLargeFile", Default: "3", Kind: KindInt, Min: 1, Max: 100, Bounded: true, Sources: []string{"local"}, Section: secUpload,
		Doc: "local only: parts of one large file uploaded at the same time (1 to 100). Above 1, workerRecordMd5 has no effect."},
	{Name: "isServerSideEncryption", Default: "false", Kind: KindBool, Dests: cloudDests, Section: secUpload,
		Doc: "Ask the destination to encrypt the stored objects (server-side encryption)."},

	{Name: "isAuditAfterImport", Default: "true", Kind: KindBool, Section: secAudit,
		Doc: "Verify each file after it has been copied."},
	{Name: "auditMode", Default: "general", Kind: KindEnum, Enum: []string{"simple", "general", "detailed"}, Section: secAudit,
		Doc: "simple compares sizes; general also compares modification time and headers; detailed also compares checksums."},

	{Name: "isUseExpressTunnel", Default: "false", Kind: KindBool, Section: secExpress,
		Doc: "Must stay false: this implementation cannot use an Express Connect proxy. Reach OSS over your leased line or VPC with a normal (internal) endpoint instead."},
	{Name: "expressTunnelProxyHost", Kind: KindString, Section: secExpress,
		Doc: "Proxy URL such as http://192.168.1.10:8080 (read and checked, never used)."},
	{Name: "expressTunnelProxyType", Kind: KindString, Section: secExpress,
		Doc: "default, back-to-source, data-replication or data-migration (read and checked, never used)."},
	{Name: "expressTunnelProxyUser", Kind: KindString, Section: secExpress,
		Doc: "Tunnel user name (never used)."},
	{Name: "expressTunnelProxyDest", Kind: KindString, Section: secExpress,
		Doc: "Destination region of the tunnel, e.g. cn-hangzhou (never used)."},
	{Name: "expressTunnelAuthToken", Kind: KindString, Secret: true, Section: secExpress,
		Doc: "Tunnel authentication token (never used)."},

	{Name: "destRegion", Kind: KindString, Extension: true, Dests: cloudDests, Section: secExtDest,
		Doc: "Region used to sign destination requests; empty means us-east-1 for s3 and the endpoint's region for oss (required when destDomain names none: a custom domain, an IP address, oss-accelerate or a private deployment)."},
	{Name: "srcRegion", Kind: KindString, Extension: true, Sources: regionSrcs, Section: secExtDest,
		Doc: "Region used to sign source requests (oss, s3, bos, ks3, cos, qiniu); empty means the endpoint's region for oss (required when srcDomain names none: a custom domain, an IP address, oss-accelerate or a private deployment), the region KS3 names a ks3 endpoint by (BEIJING for ks3-cn-beijing.ksyuncs.com) and us-east-1 for s3."},
	{Name: "destStorageClass", Kind: KindString, Extension: true, Dests: cloudDests, Section: secExtDest,
		Doc: "Storage class of new objects; empty keeps the bucket default. oss: Standard, IA, Archive, ColdArchive or DeepColdArchive; s3: the service's name, e.g. STANDARD_IA."},
	{Name: "destUsePathStyle", Default: "auto", Kind: KindEnum, Enum: []string{"auto", "true", "false"}, Extension: true, Dests: cloudDests, Section: secExtDest,
		Doc: "Address the destination bucket as http://host/bucket (true) or http://bucket.host (false); auto picks path style when the endpoint host is an IP address or localhost."},
	{Name: "destChecksum", Default: "auto", Kind: KindEnum, Enum: []string{"auto", "crc32c", "md5"}, Extension: true, Dests: []string{"s3"}, Section: secExtDest,
		Doc: "s3 only: how each write is proven. crc32c sends every object's (and part's) CRC-32C with it for the service to check, and compares the one it returns (S3 flexible checksums; Amazon S3, MinIO, Ceph RGW 19 and later, versitygw): the cheapest proof, in hardware. md5 compares ETags with the content MD5, which every S3 service supports and costs the client about half its CPU on large files. auto picks crc32c for Amazon S3 over https; elsewhere it sends each object of up to 256 KiB, read whole first, with its CRC-32C in a header (never a trailer), and the service's first answer decides: one that returns the CRC-32C proves every such object by it from then on, one that ignores or refuses the header gets md5 (a refused object is sent again without it); larger objects use md5."},
	{Name: "srcUseCname", Default: "false", Kind: KindBool, Extension: true, Sources: []string{"oss"}, Section: secExtDest,
		Doc: "oss only: srcDomain is a custom domain bound (CNAME) to the source bucket, e.g. https://files.example.com; requests go to https://files.example.com/<key>, without the bucket in the host or path. Set srcRegion to the bucket's region."},
	{Name: "destUseCname", Default: "false", Kind: KindBool, Extension: true, Dests: []string{"oss"}, Section: secExtDest,
		Doc: "oss only: destDomain is a custom domain bound (CNAME) to the destination bucket, e.g. https://files.example.com; requests go to https://files.example.com/<key>. Needed for mainland-China buckets of accounts that OSS refuses on the default public endpoints (PublicEndpointForbidden). Set destRegion to the bucket's region."},
	{Name: "srcSecurityToken", Kind: KindString, Secret: true, Extension: true, Sources: tokenSrcs, Section: secExtDest,
		Doc: "STS security (session) token that goes with temporary srcAccessKey/srcSecretKey credentials; empty for long-term keys. Never shown or logged."},
	{Name: "destSecurityToken", Kind: KindString, Secret: true, Extension: true, Dests: cloudDests, Section: secExtDest,
		Doc: "STS security (session) token that goes with temporary destAccessKey/destSecretKey credentials; empty for long-term keys. Never shown or logged."},
	{Name: "dirMarkers", Default: "auto", Kind: KindEnum, Enum: []string{"auto", "copy", "skip"}, Extension: true, Section: secExtDest,
		Doc: "Zero-byte keys ending in '/' (directory markers): auto copies them when source and destination are both object stores and reports them Skipped otherwise (local folders and URL lists have none); copy always tries to copy them; skip reports every one Skipped. A '/' key holding data is always copied or reported, never dropped."},
	{Name: "srcUsePathStyle", Default: "auto", Kind: KindEnum, Enum: []string{"auto", "true", "false"}, Extension: true, Sources: s3Like, Section: secExtDest,
		Doc: "Same as destUsePathStyle, for the source."},

	{Name: "includePatterns", Kind: KindList, Extension: true, Section: secExtFilt,
		Doc: "Comma-separated shell patterns; when set, only files whose path relative to srcPrefix matches one of them are copied. A pattern without '/' matches the file name in any directory; '**' as a whole path element matches any number of directories."},
	{Name: "excludePatterns", Kind: KindList, Extension: true, Section: secExtFilt,
		Doc: "Comma-separated shell patterns, written like includePatterns; matching files are skipped. Exclusion wins over inclusion."},
	{Name: "minFileSize", Default: "0", Kind: KindSize, Extension: true, Section: secExtFilt,
		Doc: "Skip files smaller than this (size suffixes allowed); 0 means no lower limit."},
	{Name: "maxFileSize", Default: "0", Kind: KindSize, Extension: true, Section: secExtFilt,
		Doc: "Skip files larger than this; 0 means no upper limit."},
}
