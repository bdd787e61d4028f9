package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseWorkers(t *testing.T) {
	in := "# master first\n  10.0.0.1  \n\nworker-2.example.com:2222 # comment\nfd00::5\n[fd00::6]\n[FD00::7]:2200\nWorker-3.Example.com.\n"
	w, diags := ParseWorkers("conf/workers", []byte(in))
	if len(diags) != 0 {
		t.Fatal(diagLines(diags))
	}
	want := []WorkerHost{
		{"10.0.0.1", 0, 2}, {"worker-2.example.com", 2222, 4}, {"fd00::5", 0, 5},
		{"fd00::6", 0, 6}, {"fd00::7", 2200, 7}, {"worker-3.example.com", 0, 8},
	}
	if !slices.Equal(w.Hosts, want) {
		t.Errorf("hosts %+v", w.Hosts)
	}
	m, ok := w.Master()
	if !ok || m.Host != "10.0.0.1" || m.Addr(22) != "10.0.0.1:22" {
		t.Errorf("master %+v", m)
	}
	if got := w.Hosts[4].Addr(22); got != "[fd00::7]:2200" {
		t.Errorf("addr %q", got)
	}
}

func TestParseWorkersErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "error: w: no worker hosts listed (write one address per line; the first one runs the master)"},
		{"# only comments\n", "error: w: no worker hosts listed (write one address per line; the first one runs the master)"},
		{"a.example\nA.example.\n", `error: w:2: worker "A.example." is already listed on line 1 (delete one of the lines)`},
		{"fd00::1\n[fd00:0::1]\n", `error: w:2: worker "[fd00:0::1]" is already listed on line 1 (delete one of the lines)`},
		{"h:22\nh\n", ""},
		{"-bad.example\n", `error: w:1: worker "-bad.example" is not an IP address or valid host name: invalid host name label`},
		{"[fd00::1\n", `error: w:1: worker "[fd00::1" has no closing ']'`},
		{"[10.0.0.1]:22\n", `error: w:1: worker "[10.0.0.1]:22" has no valid IPv6 address between brackets`},
		{"[fd00::1]x\n", `error: w:1: worker "[fd00::1]x" has text after ']' (write [address]:port)`},
		{"fd00::zz\n", `error: w:1: worker "fd00::zz" is not a valid IPv6 address (write [address]:port to add a port)`},
		{"h:\n", `error: w:1: worker "h:" has an invalid port (use 1 to 65535)`},
		{"h:0\n", `error: w:1: worker "h:0" has an invalid port (use 1 to 65535)`},
		{"a b\n", `error: w:1: worker "a b" must hold a single host (write one host per line)`},
	}
	for _, tt := range tests {
		_, diags := ParseWorkers("w", []byte(tt.in))
		got := diagLines(diags)
		if tt.want == "" {
			if len(got) != 0 {
				t.Errorf("%q: unexpected %q", tt.in, got)
			}
			continue
		}
		if !slices.Contains(got, tt.want) {
			t.Errorf("%q\nwant %s\ngot  %q", tt.in, tt.want, got)
		}
	}
}

func TestParseSchedule(t *testing.T) {
	s, err := ParseSchedule("18:00,off  08:00,512k 12:00,10M 13:00,0")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.String(); got != "08:00,512k 12:00,10m 13:00,off 18:00,off" {
		t.Errorf("String() = %q", got)
	}
	at := func(h, m int, day time.Weekday) time.Time {
		// 2024-01-07 is a Sunday.
		return time.Date(2024, 1, 7+int(day), h, m, 0, 0, time.UTC)
	}
	for _, tt := range []struct {
		h, m int
		want int64
	}{{7, 59, 0}, {8, 0, 512 * KiB}, {12, 30, 10 * MiB}, {13, 0, 0}, {23, 0, 0}} {
		if got, ok := s.RateAt(at(tt.h, tt.m, time.Monday)); !ok || got != tt.want {
			t.Errorf("RateAt(%02d:%02d) = %d, want %d", tt.h, tt.m, got, tt.want)
		}
	}
	w, err := ParseSchedule("Mon-08:00,10M fri-18:00,off")
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := w.RateAt(at(9, 0, time.Sunday)); r != 0 {
		t.Errorf("Sunday rate %d (wraps to Friday's off)", r)
	}
	if r, _ := w.RateAt(at(9, 0, time.Wednesday)); r != 10*MiB {
		t.Errorf("Wednesday rate %d", r)
	}
	if _, ok := Schedule(nil).RateAt(time.Now()); ok {
		t.Error("empty schedule reports a rate")
	}
	for _, bad := range []string{"08:00", "24:00,1M", "08:60,1M", "8:00,1M", "08:00,fast", "Mo-08:00,1M", "08:00,1M 08:00,2M", "Mon-08:00,1M 09:00,1M", "08:00,-1"} {
		if _, err := ParseSchedule(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseSize(t *testing.T) {
	good := map[string]int64{
		"0": 0, "1000000000": 1000000000, "500k": 500 * KiB, "50m": 50 * MiB, "5g": 5 * GiB, "5G": 5 * GiB,
		"2KB": 2 * KiB, "3mb": 3 * MiB, "1gb": GiB, "1t": TiB, "12b": 12, " 7m ": 7 * MiB, //nolint:gocritic // mapKey: the spaces are what this case tests
	}
	for in, want := range good {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "m", "-1", "1.5g", "5 g", "5x", "0x10", "99999999999999999999", "9000000000g"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
	for n, want := range map[int64]string{0: "0", 150 * MiB: "150m", 1000000000: "1000000000", GiB: "1g", 1536: "1536"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestPathFilter(t *testing.T) {
	j := DefaultJob()
	j.IncludePatterns = []string{"*.jpg", "docs/**/*.pdf"}
	j.ExcludePatterns = []string{"**/tmp/**", "secret.jpg"}
	j.MinFileSize, j.MaxFileSize = 10, 1000
	f, err := NewPathFilter(j)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		size int64
		want bool
	}{
		{"a.jpg", 100, true}, {"x/y/a.jpg", 100, true}, {"a.png", 100, false},
		{"docs/a.pdf", 100, true}, {"docs/x/y/a.pdf", 100, true}, {"other/a.pdf", 100, false},
		{"x/tmp/a.jpg", 100, false}, {"tmp/a.jpg", 100, false}, {"d/secret.jpg", 100, false},
		{"a.jpg", 5, false}, {"a.jpg", 2000, false}, {"a.jpg", 1000, true},
	}
	for _, tt := range tests {
		if got := f.Match(tt.path, tt.size); got != tt.want {
			t.Errorf("Match(%q, %d) = %v", tt.path, tt.size, got)
		}
	}
	if f, _ := NewPathFilter(DefaultJob()); !f.Match("anything/at/all", 0) {
		t.Error("empty filter rejects a file")
	}
	j.IncludePatterns = []string{"[x"}
	if _, err := NewPathFilter(j); err == nil {
		t.Error("bad pattern accepted")
	}
}

func TestEndpoints(t *testing.T) {
	for _, tt := range []struct {
		endpoint, setting string
		want              bool
	}{
		{"http://127.0.0.1:7070", "auto", true}, {"localhost:9000", "", true}, {"http://[::1]:9000", "auto", true},
		{"https://oss-cn-hangzhou.aliyuncs.com", "auto", false}, {"", "auto", false},
		{"http://127.0.0.1", "false", false}, {"https://s3.amazonaws.com", "true", true},
	} {
		if got := UsePathStyle(tt.endpoint, tt.setting); got != tt.want {
			t.Errorf("UsePathStyle(%q, %q) = %v", tt.endpoint, tt.setting, got)
		}
	}
	for in, want := range map[string]string{"": "", "oss.example.com": "https://oss.example.com",
		"http://x": "http://x", "127.0.0.1:9000": "https://127.0.0.1:9000"} {
		if got := EndpointURL(in); got != want {
			t.Errorf("EndpointURL(%q) = %q", in, got)
		}
	}
}

// TestSecretsNeverShown puts a sentinel in every secret key, in valid and
// invalid settings, and checks that it never appears in a diagnostic or in
// the effective configuration.
func TestSecretsNeverShown(t *testing.T) {
	const sentinel = "S3NT1NEL-s3cr3t-VALUE-0123456789"
	var jobSecrets, sysSecrets []string
	for _, k := range jobKeys {
		if k.Secret || k.PartSecret {
			jobSecrets = append(jobSecrets, k.Name)
		}
	}
	for _, k := range sysKeys {
		if k.Secret || k.PartSecret {
			sysSecrets = append(sysSecrets, k.Name)
		}
	}
	variants := []string{sentinel, sentinel + " ", sentinel + "\\u12", "\\" + sentinel, sentinel + "\\\n  more"}
	for _, st := range SourceTypes {
		for _, v := range variants {
			var b strings.Builder
			b.WriteString("srcType=" + st + "\ndestType=s3\nsrcBucket=" + sentinel[:3] + "\n")
			for _, k := range jobSecrets {
				b.WriteString(k + "=" + v + "\n")
			}
			b.WriteString("srcSecretKey=\nsrcAccessKey=" + v + "\n" + "destSecretKey=\n")
			j, diags := ParseJob("j.cfg", []byte(b.String()))
			assertNoSentinel(t, sentinel, diags, j.Effective())
		}
	}
	for _, v := range variants {
		var b strings.Builder
		for _, k := range append(sysSecrets, "slavePassword") {
			b.WriteString(k + "=" + v + "\n")
		}
		b.WriteString("natsUrl=nats://u:" + sentinel + "@h:1/p, tls://" + sentinel + "@:x\n")
		s, diags := ParseSys("s", []byte(b.String()))
		assertNoSentinel(t, sentinel, diags, s.Effective())
	}
}

func assertNoSentinel(t *testing.T, sentinel string, diags Diagnostics, settings []Setting) {
	t.Helper()
	probe := sentinel[4:20]
	for _, d := range diags {
		if strings.Contains(d.String(), probe) {
			t.Errorf("secret in diagnostic: %s", d)
		}
	}
	if err := diags.Err(); err != nil && strings.Contains(err.Error(), probe) {
		t.Errorf("secret in error: %v", err)
	}
	for _, s := range settings {
		if strings.Contains(s.Value, probe) || strings.Contains(s.Note, probe) {
			t.Errorf("secret in effective setting %s = %s", s.Key, s.Value)
		}
	}
}
