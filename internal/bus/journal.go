package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Kinds of journal entries (header Ossimport-Kind). A worker's task
// result has no kind.
const (
	KindResult  = ""
	KindPlanned = "planned" // a task the planner filed; data: the task
	KindRequeue = "requeue" // a failed task queued again; data: the attempt
	KindAbort   = "abort"   // the job was aborted; data: the reason
	KindClean   = "clean"   // the job was cleaned: its earlier entries are gone
)

// hdrKind names a journal entry's kind.
const hdrKind = "Ossimport-Kind"

// JournalEntry is one entry of a job's journal: the OSSIMPORT_RESULTS
// stream holds, per job and in one order, every event that changes the
// job's state — the tasks planned, the workers' results, the retries and
// an abort — so any service can rebuild the job's working-directory view
// from it (see [Bus.Follow]).
type JournalEntry struct {
	// Seq is the entry's stream sequence: a follower resumes after it.
	Seq    uint64
	Kind   string
	Job    string
	TaskID string
	Data   []byte
	Time   time.Time
	// Gone is set when the entry's payload went with its cleaned job:
	// there is nothing to file, only the position to note.
	Gone bool
}

// Append adds an entry of kind to a job's journal. A non-empty msgID
// deduplicates it within the Duplicates window, so an entry appended
// again after a crash is stored once. It rides out a stream leader
// election (a publish whose ack was lost is sent again: an entry without
// msgID may then be stored twice, which filing absorbs).
func (b *Bus) Append(ctx context.Context, job, kind, taskID, msgID string, data []byte) error {
	return b.ride(ctx, func(ctx context.Context) error { return b.append(ctx, job, kind, taskID, msgID, data) })
}

func (b *Bus) append(ctx context.Context, job, kind, taskID, msgID string, data []byte) error {
	st, err := b.state()
	if err != nil {
		return err
	}
	if err := checkJob(job); err != nil {
		return err
	}
	msg := nats.NewMsg(resultSubject(job))
	msg.Header.Set(hdrJob, job)
	msg.Header.Set(hdrTask, taskID)
	if kind != KindResult {
		msg.Header.Set(hdrKind, kind)
	}
	if msgID != "" {
		msg.Header.Set(jetstream.MsgIDHeader, kind+"/"+job+"/"+msgID)
	}
	obj, err := b.pack(ctx, st, msg, objectName("result", job, taskID), data)
	if err != nil {
		return err
	}
	if _, err := b.js.PublishMsg(ctx, msg); err != nil {
		err = fmt.Errorf("bus: append %s entry of task %s to the journal of job %s: %w", kindName(kind), taskID, job, err)
		return errors.Join(err, b.dropObject(st, obj))
	}
	return nil
}

func kindName(kind string) string {
	if kind == KindResult {
		return "result"
	}
	return kind
}

// Follow delivers every journal entry whose sequence is at least from
// (all of them for 0), of every job, in stream order, to handle until ctx
// ends; it then returns nil. An entry whose handle fails is handled
// again after a growing delay (250ms doubling to 30s) and never skipped,
// so the follower's view is the journal applied in order. An entry of a
// cleaned job whose payload went with it comes with Gone set.
func (b *Bus) Follow(ctx context.Context, from uint64, handle func(JournalEntry) error) error {
	st, err := b.state()
	if err != nil {
		return err
	}
	next := from
	for fails := uint64(1); ; fails++ {
		before := next
		err := b.follow(ctx, st, &next, handle)
		if ctx.Err() != nil {
			return nil
		}
		if next != before {
			fails = 1 // it made progress: count failures afresh
		}
		// The stream's leader moved or the connection dropped: follow
		// again after the last entry handled.
		if !Transient(err) && !errors.Is(err, errFollowStalled) && fails > 20 {
			return fmt.Errorf("bus: cannot follow the job journals (stream %s) after %d attempts: %w (check that NATS is up and JetStream is enabled; the service files them from where it stopped when started again)", ResultStream, fails, err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(retryDelay(fails)):
		}
	}
}

// follow handles entries from *next on, advancing it, until the consumer
// fails or ctx ends.
func (b *Bus) follow(ctx context.Context, st *state, next *uint64, handle func(JournalEntry) error) error {
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if *next > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, *next
	}
	it, err := orderedMessages(ctx, st.results, cfg)
	if err != nil {
		return err
	}
	msgs, errc, done := pump(it)
	defer func() {
		close(done)
		// Stop waits for a reset of the consumer in progress, which
		// retries for as long as the server is unreachable: it is not
		// waited for, and ends that reset at its next attempt.
		go it.Stop()
	}()
	check := time.NewTicker(followCheck)
	defer check.Stop()
	var checks stallChecks
	for {
		var m jetstream.Msg
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-errc:
			return err
		case <-check.C:
			if checks.stalled(ctx, st, *next) {
				return errFollowStalled
			}
			continue
		case m = <-msgs:
		}
		checks = stallChecks{}
		for try := uint64(1); ; try++ {
			e, err := b.entry(ctx, st, m)
			if errors.Is(err, ErrNotFound) {
				e.Gone, e.Data, err = true, nil, nil
			}
			if err == nil {
				if err = handle(e); err == nil {
					*next = e.Seq + 1
					break
				}
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(retryDelay(try)):
			}
		}
		check.Reset(followCheck)
	}
}

// pump hands the iterator's messages over a channel, so that a follower
// can give up on an iterator whose Next does not return (it resets its
// consumer for as long as the server is unreachable, whatever the
// context says). It ends at the first error or when done is closed.
func pump(it jetstream.MessagesContext) (<-chan jetstream.Msg, <-chan error, chan struct{}) {
	msgs, errc, done := make(chan jetstream.Msg), make(chan error, 1), make(chan struct{})
	go func() {
		for {
			m, err := it.Next()
			if err != nil {
				errc <- err
				return
			}
			select {
			case msgs <- m:
			case <-done:
				return
			}
		}
	}()
	return msgs, errc, done
}

// followCheck is how long a follower waits for its next entry before it
// asks whether the journal holds one it should have had.
const followCheck = 3 * time.Second

// errFollowStalled means a follower's consumer stopped delivering while
// the journal holds entries past its position.
var errFollowStalled = errors.New("bus: the journal follower stopped receiving entries the stream holds")

// stallChecks is what a follower's checks since its last entry found:
// whether the last one saw it behind the journal, and how many in a row
// could not ask.
type stallChecks struct {
	behind     bool
	unanswered int
}

// stalled reports whether the follower, at position next and with no
// entry for followCheck, has fallen behind the journal for the second
// check in a row, or could not ask for followUnanswered checks in a row.
// An ordered consumer whose server was lost is not always replaced by
// the client in time (seen with a three-server cluster losing the server
// the follower was connected to: no entry arrived for minutes), so a
// stalled follower starts a new consumer from its position; starting
// one costs a request, so a follower that cannot even learn where the
// journal ends starts one too.
func (c *stallChecks) stalled(ctx context.Context, st *state, next uint64) bool {
	ictx, cancel := context.WithTimeout(ctx, followCheck)
	defer cancel()
	info, err := st.results.Info(ictx)
	if err != nil {
		// The cluster is electing: ask again at the next check.
		c.unanswered++
		if c.unanswered >= followUnanswered {
			*c = stallChecks{}
			return true
		}
		return false
	}
	c.unanswered = 0
	switch {
	case info.State.LastSeq < next:
		c.behind = false
	case c.behind:
		c.behind = false
		return true
	default:
		c.behind = true
	}
	return false
}

// followUnanswered is how many checks in a row a follower without
// entries may fail to learn the journal's end before it starts a new
// consumer anyway.
const followUnanswered = 5

// followStart bounds the start of a follower's consumer: the client
// retries creating it for as long as the cluster does not answer,
// whatever the context says.
var followStart = 30 * time.Second

// orderedMessages starts an ordered consumer of s with cfg and returns
// its messages, or an error if that takes more than followStart (the
// consumer is then stopped once it has started).
func orderedMessages(ctx context.Context, s jetstream.Stream, cfg jetstream.OrderedConsumerConfig) (jetstream.MessagesContext, error) {
	type started struct {
		it  jetstream.MessagesContext
		err error
	}
	ch := make(chan started, 1)
	go func() {
		cons, err := s.OrderedConsumer(ctx, cfg)
		if err != nil {
			ch <- started{err: err}
			return
		}
		it, err := cons.Messages(jetstream.PullMaxMessages(64))
		ch <- started{it, err}
	}()
	t := time.NewTimer(followStart)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.it, r.err
	case <-ctx.Done():
	case <-t.C:
	}
	go func() { // stop it once it has started
		if r := <-ch; r.err == nil {
			r.it.Stop()
		}
	}()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return nil, fmt.Errorf("bus: start a follower of stream %s: %w", ResultStream, context.DeadlineExceeded)
}

// entry decodes a journal message.
func (b *Bus) entry(ctx context.Context, st *state, m jetstream.Msg) (JournalEntry, error) {
	h := m.Headers()
	e := JournalEntry{Kind: h.Get(hdrKind), Job: h.Get(hdrJob), TaskID: h.Get(hdrTask)}
	if md, err := m.Metadata(); err == nil {
		e.Seq, e.Time = md.Sequence.Stream, md.Timestamp
	}
	var err error
	e.Data, err = b.unpack(ctx, st, h, m.Data())
	return e, err
}

// JournalID identifies the journal stream: its creation time. A follower
// that finds another ID than the one it followed knows the stream was
// created again (a lost NATS store) and its sequences start over.
func (b *Bus) JournalID(ctx context.Context) (string, error) {
	st, err := b.state()
	if err != nil {
		return "", err
	}
	info, err := st.results.Info(ctx)
	if err != nil {
		return "", fmt.Errorf("bus: journal info: %w", err)
	}
	return strconv.FormatInt(info.Created.UnixNano(), 10), nil
}

// JournalEnd is the sequence of the journal's last entry (0 when empty):
// a follower that has handled it is up to date.
func (b *Bus) JournalEnd(ctx context.Context) (uint64, error) {
	st, err := b.state()
	if err != nil {
		return 0, err
	}
	info, err := st.results.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("bus: journal info: %w", err)
	}
	return info.State.LastSeq, nil
}
