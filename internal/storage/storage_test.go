package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
)

func TestCheckOSSKey(t *testing.T) {
	tests := []struct {
		key     string
		wantErr string // substring; "" means valid
	}{
		{"a", ""},
		{"dir/sub/file name+%?#&.txt", ""},
		{"中文/文件", ""},
		{strings.Repeat("k", 1023), ""},
		{"", "empty"},
		{strings.Repeat("k", 1024), "1024 bytes, longer than 1023"},
		{"/abs/path", `starts with "/"`},
		{`\win`, `starts with "\\"`},
		{"line\nbreak", "line break"},
		{"carriage\rreturn", "line break"},
		{"bad\xffutf8", "not valid UTF-8"},
	}
	for _, tc := range tests {
		err := CheckOSSKey(tc.key)
		if tc.wantErr == "" {
			if err != nil {
				t.Errorf("CheckOSSKey(%.40q) = %v, want nil", tc.key, err)
			}
			continue
		}
		if err == nil || !errors.Is(err, ErrInvalidKey) || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("CheckOSSKey(%.40q) = %v, want ErrInvalidKey mentioning %q", tc.key, err, tc.wantErr)
		}
	}
}

func TestCheckOSSKeyShortensLongNames(t *testing.T) {
	err := CheckOSSKey(strings.Repeat("é", 600))
	if err == nil || len(err.Error()) > 300 {
		t.Fatalf("error for a 1200-byte key should be short, got %d bytes: %v", len(fmt.Sprint(err)), err)
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestIsTransient(t *testing.T) {
	var _ net.Error = timeoutErr{}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"marked", Transient(errors.New("503 slow down")), true},
		{"marked and wrapped", fmt.Errorf("put %q: %w", "k", Transient(errors.New("x"))), true},
		{"timeout", &net.OpError{Op: "read", Err: timeoutErr{}}, true},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{"refused", fmt.Errorf("dial: %w", syscall.ECONNREFUSED), true},
		{"deadline", context.DeadlineExceeded, true},
		{"truncated response", fmt.Errorf("read body: %w", io.ErrUnexpectedEOF), true},
		{"canceled", context.Canceled, false},
		{"canceled though marked", Transient(context.Canceled), false},
		{"not found", fmt.Errorf("stat: %w", ErrNotExist), false},
		{"denied", ErrAccessDenied, false},
		{"plain", errors.New("boom"), false},
	}
	for _, tc := range tests {
		if got := IsTransient(tc.err); got != tc.want {
			t.Errorf("%s: IsTransient(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
	if Transient(nil) != nil {
		t.Error("Transient(nil) != nil")
	}
}

func TestTransientHTTPStatus(t *testing.T) {
	for code, want := range map[int]bool{200: false, 400: false, 403: false, 404: false, 408: true, 429: true, 500: true, 503: true, 504: true} {
		if got := TransientHTTPStatus(code); got != want {
			t.Errorf("TransientHTTPStatus(%d) = %v, want %v", code, got, want)
		}
	}
}

type fakeStore struct{ caps Capabilities }

func (f fakeStore) String() string             { return "fake:" }
func (f fakeStore) Capabilities() Capabilities { return f.caps }

func TestRegistry(t *testing.T) {
	Register("test-readonly", func(context.Context, Spec) (Store, error) { return fakeStore{}, nil })
	t.Cleanup(func() { // so the test runs again under -count
		registryMu.Lock()
		delete(registry, "test-readonly")
		registryMu.Unlock()
	})
	if _, err := Open(t.Context(), Spec{Type: "no-such-type"}); err == nil || !strings.Contains(err.Error(), `unknown type "no-such-type"`) {
		t.Errorf("open unknown type: %v", err)
	}
	if _, err := OpenSource(t.Context(), Spec{Type: "test-readonly"}); !errors.Is(err, ErrNotSupported) {
		t.Errorf("a store that cannot list opened as a source: %v", err)
	}
	if _, err := OpenDestination(t.Context(), Spec{Type: "test-readonly"}); !errors.Is(err, ErrNotSupported) {
		t.Errorf("a store that cannot write opened as a destination: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a type twice did not panic")
		}
	}()
	Register("test-readonly", nil)
}
