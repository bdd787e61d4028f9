package bus

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/testenv"
)

// TestFollowSurvivesANodeLoss: a journal follower on a three-server
// cluster keeps receiving every entry after the server it is connected
// to, or the one leading the journal stream, is killed: an entry
// appended after the loss reaches it within the deadline. So does a watch
// of a whole KV bucket on the same connection (the standbys' checkpoint
// mirror): its push-based ordered consumer has not been seen to stall.
func TestFollowSurvivesANodeLoss(t *testing.T) {
	for _, victim := range []string{"connected", "leader"} {
		t.Run(victim, func(t *testing.T) {
			c := testenv.StartNATSCluster(t, 3, testenv.NATSClusterOptions{})
			ctx, cancel := context.WithTimeout(t.Context(), testenv.Scale(3*time.Minute))
			defer cancel()
			conn := func(name string) *Bus {
				b, err := Connect(ctx, ConnOptions{URLs: c.URLs(), Token: c.Token, Name: name, Retry: Retry{Patience: 30 * time.Second}})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(b.Close)
				return b
			}
			writer, follower := conn("writer"), conn("follower")
			if err := writer.Setup(ctx, SetupOptions{Update: true, Retry: Retry{Patience: 45 * time.Second}}); err != nil {
				t.Fatal(err)
			}
			if err := follower.Setup(ctx, SetupOptions{Retry: Retry{Patience: 45 * time.Second}}); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			seen := map[string]bool{}
			fctx, stop := context.WithCancel(ctx)
			defer stop()
			go func() {
				_ = follower.Follow(fctx, 0, func(e JournalEntry) error {
					mu.Lock()
					seen[e.TaskID] = true
					mu.Unlock()
					return nil
				})
			}()
			// A watch of a whole bucket (the standbys' checkpoint mirror)
			// on the same connection.
			changes, err := follower.Checkpoints().Watch(fctx, ">")
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				for e := range changes {
					mu.Lock()
					seen["kv:"+e.Key] = true
					mu.Unlock()
				}
			}()
			has := func(id string) func() bool {
				return func() bool { mu.Lock(); defer mu.Unlock(); return seen[id] }
			}
			appendOne := func(i int) {
				t.Helper()
				id := "T" + strconv.Itoa(i)
				testenv.Wait(t, time.Minute, "append "+id, func() bool {
					actx, acancel := context.WithTimeout(ctx, 5*time.Second)
					defer acancel()
					return writer.Append(actx, "job", KindResult, id, id, []byte("x")) == nil
				})
				testenv.Wait(t, time.Minute, "put checkpoint "+id, func() bool {
					actx, acancel := context.WithTimeout(ctx, 5*time.Second)
					defer acancel()
					return writer.Checkpoints().Put(actx, id, []byte("x")) == nil
				})
			}
			appendOne(0)
			testenv.Wait(t, 30*time.Second, "the first entry followed", has("T0"))
			testenv.Wait(t, 30*time.Second, "the first checkpoint watched", has("kv:T0"))
			idx := leaderIndex(t, ctx, follower, ResultStream)
			if victim == "connected" {
				_, _ = fmt.Sscanf(follower.nc.ConnectedServerName(), "n%d", &idx)
			}
			t.Logf("follower on %s, killing n%d", follower.nc.ConnectedServerName(), idx)
			c.Kill(idx)
			for i := 1; i <= 5; i++ {
				appendOne(i)
			}
			testenv.Wait(t, 60*time.Second, "every entry appended after the loss followed", has("T5"))
			testenv.Wait(t, 60*time.Second, "every checkpoint put after the loss watched", has("kv:T5"))
			for i := 1; i <= 5; i++ {
				if !has("T" + strconv.Itoa(i))() {
					t.Errorf("entry T%d was never followed", i)
				}
				if !has("kv:T" + strconv.Itoa(i))() {
					t.Errorf("checkpoint T%d was never watched", i)
				}
			}
		})
	}
}
