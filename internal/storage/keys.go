package storage

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxKeyLength is the longest object name OSS accepts, in bytes.
const MaxKeyLength = 1023

// CheckOSSKey reports why key is not a valid OSS object name, or nil. The
// rules: 1 to 1023 bytes of valid UTF-8, not starting with '/' or '\', no
// carriage return or line feed. The error wraps ErrInvalidKey and says
// what to change.
func CheckOSSKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: the name is empty", ErrInvalidKey)
	case len(key) > MaxKeyLength:
		return fmt.Errorf("%w: %q is %d bytes, longer than %d (shorten the path or destPrefix)",
			ErrInvalidKey, shorten(key), len(key), MaxKeyLength)
	case !utf8.ValidString(key):
		return notUTF8(key)
	case key[0] == '/' || key[0] == '\\':
		return fmt.Errorf("%w: %q starts with %q (check that srcPrefix ends with \"/\" and destPrefix does not start with \"/\" or \"\\\")",
			ErrInvalidKey, shorten(key), key[:1])
	}
	return CheckTextName(key)
}

// CheckTextName reports why key cannot be written as text, or nil: it
// must be valid UTF-8 without carriage return or line feed. Destinations
// without rules of their own (local folders) apply it, so every name in
// the reports is a plain line of text.
func CheckTextName(key string) error {
	switch {
	case !utf8.ValidString(key):
		return notUTF8(key)
	case strings.ContainsAny(key, "\r\n"):
		return fmt.Errorf("%w: %q contains a line break (rename the file)", ErrInvalidKey, shorten(key))
	}
	return nil
}

func notUTF8(key string) error {
	return fmt.Errorf("%w: %q is not valid UTF-8, which object names must be (rename the file to a UTF-8 name, e.g. convmv -f GBK -t UTF-8 --notest -r <dir>, then copy it with a new job)",
		ErrInvalidKey, shorten(key))
}

// shorten keeps error messages readable for very long keys.
func shorten(key string) string {
	const max = 120
	if len(key) <= max {
		return key
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(key[cut]) {
		cut--
	}
	return key[:cut] + "..."
}
