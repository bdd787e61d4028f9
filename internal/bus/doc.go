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
//	what           kind / name                      subjects / keys               retention and limits                    written by          read by
//	-------------  -------------------------------  ----------------------------  --------------------------------------  ------------------  ---------------------------------
//	task queue     stream OSSIMPORT_TASKS           ossimport.task.<job>          work queue, file, dedup window 24h      master PublishTask  workers NextTask: durable pull
//	                                                                              (Nats-Msg-Id = task ID), republishes                        consumer task_<job> per job,
//	                                                                              headers only to ossimport.ready.<job>                      AckExplicit, AckWait, MaxDeliver,
//	                                                                                                                                          MaxAckPending
//	task wake-up   core subject                     ossimport.ready.<job>         not stored                              the server          idle NextTask
//	dead tasks     stream OSSIMPORT_DEAD            $JS.EVENT.ADVISORY.CONSUMER.  work queue, 7 days                      the server          tracker DeadTasks (durable
//	                                                MAX_DELIVERIES.                                                                           consumer "tracker")
//	                                                OSSIMPORT_TASKS.*
//	results        stream OSSIMPORT_RESULTS         ossimport.result.<job>        limits, 7 days                          workers             tracker Results (durable
//	                                                                                                                      PublishResult       consumer "tracker")
//	big payloads   object store OSSIMPORT_TASKDATA  task/<job>/<task>/<nuid>,     deleted on ack, term, dead-task ack     PublishTask,        TaskMsg.Data, Results,
//	                                                result/<job>/<task>/<nuid>    and PurgeJob                            PublishResult       DeadTask.Data
//	jobs           KV OSSIMPORT_JOBS                <job>                         history 1                               console CreateJob   master, console
//	checkpoints    KV OSSIMPORT_CHECKPOINTS         <job>                         history 1                               master (planner)    master
//	workers        KV OSSIMPORT_WORKERS             <worker>                      history 1, TTL 3 × heartbeat interval,  workers Heartbeat   master, console (Watch)
//	                                                                              expiry markers (Watch sees Deleted)
//	progress       core subject                     ossimport.progress.<job>      not stored                              workers             tracker, console
//	control        core request/reply, queue        ossimport.control.<verb>      not stored                              console Request     master HandleControl
//	               group "master"
//
// Message headers: Ossimport-Job, Ossimport-Task, Ossimport-Worker
// (progress), Ossimport-Size (original payload length), Ossimport-Encoding
// ("zstd"), Ossimport-Object (payload stored apart), Ossimport-Error
// (control reply).
//
// # Payload sizes
//
// A task or result payload larger than the server's max payload (asked
// from the connection) minus 8 KiB of headroom is zstd-compressed; if it
// is still too large it goes to the OSSIMPORT_TASKDATA object store and
// the message carries only its name. Payloads are never truncated, and
// readers get the original bytes whichever way they travelled. Key-value
// values too large for one message are stored compressed, prefixed with
// a marker; beyond that Put fails with [ErrTooLarge].
//
// # Delivery guarantees
//
// Tasks are delivered at least once. A worker holding a task must call
// [TaskMsg.InProgress] well within AckWait; a worker that dies or hangs
// loses the task to another worker after AckWait. A task delivered
// MaxDeliver times without an ack is reported by [Bus.DeadTasks].
//
// Deduplication by task ID is best effort: it holds within the
// Duplicates window (24h) while the task is queued, but an embedded server
// restarted by a master crash only remembers the IDs of tasks still in
// the stream, and a window can pass. The tracker therefore treats a task
// ID it already knows (pending, running or finished) as idempotent
// whatever the bus delivers, and [Bus.Results] handlers must be
// idempotent by task ID. [Bus.RetryTask] uses a distinct ID per attempt so
// a retry is not swallowed as a duplicate.
//
// # Security
//
// Authentication is always on: the embedded server generates a random
// token at first start and keeps it, mode 0600, in ServerOptions.TokenFile
// (refusing a group- or world-readable file). Workers use the same file as
// natsCredsFile. TLS is enabled by natsTlsCert and natsTlsKey.
//
// The package returns errors and never logs; the embedded server's own
// log goes to ServerOptions.Logger (discarded by default).
package bus
