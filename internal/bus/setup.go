package bus

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Names of the JetStream assets (see the table in the package doc).
const (
	TaskStream        = "OSSIMPORT_TASKS"
	ResultStream      = "OSSIMPORT_RESULTS"
	DeadStream        = "OSSIMPORT_DEAD"
	TaskDataBucket    = "OSSIMPORT_TASKDATA"
	JobsBucket        = "OSSIMPORT_JOBS"
	CheckpointsBucket = "OSSIMPORT_CHECKPOINTS"
	WorkersBucket     = "OSSIMPORT_WORKERS"
	UploadsBucket     = "OSSIMPORT_UPLOADS"
)

// Subjects and consumer names.
const (
	taskPrefix     = "ossimport.task."
	readyPrefix    = "ossimport.ready."
	resultPrefix   = "ossimport.result."
	progressPrefix = "ossimport.progress."
	controlPrefix  = "ossimport.control."
	deadAdvisories = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + TaskStream + ".*"
	taskConsumerP  = "task_"
	trackerName    = "tracker"
	controlQueue   = "master"
)

// Defaults of SetupOptions.
const (
	DefaultAckWait           = 5 * time.Minute
	DefaultMaxDeliver        = 5
	DefaultMaxAckPending     = 1024
	DefaultHeartbeatInterval = 10 * time.Second
	DefaultDuplicates        = 24 * time.Hour
	DefaultRetention         = 7 * 24 * time.Hour
	DefaultRedeliveryPoll    = time.Second
)

// SetupOptions tune the streams, buckets and consumers. Every process of
// an installation must pass the same values (they come from
// sys.properties); zero fields take the defaults above.
type SetupOptions struct {
	// AckWait is how long a worker may hold a task without acknowledging
	// it or calling InProgress before it is redelivered to another worker.
	AckWait time.Duration
	// MaxDeliver is how many times a task is delivered before it is
	// reported by DeadTasks.
	MaxDeliver int
	// MaxAckPending bounds the tasks of one job running at once across
	// all workers.
	MaxAckPending int
	// Replicas is the replication factor of every stream and bucket
	// (natsReplicas); 0 means DefaultReplicas: ClusterReplicas on a NATS
	// cluster that can place them, 1 on a lone server, and never less
	// than an existing asset has. With Update, existing assets are
	// brought to it (JetStream scales a stream's replicas in place).
	Replicas int
	// HeartbeatInterval is how often workers call Heartbeat; a worker key
	// expires after three intervals without one.
	HeartbeatInterval time.Duration
	// Duplicates is the window in which a task ID is deduplicated.
	Duplicates time.Duration
	// Retention is how long results and dead-task events are kept when
	// nobody consumes them.
	Retention time.Duration
	// Update brings existing streams and buckets up to the configuration
	// given. Only the service's master sets it; workers and the console
	// create what is missing and use what exists, so that many clients
	// starting at once do not update the same streams concurrently.
	Update bool
	// LeaseTTL is how long the master lease lives without a renewal
	// (DefaultLeaseTTL).
	LeaseTTL time.Duration
	// RedeliveryPoll is how often an idle NextTask looks again for tasks
	// that became available without a publish (ack timeouts, delayed
	// naks) and for new jobs.
	RedeliveryPoll time.Duration
	// Retry waits out a cluster electing leaders (see Transient); the
	// zero value fails at the first error.
	Retry Retry
}

func (o *SetupOptions) fill() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.AckWait, DefaultAckWait)
	def(&o.HeartbeatInterval, DefaultHeartbeatInterval)
	def(&o.Duplicates, DefaultDuplicates)
	def(&o.Retention, DefaultRetention)
	def(&o.RedeliveryPoll, DefaultRedeliveryPoll)
	def(&o.LeaseTTL, DefaultLeaseTTL)
	if o.MaxDeliver <= 0 {
		o.MaxDeliver = DefaultMaxDeliver
	}
	if o.MaxAckPending <= 0 {
		o.MaxAckPending = DefaultMaxAckPending
	}
	if o.Replicas < 0 {
		o.Replicas = 0
	}
}

// state holds the handles Setup created.
type state struct {
	opts                   SetupOptions
	tasks, results, dead   jetstream.Stream
	data                   jetstream.ObjectStore
	jobs, checkpoints, wkr jetstream.KeyValue
	uploads, leader        jetstream.KeyValue
	owners                 jetstream.KeyValue
}

// Setup creates or updates every stream, bucket and consumer the bus
// uses. It is idempotent and must be called once per connection before
// the other methods. With opts.Retry it tries again, with backoff, while
// the cluster answers as it does during a leader election (Transient).
func (b *Bus) Setup(ctx context.Context, opts SetupOptions) error {
	opts.fill()
	return opts.Retry.do(ctx, "set up JetStream", Transient, func() error { return b.setup(ctx, opts) })
}

func (b *Bus) setup(ctx context.Context, opts SetupOptions) error {
	st := &state{opts: opts}
	plan := &replicaPlan{b: b, configured: opts.Replicas}
	var err error
	streams := []struct {
		dst *jetstream.Stream
		cfg jetstream.StreamConfig
	}{
		{&st.tasks, taskStreamConfig(opts)},
		{&st.results, resultStreamConfig(opts)},
		{&st.dead, deadStreamConfig(opts)},
	}
	for _, s := range streams {
		if *s.dst, err = b.stream(ctx, s.cfg, opts.Update, plan); err != nil {
			return fmt.Errorf("bus: create stream %s: %w", s.cfg.Name, err)
		}
	}
	ex, err := b.existing(ctx, "OBJ_"+TaskDataBucket)
	switch {
	case err != nil:
	case ex != nil && !opts.Update:
		st.data, err = bounded(ctx, b.timeout, func(ctx context.Context) (jetstream.ObjectStore, error) { return b.js.ObjectStore(ctx, TaskDataBucket) })
	default:
		var r int
		if r, err = plan.forAsset(ctx, ex); err == nil {
			cfg := jetstream.ObjectStoreConfig{
				Bucket: TaskDataBucket, Description: "ossimport task and result payloads too large for one message",
				Storage: jetstream.FileStorage, Replicas: r,
			}
			st.data, err = bounded(ctx, b.timeout, func(ctx context.Context) (jetstream.ObjectStore, error) {
				return b.js.CreateOrUpdateObjectStore(ctx, cfg)
			})
		}
	}
	if err != nil {
		return fmt.Errorf("bus: create object store %s: %w", TaskDataBucket, err)
	}
	if err := b.setupKV(ctx, st, plan); err != nil {
		return err
	}
	if opts.Update {
		// Results were once read by a durable consumer; journals are
		// followed by ordered consumers now.
		if err := st.results.DeleteConsumer(ctx, trackerName); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return fmt.Errorf("bus: remove the old results consumer: %w", err)
		}
	}
	b.mu.Lock()
	b.st = st
	b.mu.Unlock()
	return nil
}

func (b *Bus) setupKV(ctx context.Context, st *state, plan *replicaPlan) error {
	ttl := 3 * st.opts.HeartbeatInterval
	buckets := []struct {
		dst *jetstream.KeyValue
		cfg jetstream.KeyValueConfig
	}{
		{&st.jobs, jetstream.KeyValueConfig{Bucket: JobsBucket, Description: "ossimport jobs: name -> spec and state"}},
		{&st.checkpoints, jetstream.KeyValueConfig{Bucket: CheckpointsBucket, Description: "ossimport scan checkpoints: job -> checkpoint"}},
		{&st.wkr, jetstream.KeyValueConfig{Bucket: WorkersBucket, Description: "ossimport live workers: name -> heartbeat",
			TTL: ttl, LimitMarkerTTL: max(ttl, time.Second)}}, // the server's minimum
		{&st.uploads, jetstream.KeyValueConfig{Bucket: UploadsBucket, Description: "ossimport unfinished multipart uploads: job.task.hash(key) -> upload",
			LimitMarkerTTL: uploadMarkerTTL}}, // lets removals leave markers that expire
		{&st.leader, jetstream.KeyValueConfig{Bucket: LeaderBucket, Description: "ossimport master lease: master -> holder",
			TTL: st.opts.LeaseTTL}},
		{&st.owners, jetstream.KeyValueConfig{Bucket: OwnersBucket, Description: "ossimport task ownership: job.task -> the delivery that owns it",
			LimitMarkerTTL: ownerMarkerTTL}},
	}
	for _, kv := range buckets {
		kv.cfg.History = 1
		kv.cfg.Storage = jetstream.FileStorage
		ex, err := b.existing(ctx, "KV_"+kv.cfg.Bucket)
		switch {
		case err != nil:
		case ex != nil && !st.opts.Update:
			*kv.dst, err = bounded(ctx, b.timeout, func(ctx context.Context) (jetstream.KeyValue, error) { return b.js.KeyValue(ctx, kv.cfg.Bucket) })
		default:
			if kv.cfg.Replicas, err = plan.forAsset(ctx, ex); err == nil {
				*kv.dst, err = bounded(ctx, b.timeout, func(ctx context.Context) (jetstream.KeyValue, error) { return b.js.CreateOrUpdateKeyValue(ctx, kv.cfg) })
			}
		}
		if err != nil {
			return fmt.Errorf("bus: create key-value bucket %s: %w", kv.cfg.Bucket, err)
		}
	}
	return nil
}

// stream returns the stream of cfg, creating it when missing and
// updating it only when update is set.
func (b *Bus) stream(ctx context.Context, cfg jetstream.StreamConfig, update bool, plan *replicaPlan) (jetstream.Stream, error) {
	s, err := b.existing(ctx, cfg.Name)
	if err != nil {
		return nil, err
	}
	if s != nil && !update {
		return s, nil
	}
	if cfg.Replicas, err = plan.forAsset(ctx, s); err != nil {
		return nil, err
	}
	return bounded(ctx, b.timeout, func(ctx context.Context) (jetstream.Stream, error) { return b.js.CreateOrUpdateStream(ctx, cfg) })
}

// existing returns the stream name, nil (and no error) when there is
// none.
func (b *Bus) existing(ctx context.Context, name string) (jetstream.Stream, error) {
	s, err := bounded(ctx, b.timeout, func(ctx context.Context) (jetstream.Stream, error) { return b.js.Stream(ctx, name) })
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

func taskStreamConfig(o SetupOptions) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        TaskStream,
		Description: "ossimport task queue, one subject per job",
		Subjects:    []string{taskPrefix + ">"},
		Retention:   jetstream.WorkQueuePolicy,
		Discard:     jetstream.DiscardNew,
		Storage:     jetstream.FileStorage,
		Duplicates:  o.Duplicates,
		RePublish: &jetstream.RePublish{
			Source: taskPrefix + ">", Destination: readyPrefix + ">", HeadersOnly: true,
		},
	}
}

func resultStreamConfig(o SetupOptions) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        ResultStream,
		Description: "ossimport job journals (tasks planned, results, retries, aborts), one subject per job; kept until the job is cleaned",
		Subjects:    []string{resultPrefix + ">"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Duplicates:  o.Duplicates,
	}
}

func deadStreamConfig(o SetupOptions) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        DeadStream,
		Description: "ossimport tasks that exceeded MaxDeliver (captured JetStream advisories)",
		Subjects:    []string{deadAdvisories},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		MaxAge:      o.Retention,
	}
}

// state returns the Setup handles or ErrNotSetUp.
func (b *Bus) state() (*state, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.st == nil {
		return nil, ErrNotSetUp
	}
	return b.st, nil
}

// tokenRE is what job names and control verbs may contain: they become
// subject tokens, consumer names and object-name parts.
var tokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func checkJob(job string) error {
	if !tokenRE.MatchString(job) {
		return fmt.Errorf("bus: invalid job name %q: use letters, digits, '_' and '-'", job)
	}
	return nil
}

func taskSubject(job string) string   { return taskPrefix + job }
func resultSubject(job string) string { return resultPrefix + job }
func taskConsumer(job string) string  { return taskConsumerP + job }

// bounded runs one JetStream request under its own deadline (at most d):
// a request sent while a cluster elects a leader gets no answer at all,
// and must not use up the whole of a caller's longer deadline.
func bounded[T any](ctx context.Context, d time.Duration, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return f(ctx)
}
