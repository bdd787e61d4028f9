package config

import "math"

// Template sections of sys.properties.
const (
	secSysBase  = "Service"
	secSysSSH   = "Workers and SSH (distributed mode)"
	secSysWork  = "Worker behaviour"
	secSysNATS  = "Extensions: messaging (NATS)"
	secSysLimit = "Extensions: rate limits"
	secSysOps   = "Extensions: logging, metrics and task delivery"
)

// MaxWorkerTaskThreads is workerTaskThreadNum's upper bound, and the
// most objects an adaptive worker (workerTaskThreadAdaptive) copies at
// once.
const MaxWorkerTaskThreads = 1000

var sysKeys = []Key{
	{Name: "workingDir", Default: ".", Section: secSysBase,
		Doc: "Directory holding job state and logs. Relative paths are taken from the package directory (the parent of conf/). Distributed mode needs the same absolute path on every machine; point it at an empty directory of its own."},
	{Name: "javaHeapMaxSize", Default: "1024m", Kind: KindSize, Min: 64 * MiB, Max: maxInt64Key, Bounded: true, Section: secSysBase,
		Doc: "Memory target of the service (kept under this name for compatibility). Applied as the Go runtime's soft memory limit: the garbage collector works harder near it. Empty means 1024m."},
	{Name: "dispatcherThreadNum", Default: "1", Kind: KindInt, Min: 1, Max: 1000, Bounded: true, Section: secSysBase,
		Doc: "Goroutines handing out tasks and confirming their state."},

	{Name: "workerUserName", Section: secSysSSH, Aliases: []Alias{{Name: "workerUser"}, {Name: "slaveUserName", Legacy: true}},
		Doc: "SSH user on the workers; all workers share it (workerUser is accepted too)."},
	{Name: "workerPassword", Secret: true, Section: secSysSSH, Aliases: []Alias{{Name: "slavePassword", Legacy: true}},
		Doc: "SSH password for workerUserName; privateKeyFile wins when both are set."},
	{Name: "privateKeyFile", Section: secSysSSH,
		Doc: "SSH private key used instead of the password."},
	{Name: "sshPort", Default: "22", Kind: KindInt, Min: 1, Max: 65535, Bounded: true, Section: secSysSSH,
		Doc: "SSH port of the workers; a host in conf/workers may override it with host:port."},
	{Name: "sshKnownHostsFile", Default: "~/.ssh/known_hosts", Extension: true, Section: secSysSSH,
		Doc: "Extension. known_hosts file used to check the workers' SSH host keys."},
	{Name: "sshAcceptUnknownHostKeys", Default: "false", Kind: KindBool, Extension: true, Section: secSysSSH,
		Doc: "Extension. When true, hosts missing from sshKnownHostsFile are trusted on first use and added; this opens the door to man-in-the-middle attacks."},

	{Name: "workerTaskThreadNum", Default: "60", Kind: KindInt, Min: 1, Max: MaxWorkerTaskThreads, Bounded: true, Section: secSysWork,
		Aliases: []Alias{{Name: "slaveTaskThreadNum", Legacy: true}},
		Doc:     "Files each worker copies at the same time (1 to 1000). About 60 suits most machines; lower it on slow links or when timeouts appear."},
	{Name: "workerTaskThreadAdaptive", Default: "false", Kind: KindBool, Extension: true, Section: secSysWork,
		Doc: "true: each worker starts at workerTaskThreadNum files at once and takes more, up to four times as many, while each step raises its throughput (a distant or slow-to-answer destination); it steps back when more stop paying, never below workerTaskThreadNum, and tries again from time to time. false: it copies workerTaskThreadNum files at once."},
	{Name: "workerMaxThroughput(KB/s)", Default: "0", Kind: KindInt, Min: 0, Max: maxInt64Key, Bounded: true, Section: secSysWork,
		Aliases: []Alias{{Name: "slaveMaxThroughput(KB/s)", Legacy: true}},
		Doc:     "Bandwidth cap of each worker in KB/s; 0 means no cap. workerMaxThroughputSchedule overrides it when set."},
	{Name: "workerAbortWhenUncatchedException", Default: "false", Kind: KindBool, Section: secSysWork,
		Aliases: []Alias{{Name: "slaveAbortWhenUncatchedException", Legacy: true}},
		Doc:     "On an unexpected error, false skips the file and goes on; true fails the whole task."},
	{Name: "workerRecordMd5", Default: "false", Kind: KindBool, Section: secSysWork,
		Doc: "Store each file's MD5 in the object's x-oss-meta-md5 metadata. Has no effect when uploadThreadNumPerLargeFile is above 1."},

	{Name: "natsUrl", Kind: KindList, Extension: true, Section: secSysNATS,
		Doc: "Empty: the master runs an embedded NATS server. Otherwise comma-separated nats:// or tls:// URLs of an external NATS cluster."},
	{Name: "natsPort", Default: "4222", Kind: KindInt, Min: 1, Max: 65535, Bounded: true, Extension: true, Section: secSysNATS,
		Doc: "Client port of the embedded NATS server."},
	{Name: "natsListen", Extension: true, Section: secSysNATS,
		Doc: "Address the embedded NATS server binds to; empty means 127.0.0.1 in standalone mode and 0.0.0.0 in distributed mode."},
	{Name: "natsTlsCert", Extension: true, Section: secSysNATS,
		Doc: "Certificate file (PEM) enabling TLS for NATS; set together with natsTlsKey."},
	{Name: "natsTlsKey", Extension: true, Section: secSysNATS,
		Doc: "Private key file (PEM) for natsTlsCert."},
	{Name: "natsTlsCaFile", Extension: true, Section: secSysNATS,
		Doc: "CA bundle (PEM) used to verify NATS peers."},
	{Name: "natsAutoTls", Default: "true", Kind: KindBool, Extension: true, Section: secSysNATS,
		Doc: "In distributed mode (conf/workers lists other machines) with natsTlsCert empty and no natsUrl, NATS traffic (clients and routes) is encrypted with TLS from a private CA that deploy generates in <workingDir>/nats/tls/ (the CA key stays on the first host; workers get the CA certificate, the hosts that run NATS servers the server certificate and key). false sends NATS traffic in clear text, as ossimport did."},
	{Name: "natsCredsFile", Extension: true, Section: secSysNATS,
		Doc: "Credentials or token file for connecting to an external NATS (natsUrl)."},
	{Name: "natsReplicas", Default: "0", Kind: KindInt, Min: 0, Max: 5, Bounded: true, Extension: true, Section: secSysNATS,
		Doc: "Replicas of every JetStream stream, key-value bucket and object store (0 to 5). 0 means automatic: 3 when the NATS the service uses is a cluster that can place 3 replicas (natsUrl naming a cluster of 3 or more servers, or natsEmbeddedCluster), 1 for the single embedded server. The service brings existing state up to it at start; automatic never lowers what exists. check and start warn when state would be unreplicated on a cluster."},
	{Name: "natsEmbeddedCluster", Default: "false", Kind: KindBool, Extension: true, Section: secSysNATS,
		Doc: "When true (and natsUrl is empty), the first three hosts of conf/workers each run the service: an embedded NATS server joined into one JetStream cluster on natsClusterPort (state replicated three times without an external NATS), a standby master and a worker. console start on the first host starts the other two over SSH with its token; every host routes to the other two with that token (and TLS, when set). Needs at least three hosts in conf/workers."},
	{Name: "natsClusterPort", Default: "6222", Kind: KindInt, Min: 1, Max: 65535, Bounded: true, Extension: true, Section: secSysNATS,
		Doc: "Route port the embedded NATS servers of natsEmbeddedCluster listen on and dial each other at."},

	{Name: "workerMaxThroughputSchedule", Kind: KindSchedule, Extension: true, Section: secSysLimit,
		Doc: "Bandwidth timetable per worker, e.g. 08:00,512k 12:00,10M 18:00,off (bytes per second, k/M/G = 1024 multiples, off or 0 = no cap). Entries may start with a weekday: Mon-08:00,10M. Overrides workerMaxThroughput(KB/s)."},
	{Name: "workerMaxRequestRate", Default: "0", Kind: KindInt, Min: 0, Max: math.MaxInt32, Bounded: true, Extension: true, Section: secSysLimit,
		Doc: "Most requests per second each worker sends to source and destination together; 0 means no cap."},

	{Name: "logLevel", Default: "info", Kind: KindEnum, Enum: []string{"debug", "info", "warn", "error"}, Extension: true, Section: secSysOps,
		Doc: "Least severe log level written: debug, info, warn or error."},
	{Name: "logMaxSize", Default: "100m", Kind: KindSize, Min: 1 * MiB, Max: maxInt64Key, Bounded: true, Extension: true, Section: secSysOps,
		Doc: "Size at which a log file is rotated."},
	{Name: "logMaxFiles", Default: "5", Kind: KindInt, Min: 1, Max: 1000, Bounded: true, Extension: true, Section: secSysOps,
		Doc: "Rotated log files kept."},
	{Name: "httpListen", Default: "127.0.0.1:8086", Extension: true, Section: secSysOps,
		Doc: "host:port of the master's status page and /metrics; empty turns it off. It has no authentication, so keep it on a trusted network."},
	{Name: "httpAllowedHosts", Kind: KindList, Extension: true, Section: secSysOps,
		Doc: "Host names, besides IP addresses, localhost, the httpListen host and this machine's name, under which browsers may reach the status page and /metrics, e.g. ossimport.example.com,*.corp.example; requests naming any other host are refused (protection against DNS rebinding)."},
	{Name: "workerHttpListen", Extension: true, Section: secSysOps,
		Doc: "host:port of each worker's /metrics; empty turns it off."},
	{Name: "taskAckWait", Default: "300", Kind: KindSeconds, Min: 10, Max: maxInt64Key, Bounded: true, Extension: true, Section: secSysOps,
		Doc: "Seconds a worker may stay silent about a task before it is handed to another worker (at least 10)."},
	{Name: "workerRetryBudget", Default: "120", Kind: KindSeconds, Min: 1, Max: maxInt64Key, Bounded: true, Extension: true, Section: secSysOps,
		Doc: "Seconds a worker keeps retrying a file after a temporary error (timeouts, refused connections, 5xx, throttling), counted from its first one, waiting longer each time (exponential backoff with jitter, at most 30 s between tries), so that an outage of the source or destination shorter than this fails no file (at least 1). Keep it well below taskAckWait × taskMaxDeliver."},
	{Name: "taskMaxDeliver", Default: "5", Kind: KindInt, Min: 1, Max: 1000, Bounded: true, Extension: true, Section: secSysOps,
		Doc: "How many times a task is handed out before it is marked failed (at least 1)."},
	{Name: "workerProgressInterval", Default: "2000", Kind: KindMillis, Min: 100, Max: maxInt64Key, Bounded: true, Extension: true, Section: secSysOps,
		Doc: "Milliseconds between a worker's progress reports of each running task (files and bytes done, counting the bytes already read of files still being copied), shown by stat and the dashboard (at least 100)."},
	{Name: "workerHeartbeatInterval", Default: "5", Kind: KindSeconds, Min: 1, Max: 3600, Bounded: true, Extension: true, Section: secSysOps,
		Doc: "Seconds between a worker's heartbeats; a worker silent for three intervals is shown lost. Every machine must use the same value (1 to 3600)."},
}
