package bus

import (
	"context"
	"errors"
	"testing"
)

func TestControl(t *testing.T) {
	srv, master := newBus(t, SetupOptions{})
	console := connect(t, srv, SetupOptions{})
	if _, err := console.Request(tctx(t), "stop", nil); !errors.Is(err, ErrNoMaster) {
		t.Fatalf("request without master: %v, want ErrNoMaster", err)
	}
	ctx, cancel := context.WithCancel(tctx(t))
	must(t, master.HandleControl(ctx, func(verb string, data []byte) ([]byte, error) {
		switch verb {
		case "retry":
			return append([]byte("retrying "), data...), nil
		default:
			return nil, errors.New("unknown verb " + verb)
		}
	}))
	reply, err := console.Request(tctx(t), "retry", []byte("job1"))
	if err != nil || string(reply) != "retrying job1" {
		t.Errorf("retry: %q, %v", reply, err)
	}
	_, err = console.Request(tctx(t), "dance", nil)
	var ce *ControlError
	if !errors.As(err, &ce) || ce.Message != "unknown verb dance" {
		t.Errorf("dance: %v, want a ControlError", err)
	}
	cancel() // unsubscribes asynchronously
	for {
		_, err := console.Request(tctx(t), "retry", nil)
		if errors.Is(err, ErrNoMaster) {
			break
		}
		if err != nil || tctx(t).Err() != nil {
			t.Fatalf("request after the master stopped: %v, want ErrNoMaster", err)
		}
	}
}
