package storage

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// TestSpecHidesSecrets: a spec printed or logged by mistake shows no
// secret key, session token or whole access key.
func TestSpecHidesSecrets(t *testing.T) {
	s := Spec{Type: "oss", Bucket: "b", AccessKey: "LTAI5tHIDDENID", SecretKey: "TOPSECRET", SessionToken: "STSTOKEN"}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("open", "spec", s)
	for _, out := range []string{fmt.Sprintf("%v", s), fmt.Sprintf("%+v", s), fmt.Sprint(&s), logged.String()} {
		for _, secret := range []string{"HIDDENID", "TOPSECRET", "STSTOKEN"} {
			if strings.Contains(out, secret) {
				t.Errorf("%q shows %s", out, secret)
			}
		}
		if !strings.Contains(out, "LTAI****") {
			t.Errorf("%q does not name the access key's prefix", out)
		}
	}
}
