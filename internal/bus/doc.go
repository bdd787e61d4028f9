// Package bus carries all coordination between the master, the tracker,
// the workers and the console over NATS JetStream. By default the master
// embeds nats-server ([StartServer]) with a JetStream file store under the
// working directory; natsUrl in sys.properties points every process at an
// external NATS cluster instead. Queues, leases, redelivery and
// replication are JetStream's: this package only names and wires them.
//
// # Layout
//
// [Bus.Setup] creates or updates everything below (idempotently):
//
//	asset                       subjects / keys                 retention, limits               producer → consumer
//	--------------------------  ------------------------------  ------------------------------  -------------------------------------
//	stream OSSIMPORT_TASKS      ossimport.task.<job>            work queue; dedup 24h by        master PublishTask, RetryTask →
//	  (task queue)                                              Nats-Msg-Id = task ID;          workers NextTask via one durable pull
//	                                                            republishes headers only to     consumer task_<job> per job
//	                                                            ossimport.ready.<job>           (AckExplicit, AckWait, MaxDeliver,
//	                                                                                            MaxAckPending)
//	core subject (wake-up)      ossimport.ready.<job>           not stored                      server → idle NextTask
//	stream OSSIMPORT_DEAD       $JS.EVENT.ADVISORY.CONSUMER.    work queue; 7 days              server advisories → tracker
//	  (dead tasks)              MAX_DELIVERIES.OSSIMPORT_TASKS.*                                DeadTasks (durable "tracker")
//	stream OSSIMPORT_RESULTS    ossimport.result.<job>          limits, no age limit: a job's   master Append (planned tasks,
//	  (job journals)            header Ossimport-Kind: "",      entries stay until clean        retries, aborts, cleans, dead-task
//	                            planned, requeue, abort, clean  (PurgeJob); dedup 24h by        failures), workers PublishResult →
//	                                                            Nats-Msg-Id where given         every service's tracker Follow
//	                                                                                            (ordered consumer from its view's
//	                                                                                            marker)
//	object store                task/<job>/<task>/<nuid>,       deleted on ack, term,           PublishTask, PublishResult →
//	  OSSIMPORT_TASKDATA        result/<job>/<task>/<nuid>      dead-task ack; results kept     TaskMsg.Data, Follow, DeadTask.Data
//	                                                            until PurgeJob
//	KV OSSIMPORT_JOBS           <job>                           history 1                       console CreateJob → master, console
//	KV OSSIMPORT_CHECKPOINTS    <job>                           history 1                       master planner → master
//	KV OSSIMPORT_WORKERS        <worker>                        history 1; TTL 3 × heartbeat    workers Heartbeat → master, console
//	                                                            interval; expiry markers        (Watch reports expiry as Deleted)
//	KV OSSIMPORT_UPLOADS        <job>.<task>.<hash of the       history 1; a removal's marker   workers PutUpload on a multipart
//	  (unfinished multipart     source key> → {key, dst,        expires after 1 minute          upload's start, DeleteUpload at its
//	  uploads)                  uploadId, partSize, started,                                    end → the task's next worker
//	                            worker}                                                         TaskUploads (resumes), clean
//	                                                                                            JobUploads (aborts)
//	KV OSSIMPORT_LEADER         master → {name, since,          history 1; TTL (LeaseTTL,       every service's master Lead (create,
//	  (master lease)            renewed}                        10s)                            renew by revision) → stat's view
//	KV OSSIMPORT_OWNERS         <job>.<task> → {worker, stream, history 1; a release's marker     workers TaskMsg.Claim at a delivery's
//	  (task ownership)          delivery, delivered, at, ack    expires after 1 minute; purged  start (CAS on the revision; the latest
//	                            subject}                        by PurgeQueue (abort, clean)    delivery wins), Claim.Check before
//	                                                                                            every write, Release after the ack;
//	                                                                                            active master LostClaims + HandBack (NAKs a
//	                                                                                            lost worker's delivery at once)
//	core subject (progress)     ossimport.progress.<job>        not stored                      workers → tracker, console
//	core request/reply          ossimport.control.<verb>,       not stored                      console Request → active master
//	  (control)                 queue group "master"                                            HandleControl (retry, clean)
//	core request/reply          ossimport.service.<service>.    not stored                      console RequestService → that
//	  (one service)             <verb>                                                          service's HandleService (ping, stop)
//
//	All streams and buckets use file storage and SetupOptions.Replicas
//	(natsReplicas): by default 3 on a NATS cluster that can place 3
//	replicas, 1 on a lone server, never less than an existing asset has;
//	the master's Setup (Update) scales existing assets to it in place.
//	stream OSSIMPORT_PROBE_<nuid> (memory, R=n, deleted at once) is
//	CanPlace's placement probe.
//
// # Clusters
//
// natsUrl may name several servers of a cluster; connections also use
// the servers the cluster advertises, and reconnect forever to whichever
// is up. With natsEmbeddedCluster, ServerOptions.Cluster routes embedded
// servers into one JetStream cluster. Connect and Setup take a [Retry]
// that waits out a cluster electing leaders ([Transient] errors).
//
// Message headers: Ossimport-Job, Ossimport-Task, Ossimport-Worker
// (progress), Ossimport-Size (original payload length), Ossimport-Encoding
// ("zstd"), Ossimport-Object (payload stored apart), Ossimport-Error
// (control reply).
//
// # Payload sizes
//
// A task or result payload larger than 64 KiB is zstd-compressed when
// that makes it smaller (a task's object list shrinks about fivefold:
// smaller streams, and smaller NATS write caches); one still larger than
// the server's max payload (asked from the connection) minus 8 KiB of
// headroom goes to the OSSIMPORT_TASKDATA object store and the message
// carries only its name. Payloads are never truncated, and
// readers get the original bytes whichever way they travelled. Key-value
// values too large for one message are stored compressed, prefixed with
// a marker; beyond that Put fails with [ErrTooLarge].
//
// # Delivery guarantees
//
// Tasks are delivered at least once. A worker holding a task must call
// [TaskMsg.InProgress] well within AckWait; a worker that dies or hangs
// loses the task to another worker after AckWait. Each delivery claims
// its task ([TaskMsg.Claim]) and checks the claim ([Claim.Check]) right
// before each write to the destination, so a worker that wakes up after
// its task was handed on (or its job cleaned) finds [ErrNotOwner] and
// writes nothing more (fencing). A task delivered
// MaxDeliver times without an ack is reported by [Bus.DeadTasks].
//
// Deduplication by task ID is best effort: it holds within the
// Duplicates window (24h) while the task is queued, but an embedded server
// restarted by a master crash only remembers the IDs of tasks still in
// the stream, and a window can pass. The tracker therefore treats a task
// ID it already knows (pending, running or finished) as idempotent
// whatever the bus delivers, and [Bus.Follow] handlers must be
// idempotent by task ID.
//
// # Journals and the master lease
//
// Everything that decides what happens next lives in JetStream: job specs,
// scan checkpoints and multipart upload records in their buckets, and the
// rest in each job's journal (OSSIMPORT_RESULTS), in one order: the tasks
// planned, the workers' results, retries, aborts, a clean. Every service
// files the journal into its own working-directory view, which is thus a
// projection that can be rebuilt at any time. One service holds the
// master lease ([Bus.Lead]) and plans, decides and answers the console;
// the others stand by with a current view and take over within a TTL. [Bus.RetryTask] uses a distinct ID per attempt so
// a retry is not swallowed as a duplicate.
//
// # Security
//
// Authentication is always on: the embedded server generates a random
// token at first start and keeps it, mode 0600, in ServerOptions.TokenFile
// (refusing a group- or world-readable file). Workers use the same file as
// natsCredsFile. TLS is enabled by natsTlsCert and natsTlsKey.
//
// The embedded server's JetStream store is encrypted at rest (nats-server
// store encryption, AES-GCM) with a random key kept, mode 0600, in
// ServerOptions.KeyFile (store.key beside the token file by default): job
// configs and their credentials are never in clear on disk. A store made
// by an earlier, unencrypted version is encrypted by nats-server as it
// loads it with the new key; an encrypted store whose key is missing is
// refused rather than opened with a new key.
//
// The package returns errors and never logs; the embedded server's own
// log goes to ServerOptions.Logger (discarded by default).
package bus
