package config

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestSysDefaults(t *testing.T) {
	s, diags := ParseSys("conf/sys.properties", nil)
	if len(diags) != 0 {
		t.Fatalf("diagnostics: %v", diagLines(diags))
	}
	if s.WorkingDir != "." || s.SSHPort != 22 || s.WorkerTaskThreadNum != 60 || s.WorkerMaxThroughputKB != 0 ||
		s.DispatcherThreadNum != 1 || s.MemoryLimit != 1024*MiB || s.NATSPort != 4222 || s.LogLevel != "info" ||
		s.LogMaxSize != 100*MiB || s.LogMaxFiles != 5 || s.HTTPListen != "127.0.0.1:8086" ||
		s.TaskAckWait != 300*time.Second || s.TaskMaxDeliver != 5 || s.WorkerHTTPListen != "" ||
		s.WorkerProgressInterval != 2*time.Second || s.WorkerHeartbeatInterval != 5*time.Second {
		t.Errorf("defaults: %+v", s)
	}
	if got := s.NATSListenAddr(false); got != "127.0.0.1" {
		t.Errorf("standalone listen %q", got)
	}
	if got := s.NATSListenAddr(true); got != "0.0.0.0" {
		t.Errorf("distributed listen %q", got)
	}
}

func TestSysIntervals(t *testing.T) {
	s, diags := ParseSys("s", []byte("workerProgressInterval=250\nworkerHeartbeatInterval=2\n"))
	if len(diags) != 0 || s.WorkerProgressInterval != 250*time.Millisecond || s.WorkerHeartbeatInterval != 2*time.Second {
		t.Fatalf("progress %v heartbeat %v, diagnostics %v", s.WorkerProgressInterval, s.WorkerHeartbeatInterval, diagLines(diags))
	}
}

func TestSysJavaHeapEmptyLine(t *testing.T) {
	s, _ := ParseSys("conf/sys.properties", []byte("javaHeapMaxSize=\n"))
	if s.MemoryLimit != 1024*MiB {
		t.Errorf("MemoryLimit = %d", s.MemoryLimit)
	}
	s, _ = ParseSys("conf/sys.properties", []byte("javaHeapMaxSize=4g\nworkerMaxThroughput(KB/s)=100\n"))
	if s.MemoryLimit != 4*GiB || s.MaxThroughput() != 100*KiB {
		t.Errorf("MemoryLimit = %d, throughput %d", s.MemoryLimit, s.MaxThroughput())
	}
}

func TestSysLegacyAliases(t *testing.T) {
	in := "slaveUserName=root\nslaveTaskThreadNum=30\nslaveMaxThroughput(KB/s)=500\nslaveAbortWhenUncatchedException=true\nworkerUser=ignored\n"
	s, diags := ParseSys("conf/sys.properties", []byte(in))
	if s.WorkerUserName != "ignored" || s.WorkerTaskThreadNum != 30 || s.WorkerMaxThroughputKB != 500 || !s.WorkerAbortWhenUncatchedException {
		t.Errorf("values: %+v", s)
	}
	got := diagLines(diags)
	for _, want := range []string{
		"warning: conf/sys.properties:1: legacy key slaveUserName, use workerUserName (the value is used)",
		"warning: conf/sys.properties:2: legacy key slaveTaskThreadNum, use workerTaskThreadNum (the value is used)",
		"warning: conf/sys.properties:3: legacy key slaveMaxThroughput(KB/s), use workerMaxThroughput(KB/s) (the value is used)",
		`error: conf/sys.properties:5: "slaveUserName" (line 1) and "workerUser" (line 5) set the same thing; keep only "workerUserName"`,
	} {
		if !slices.Contains(got, want) {
			t.Errorf("missing %s\ngot %q", want, got)
		}
	}
	if _, diags := ParseSys("s", []byte("workerUser=root\n")); len(diags) != 0 {
		t.Errorf("workerUser alone: %v", diagLines(diags))
	}
}

func TestSysRules(t *testing.T) {
	dir := t.TempDir()
	cert := filepath.Join(dir, "c.pem")
	if err := os.WriteFile(cert, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ in, want string }{
		{"sshPort=0", `error: s:1: sshPort "0" is out of range (use 1 to 65535)`},
		{"workerTaskThreadNum=0", `error: s:1: workerTaskThreadNum "0" is out of range (use 1 to 1000)`},
		{"workerMaxThroughput(KB/s)=-1", `error: s:1: workerMaxThroughput(KB/s) "-1" is out of range (use at least 0)`},
		{"natsUrl=nats://user:hunter2@10.0.0.1:4222/x", `error: s:1: natsUrl entry 1 ("nats://****@10.0.0.1:4222/x") must not have a path or query`},
		{"natsUrl=tls://nats.example.com:0", `error: s:1: natsUrl entry 1 ("tls://nats.example.com:0") has an invalid port (use 1 to 65535)`},
		{"natsTlsCert=" + cert, `error: s: natsTlsCert and natsTlsKey must be set together (or both left empty)`},
		{"natsTlsCaFile=" + filepath.Join(dir, "none.pem"), `error: s:1: natsTlsCaFile "` + filepath.Join(dir, "none.pem") + `" cannot be read: no such file or directory (fix the path)`},
		{"natsCredsFile=" + cert, `warning: s:1: natsCredsFile is only used with an external NATS (natsUrl) and is ignored`},
		{"workerHttpListen=:99999", `error: s:1: workerHttpListen ":99999" has an invalid port (use 1 to 65535)`},
		{"workerMaxRequestRate=-3", `error: s:1: workerMaxRequestRate "-3" is out of range (use at least 0)`},
		{"logMaxSize=10k", `error: s:1: logMaxSize "10k" is out of range (use at least 1m)`},
		{"taskMaxDeliver=0", `error: s:1: taskMaxDeliver "0" is out of range (use 1 to 1000)`},
		{"workerProgressInterval=50", `error: s:1: workerProgressInterval "50" is out of range (use at least 100)`},
		{"workerProgressInterval=1s", `error: s:1: workerProgressInterval "1s" is not a whole number (write digits only, e.g. 2000)`},
		{"workerHeartbeatInterval=0", `error: s:1: workerHeartbeatInterval "0" is out of range (use 1 to 3600)`},
		{"javaHeapMaxSize=128m", `warning: s:1: javaHeapMaxSize "128m" is small; with many threads the service will spend most of its time collecting garbage (use 1024m or more)`},
		{"workerMaxThroughputSchedule=8:00,1M", `error: s:1: workerMaxThroughputSchedule "8:00,1M" is invalid: bad entry "8:00,1M": time must be written HH:MM`},
		{"srcPrefix=/x/", `warning: s:1: key "srcPrefix" belongs in the job file and is ignored here (move it there)`},
	}
	for _, tt := range tests {
		_, diags := ParseSys("s", []byte(tt.in+"\n"))
		if got := diagLines(diags); !slices.Contains(got, tt.want) {
			t.Errorf("%s\nwant %s\ngot  %q", tt.in, tt.want, got)
		}
	}
}

func TestSysPathResolution(t *testing.T) {
	t.Setenv("HOME", "/home/tester")
	s, diags := ParseSys("/opt/ossimport/conf/sys.properties", []byte("workingDir=work\nsshKnownHostsFile=~/.ssh/kh\nprivateKeyFile=\n"))
	if len(diags) != 0 {
		t.Fatal(diagLines(diags))
	}
	if s.WorkingDir != "/opt/ossimport/work" || s.SSHKnownHostsFile != "/home/tester/.ssh/kh" {
		t.Errorf("resolved %q %q", s.WorkingDir, s.SSHKnownHostsFile)
	}
	for _, e := range s.Effective() {
		if e.Key == "workingDir" && e.Note != "written as work" {
			t.Errorf("note %q", e.Note)
		}
	}
	s, _ = ParseSys("/opt/ossimport/conf/sys.properties", []byte("workingDir=/abs/dir/\n"))
	if s.WorkingDir != "/abs/dir" {
		t.Errorf("absolute %q", s.WorkingDir)
	}
}

func TestLoadSysAbsolutePaths(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "conf", "sys.properties")
	if err := os.WriteFile(path, []byte("workingDir=.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, _, err := LoadSys(path)
	if err != nil || s.WorkingDir != dir {
		t.Fatalf("WorkingDir %q, err %v", s.WorkingDir, err)
	}
	if _, _, err := LoadSys(filepath.Join(dir, "missing")); err == nil {
		t.Error("no error for a missing file")
	}
}
