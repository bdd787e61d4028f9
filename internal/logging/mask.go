package logging

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
)

// Masked replaces a secret in the logs.
const Masked = "***"

// secretWords mark an attribute key whose value is a secret; keys are
// compared in lower case without '_', '-' and '.'.
var secretWords = []string{"password", "passwd", "secret", "token", "credential", "authorization", "signature", "privatekey", "sessionkey"}

// keySeparators are dropped from keys before looking for secretWords.
var keySeparators = strings.NewReplacer("_", "", "-", "", ".", "")

// SecretKey reports whether an attribute or setting named key holds a
// secret (password, secretKey, accessKeySecret, natsToken, credentials,
// Authorization, ...).
func SecretKey(key string) bool {
	k := keySeparators.Replace(strings.ToLower(key))
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// secretPatterns find secrets inside free text: the value of an
// Authorization header (to the end of the line or quoted string), signed
// URL parameters, and key=value or "key":"value" pairs naming a secret.
var secretPatterns = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`(?i)(authorization\s*[:=]\s*)[^"\r\n]+`), "${1}" + Masked},
	{regexp.MustCompile(`(?i)((?:x-amz-|x-oss-)?(?:signature|credential|security-token|securitytoken)=)[^&\s"',]+`), "${1}" + Masked},
	{regexp.MustCompile(`(?i)([?&](?:sig|token|ossaccesskeyid|accesskeysecret|secretkey|password)=)[^&\s"']+`), "${1}" + Masked},
	{regexp.MustCompile(`(?i)((?:password|passwd|secret|secretkey|accesskeysecret|token|credentials)(?:\s*=\s*|:))([^\s"',&]+)`), "${1}" + Masked},
	{regexp.MustCompile(`(?i)("[a-z_-]*(?:password|passwd|secret|token|credential)[a-z_-]*"\s*:\s*)"[^"]*"`), "${1}\"" + Masked + "\""},
}

// MaskText masks the secrets found in s (see secretPatterns).
func MaskText(s string) string {
	for _, p := range secretPatterns {
		s = p.re.ReplaceAllString(s, p.repl)
	}
	return s
}

// MaskHandler wraps a slog.Handler so that no secret reaches it: the
// value of an attribute whose key names a secret (SecretKey) becomes
// "***", and strings, errors and the message are passed through
// MaskText.
type MaskHandler struct{ next slog.Handler }

// NewMaskHandler wraps next.
func NewMaskHandler(next slog.Handler) *MaskHandler { return &MaskHandler{next: next} }

// Enabled reports whether next handles records at level.
func (h *MaskHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle masks the record and passes it on.
func (h *MaskHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, MaskText(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(maskAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

// WithAttrs masks attrs and passes them on.
func (h *MaskHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		masked[i] = maskAttr(a)
	}
	return &MaskHandler{next: h.next.WithAttrs(masked)}
}

// WithGroup passes the group on.
func (h *MaskHandler) WithGroup(name string) slog.Handler {
	return &MaskHandler{next: h.next.WithGroup(name)}
}

func maskAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	if SecretKey(a.Key) && v.Kind() != slog.KindGroup {
		return slog.String(a.Key, Masked)
	}
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, MaskText(v.String()))
	case slog.KindGroup:
		group := v.Group()
		masked := make([]slog.Attr, len(group))
		for i, g := range group {
			masked[i] = maskAttr(g)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(masked...)}
	case slog.KindAny:
		var text string
		switch x := v.Any().(type) {
		case error:
			text = x.Error()
		case fmt.Stringer:
			text = x.String()
		default:
			return slog.Attr{Key: a.Key, Value: v}
		}
		if m := MaskText(text); m != text {
			return slog.String(a.Key, m)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
