package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/bus"
	"github.com/ossimport/ossimport/internal/master"
	"github.com/ossimport/ossimport/internal/testenv"
	"github.com/ossimport/ossimport/internal/transfer"
	"github.com/ossimport/ossimport/internal/workdir"
)

// TestStatShowsTheMaster: stat names the active master, and says when no
// master runs a job that has not ended — never a stale healthy picture.
func TestStatShowsTheMaster(t *testing.T) {
	now := time.Now()
	lost := now.Add(-3 * time.Minute).Truncate(time.Second)
	stamp := lost.Local().Format(time.DateTime)
	tests := []struct {
		name   string
		leader *master.LeaderView
		ask    func() (bus.Leader, bool) // the shared NATS's lease holder
		want   []string                  // lines stat must print
		absent []string
	}{
		{"no record (an earlier version)", nil, nil,
			[]string{"JobName:run_job\nJobState:Running\n", "JobName:done_job\nJobState:Succeed\n"}, []string{"Master:", "no master"}},
		{"a master runs", &master.LeaderView{Name: "h1 (pid 7)", Since: lost, Renewed: now, Seen: now}, nil,
			[]string{"JobState:Running\n", "Master:h1 (pid 7) Since:" + stamp + "\n"}, []string{"no master"}},
		{"the services were killed", &master.LeaderView{Name: "h1 (pid 7)", Since: lost.Add(-time.Hour), Renewed: lost, Seen: lost}, nil,
			[]string{"JobName:run_job\nJobState:Running (no master since " + stamp + ")\n", "JobName:done_job\nJobState:Succeed\n"}, []string{"Master:"}},
		{"killed here, a master leads elsewhere", &master.LeaderView{Name: "h1 (pid 7)", Since: lost.Add(-time.Hour), Renewed: lost, Seen: lost},
			func() (bus.Leader, bool) { return bus.Leader{Name: "h2 (pid 9)", Since: lost, Renewed: now}, true },
			[]string{"JobState:Running\n", "Master:h2 (pid 9) Since:" + stamp + "\n",
				"warning: no service has run on this working directory since " + stamp + ", so its view is out of date; the active master is h2 (pid 9)"},
			[]string{"no master"}},
		{"killed here, no master anywhere", &master.LeaderView{Name: "h1 (pid 7)", Since: lost.Add(-time.Hour), Renewed: lost, Seen: lost},
			func() (bus.Leader, bool) { return bus.Leader{}, false },
			[]string{"JobState:Running (no master since " + stamp + ")\n"}, []string{"Master:"}},
		{"a standby sees no master", &master.LeaderView{Lost: lost, Seen: now}, nil,
			[]string{"JobState:Running (no master since " + stamp + ")\n"}, []string{"Master:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := statHome(t)
			fileTask(t, dir, "run_job", workdir.Pending, "T1", []transfer.Result{{Object: transfer.Object{Key: "a", Size: 1}, Code: transfer.Succeed}})
			fileTask(t, dir, "done_job", workdir.Succeed, "T2", []transfer.Result{{Object: transfer.Object{Key: "b", Size: 1}, Code: transfer.Succeed, Size: 1}})
			if tc.leader != nil {
				data, _ := json.Marshal(tc.leader)
				if err := workdir.WriteFile(filepath.Join(string(dir), "master", workdir.LeaderFile), data); err != nil {
					t.Fatal(err)
				}
			}
			var warnings bytes.Buffer
			v := statView{dir: dir, askLeader: tc.ask, stderr: &warnings}
			jobs, workers, err := v.read()
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := v.render(&out, jobs, workers, now); err != nil {
				t.Fatal(err)
			}
			out.WriteString(warnings.String())
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stat lacks %q:\n%s", w, out.String())
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(out.String(), a) {
					t.Errorf("stat shows %q:\n%s", a, out.String())
				}
			}
			// --until-done gives up on a job no master has run for a
			// while, naming it, instead of waiting forever.
			if gone := strings.Contains(tc.want[0], "no master since"); gone {
				ctx, cancel := context.WithTimeout(t.Context(), testenv.Scale(time.Minute))
				defer cancel()
				err := watchStat(ctx, &bytes.Buffer{}, statView{dir: dir, names: []string{"run_job"}, askLeader: tc.ask}, time.Millisecond, true)
				var exit *ExitError
				if !errors.As(err, &exit) || exit.Code != 1 || !strings.Contains(err.Error(), "job run_job is Running but no master has run it since "+stamp) {
					t.Errorf("--until-done with no master: %v", err)
				}
			}
		})
	}
}
