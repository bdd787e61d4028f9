package console

import (
	"errors"
	"testing"

	"github.com/ossimport/ossimport/internal/service"
)

// TestExitOfServiceErrors: the service's errors end the command with the
// exit status they carry, printing the same message; others pass as
// they are.
func TestExitOfServiceErrors(t *testing.T) {
	cause := errors.New("the working directory is in use")
	var exit *ExitError
	if err := exitOf(&service.Error{Code: 2, Err: cause}); !errors.As(err, &exit) || exit.Code != 2 || !errors.Is(err, cause) {
		t.Fatalf("exitOf(service.Error 2) = %#v", err)
	}
	if err := exitOf(&service.Error{Code: 1}); !errors.As(err, &exit) || exit.Code != 1 || exit.Err != nil {
		t.Fatalf("exitOf(service.Error 1 without a message) = %#v", err)
	}
	if err := exitOf(cause); err != cause {
		t.Fatalf("exitOf(other) = %v", err)
	}
	if err := exitOf(nil); err != nil {
		t.Fatalf("exitOf(nil) = %v", err)
	}
}
