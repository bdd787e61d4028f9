package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/tracker"
	"github.com/ossimport/ossimport/internal/workdir"
)

// `ossimport run` against three real nats-server processes (natsUrl
// listing all three, natsReplicas left automatic): every stream and
// bucket gets 3 replicas; killing the node that leads the task stream
// mid-job does not stop the job, which ends Succeed with every object
// copied byte for byte.
func TestRunOnANATSClusterSurvivesANodeLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real nats-server processes")
	}
	c := testenv.StartNATSCluster(t, 3, testenv.NATSClusterOptions{})
	conf, work, src, dst := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	tokenFile := filepath.Join(conf, "nats.token")
	writeFile(t, tokenFile, []byte(c.Token+"\n"))
	if err := os.Chmod(tokenFile, 0o600); err != nil {
		t.Fatal(err)
	}
	const n = 60
	rng := rand.New(rand.NewPCG(7, 15))
	files := map[string][]byte{}
	for i := range n {
		rel := fmt.Sprintf("d%d/f%03d.bin", i%4, i)
		data := make([]byte, 16<<10)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		files[rel] = data
		writeFile(t, filepath.Join(src, rel), data)
	}
	jobFile, sysFile := filepath.Join(conf, "job.cfg"), filepath.Join(conf, "sys.properties")
	writeFile(t, jobFile, []byte(fmt.Sprintf("jobName=ha_job\nsrcType=local\nsrcPrefix=%s/\ndestType=local\ndestBucket=%s\ntaskObjectCountLimit=5\n", src, dst)))
	// 100 KB/s makes the job last about ten seconds: the node is killed
	// while it runs.
	writeFile(t, sysFile, []byte(fmt.Sprintf("workingDir=%s\nnatsUrl=%s\nnatsCredsFile=%s\nhttpListen=\nworkerTaskThreadNum=2\n"+
		"workerMaxThroughput(KB/s)=100\ntaskAckWait=10\njavaHeapMaxSize=256m\n", work, c.URLs(), tokenFile)))

	ctx, cancel := context.WithTimeout(t.Context(), testenv.Scale(100*time.Second))
	defer cancel()
	var out, errOut bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- runJob(ctx, &out, &errOut, runFlags{job: jobFile, sys: sysFile}) }()
	dir := workdir.Dir(work)
	t.Cleanup(func() {
		if t.Failed() {
			for _, l := range []string{"master.log", "tracker.log", "worker.log"} {
				data, _ := os.ReadFile(filepath.Join(dir.Logs(), l))
				t.Logf("--- %s (last 4 KiB):\n%s", l, data[max(0, len(data)-4096):])
			}
		}
	})
	var st tracker.JobStatus
	testenv.Wait(t, 60*time.Second, "the first objects copied", func() bool {
		select {
		case err := <-done:
			t.Fatalf("run ended before the node loss: %v\n%s\n%s", err, out.String(), errOut.String())
		default:
		}
		var err error
		st, err = tracker.ReadStatus(dir, "ha_job")
		return err == nil && st.Objects.Done > 0
	})

	b, err := bus.Connect(ctx, bus.ConnOptions{URLs: c.URLs(), Token: c.Token, Name: t.Name()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	reps, err := b.Replication(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leader := -1
	for _, r := range reps {
		if r.Replicas != 3 {
			t.Errorf("%s has %d replicas, want 3 (natsReplicas automatic on a cluster of three)", r.Stream, r.Replicas)
		}
		if r.Stream == bus.TaskStream {
			fmt.Sscanf(r.Leader, "n%d", &leader)
		}
	}
	if len(reps) != len(bus.AssetStreams) || leader < 0 {
		t.Fatalf("replication %+v", reps)
	}
	if st, _ := tracker.ReadStatus(dir, "ha_job"); st.Ended() {
		t.Fatalf("the job ended before the node loss: %+v", st)
	}
	killed := time.Now()
	c.Kill(leader)
	t.Logf("killed n%d (leader of %s) at %d of %d objects", leader, bus.TaskStream, st.Objects.Done, n)

	select {
	case err = <-done:
	case <-time.After(testenv.Scale(60 * time.Second)):
		var stacks bytes.Buffer
		_ = pprof.Lookup("goroutine").WriteTo(&stacks, 1)
		info := consumerDiag(ctx, c)
		t.Fatalf("run did not end within 60s of the node loss (%s)\n%s\n%s", info, errOut.String(), stacks.String())
	}
	if code := exitCode(err); code != 0 {
		t.Fatalf("run: exit %d: %v\n%s\n%s", code, err, out.String(), errOut.String())
	}
	t.Logf("the job ended %s after the node loss", time.Since(killed).Round(time.Millisecond))
	st, err = tracker.ReadStatus(dir, "ha_job")
	if err != nil || st.State != tracker.Succeed || st.Objects.Done != n || st.FailedObjs != 0 {
		t.Fatalf("status %+v (%v)", st, err)
	}
	for rel, want := range files {
		got, err := os.ReadFile(filepath.Join(dst, rel))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: copy differs or missing (%v)", rel, err)
		}
	}
}

// consumerDiag describes the task stream and consumer, for a failure.
func consumerDiag(ctx context.Context, c *testenv.NATSCluster) string {
	nc, err := nats.Connect(c.URLs(), nats.Token(c.Token))
	if err != nil {
		return err.Error()
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	s, err := js.Stream(ctx, bus.TaskStream)
	if err != nil {
		return err.Error()
	}
	out := ""
	for i := range c.N() {
		if !c.Running(i) {
			continue
		}
		resp, err := http.Get(c.MonitorURL(i) + "/connz")
		if err == nil {
			var z struct {
				Conns []struct {
					Name string `json:"name"`
				} `json:"connections"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&z)
			resp.Body.Close()
			out += fmt.Sprintf("n%d clients %v; ", i, z.Conns)
		}
	}
	out += fmt.Sprintf("stream msgs %d leader %v; ", s.CachedInfo().State.Msgs, s.CachedInfo().Cluster)
	for ci := range s.ListConsumers(ctx).Info() {
		out += fmt.Sprintf("consumer %s pending %d ackPending %d waiting %d redelivered %d delivered %+v leader %+v; ",
			ci.Name, ci.NumPending, ci.NumAckPending, ci.NumWaiting, ci.NumRedelivered, ci.Delivered, ci.Cluster)
	}
	return out
}
