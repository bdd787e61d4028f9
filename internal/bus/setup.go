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
	// Replicas is the replication factor of every stream and bucket: 1
	// for the embedded server, up to the cluster size for natsUrl.
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
	if o.Replicas <= 0 {
		o.Replicas = 1
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
// the other methods.
func (b *Bus) Setup(ctx context.Context, opts SetupOptions) error {
	opts.fill()
	st := &state{opts: opts}
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
		if *s.dst, err = b.stream(ctx, s.cfg, opts.Update); err != nil {
			return fmt.Errorf("bus: create stream %s: %w", s.cfg.Name, err)
		}
	}
	st.data, err = b.js.ObjectStore(ctx, TaskDataBucket)
	if opts.Update || err != nil {
		st.data, err = b.js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
			Bucket: TaskDataBucket, Description: "ossimport task and result payloads too large for one message",
			Storage: jetstream.FileStorage, Replicas: opts.Replicas,
		})
	}
	if err != nil {
		return fmt.Errorf("bus: create object store %s: %w", TaskDataBucket, err)
	}
	if err := b.setupKV(ctx, st); err != nil {
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

func (b *Bus) setupKV(ctx context.Context, st *state) error {
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
		kv.cfg.Replicas = st.opts.Replicas
		var err error
		*kv.dst, err = b.js.KeyValue(ctx, kv.cfg.Bucket)
		if st.opts.Update || err != nil {
			*kv.dst, err = b.js.CreateOrUpdateKeyValue(ctx, kv.cfg)
		}
		if err != nil {
			return fmt.Errorf("bus: create key-value bucket %s: %w", kv.cfg.Bucket, err)
		}
	}
	return nil
}

// stream returns the stream of cfg, creating it when missing and
// updating it only when update is set.
func (b *Bus) stream(ctx context.Context, cfg jetstream.StreamConfig, update bool) (jetstream.Stream, error) {
	if !update {
		if s, err := b.js.Stream(ctx, cfg.Name); err == nil {
			return s, nil
		}
	}
	return b.js.CreateOrUpdateStream(ctx, cfg)
}

func taskStreamConfig(o SetupOptions) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        TaskStream,
		Description: "ossimport task queue, one subject per job",
		Subjects:    []string{taskPrefix + ">"},
		Retention:   jetstream.WorkQueuePolicy,
		Discard:     jetstream.DiscardNew,
		Storage:     jetstream.FileStorage,
		Replicas:    o.Replicas,
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
		Replicas:    o.Replicas,
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
		Replicas:    o.Replicas,
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
