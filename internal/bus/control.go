package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"
)

// servicePrefix starts the subjects of one service's own control
// requests: ossimport.service.<service>.<verb>.
const servicePrefix = "ossimport.service."

// Request asks the active master to perform verb (retry, clean, ...)
// with data as argument and returns its reply. It fails with ErrNoMaster
// when no master is running and with a *ControlError when the master's
// handler failed. Without a ctx deadline the connection's Timeout
// applies.
func (b *Bus) Request(ctx context.Context, verb string, data []byte) ([]byte, error) {
	if !tokenRE.MatchString(verb) {
		return nil, fmt.Errorf("bus: invalid control verb %q", verb)
	}
	return b.request(ctx, controlPrefix+verb, verb, data)
}

// RequestService asks one service (named as in HandleService) to perform
// verb (ping, stop): unlike Request, the answer comes from that service
// whether or not it is the active master.
func (b *Bus) RequestService(ctx context.Context, service, verb string, data []byte) ([]byte, error) {
	if !tokenRE.MatchString(verb) || !tokenRE.MatchString(service) {
		return nil, fmt.Errorf("bus: invalid control verb %q or service %q", verb, service)
	}
	return b.request(ctx, servicePrefix+service+"."+verb, verb, data)
}

func (b *Bus) request(ctx context.Context, subject, verb string, data []byte) ([]byte, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.timeout)
		defer cancel()
	}
	msg := nats.NewMsg(subject)
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

// HandleControl answers the active master's control requests with handle
// until ctx ends (requests already received are still answered). It
// returns once the subscription is active. Requests are handled one at
// a time.
func (b *Bus) HandleControl(ctx context.Context, handle func(verb string, data []byte) ([]byte, error)) error {
	return b.handle(ctx, controlPrefix, controlQueue, handle)
}

// HandleService answers the requests sent to this one service with
// RequestService, as HandleControl does. A handler that stops the
// service (verb "stop") should return its reply first and stop
// asynchronously, or the reply is lost.
func (b *Bus) HandleService(ctx context.Context, service string, handle func(verb string, data []byte) ([]byte, error)) error {
	if !tokenRE.MatchString(service) {
		return fmt.Errorf("bus: invalid service name %q", service)
	}
	return b.handle(ctx, servicePrefix+service+".", "", handle)
}

func (b *Bus) handle(ctx context.Context, prefix, queue string, handle func(verb string, data []byte) ([]byte, error)) error {
	sub, err := b.nc.QueueSubscribe(prefix+"*", queue, func(m *nats.Msg) {
		out, err := handle(strings.TrimPrefix(m.Subject, prefix), m.Data)
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
