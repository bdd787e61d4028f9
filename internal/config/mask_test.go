package config

import (
	"strings"
	"testing"
)

func TestMaskJobFile(t *testing.T) {
	in := "jobName=secret_job\r\n# srcSecretKey=commented stays\nsrcAccessKey = AKIDXYZ\nsrcSecretKey=TOPSECRET\ndestSecretKey : CONTINUED\\\n   SECRETTAIL\ndestBucket=bucket\nexpressTunnelAuthToken=TOKEN123"
	out := string(MaskJobFile([]byte(in)))
	for _, secret := range []string{"AKIDXYZ", "TOPSECRET", "CONTINUED", "SECRETTAIL", "TOKEN123"} {
		if strings.Contains(out, secret) {
			t.Errorf("masked file still holds %q:\n%s", secret, out)
		}
	}
	for _, kept := range []string{"jobName=secret_job", "destBucket=bucket", "srcSecretKey=****", "# srcSecretKey=commented stays"} {
		if !strings.Contains(out, kept) {
			t.Errorf("masked file lost %q:\n%s", kept, out)
		}
	}
	// The copy ends with a line end, which the input lacks.
	if got, want := strings.Count(out, "\n"), strings.Count(strings.ReplaceAll(in, "\r\n", "\n"), "\n")+1; got != want {
		t.Errorf("%d lines after masking, want %d:\n%s", got, want, out)
	}
	if strings.Index(strings.Split(out, "\n")[6], "destBucket") != 0 {
		t.Errorf("line numbers moved:\n%s", out)
	}
}

func TestWorkerSysFile(t *testing.T) {
	in := "workingDir=/data/ossimport\nworkerUserName=root\nworkerPassword=hunter2\\\n  more\nworkerTaskThreadNum=60\n"
	out := string(WorkerSysFile([]byte(in)))
	if strings.Contains(out, "hunter2") || strings.Contains(out, "more") {
		t.Fatalf("password kept:\n%s", out)
	}
	for _, keep := range []string{"workingDir=/data/ossimport\n", "workerUserName=root\n", "workerTaskThreadNum=60\n", "workerPassword=\n"} {
		if !strings.Contains(out, keep) {
			t.Errorf("%q missing from\n%s", keep, out)
		}
	}
	if strings.Count(out, "\n") != strings.Count(in, "\n") {
		t.Errorf("line count changed: %q", out)
	}
}
