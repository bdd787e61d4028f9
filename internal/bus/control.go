package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"
)

// Request asks the running master to perform verb (stop, retry, clean,
// ...) with data as argument and returns its reply. It fails with
// ErrNoMaster when no master is running and with a *ControlError when the
// master's handler failed. Without a ctx deadline the connection's
// Timeout applies.
func (b *Bus) Request(ctx context.Context, verb string, data []byte) ([]byte, error) {
	if !tokenRE.MatchString(verb) {
		return nil, fmt.Errorf("bus: invalid control verb %q", verb)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.timeout)
		defer cancel()
	}
	msg := nats.NewMsg(controlPrefix + verb)
	msg.Data = data
	reply, err := b.nc.RequestMsgWithContext(ctx, msg)
	if errors.Is(err, nats.ErrNoResponders) {
		return nil, ErrNoMaster
	}
	if err != nil {
		return nil, fmt.Errorf("bus: control request %s: %w", verb, err)
	}
	if e := reply.Header.Get(hdrError); e != "" {
		return nil, &ControlError{Verb: verb, Message: e}
	}
	return reply.Data, nil
}

// HandleControl answers control requests with handle until ctx ends
// (requests already received are still answered). It returns once the
// subscription is active. Requests are handled one at a
// time; a handler that stops the service (verb "stop") should return
// its reply first and stop asynchronously, or the reply is lost.
func (b *Bus) HandleControl(ctx context.Context, handle func(verb string, data []byte) ([]byte, error)) error {
	sub, err := b.nc.QueueSubscribe(controlPrefix+"*", controlQueue, func(m *nats.Msg) {
		out, err := handle(strings.TrimPrefix(m.Subject, controlPrefix), m.Data)
		reply := nats.NewMsg(m.Reply)
		reply.Data = out
		if err != nil {
			reply.Header.Set(hdrError, strings.NewReplacer("\r", " ", "\n", " ").Replace(err.Error()))
		}
		_ = m.RespondMsg(reply) // the requester times out if the reply is lost
	})
	if err != nil {
		return fmt.Errorf("bus: subscribe to control requests: %w", err)
	}
	context.AfterFunc(ctx, func() { _ = sub.Drain() }) // requests in flight are still answered
	if err := b.nc.FlushTimeout(b.timeout); err != nil {
		return fmt.Errorf("bus: subscribe to control requests: %w", err)
	}
	return nil
}
