package plan

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/transfer"
)

// reflectTask is Task without its MarshalJSON: what encoding/json wrote
// before it.
type reflectTask struct {
	ID      string            `json:"id"`
	Job     string            `json:"job"`
	Round   int               `json:"round"`
	Objects []transfer.Object `json:"objects"`
	Bytes   int64             `json:"bytes"`
}

// TestTaskJSONIsEncodingJSONs checks that a task encodes to the very bytes
// encoding/json writes by reflection, for keys with HTML characters,
// control characters, non-ASCII and invalid UTF-8, zero and non-UTC
// times and every optional field, and that it decodes back unchanged.
func TestTaskJSONIsEncodingJSONs(t *testing.T) {
	keys := []string{"plain/key.txt", "a<b>&c", "quote\"back\\slash", "tab\tnew\nline\x01", "中文/ファイル",
		"bad\xff\xfeutf8", "line\u2028sep", "", "dir/", " spaced name "}
	valid := keys[:5] // fields other than keys are text: invalid UTF-8 does not survive them
	rng := rand.New(rand.NewPCG(1, 2))
	zones := []*time.Location{time.UTC, time.FixedZone("x", 5*3600+1800), time.Local}
	var tasks []Task
	tasks = append(tasks, Task{ID: "empty", Job: "j"}, Task{ID: "none", Job: "j", Objects: []transfer.Object{}})
	for i := range 50 {
		tk := Task{ID: "ID_" + valid[i%len(valid)], Job: "job<" + valid[i%len(valid)], Round: i % 3, Bytes: rng.Int64N(1 << 40)}
		for j := range rng.IntN(20) + 1 {
			o := transfer.Object{Key: keys[rng.IntN(len(keys))], Size: rng.Int64N(1<<33) - 1}
			if j%2 == 0 {
				o.DstKey = "pre/" + keys[rng.IntN(len(keys))]
			}
			if j%3 != 0 {
				o.ModTime = time.Unix(rng.Int64N(2_000_000_000), rng.Int64N(1e9)).In(zones[j%len(zones)])
			}
			if j%4 == 0 {
				o.ETag = `"` + valid[rng.IntN(len(valid))] + `"`
				o.IsSymlink = true
			}
			if j%5 == 0 {
				o.UploadID, o.PartSize = "up&"+valid[rng.IntN(len(valid))], rng.Int64N(1<<30)
			}
			tk.Objects = append(tk.Objects, o)
		}
		tasks = append(tasks, tk)
	}
	for _, tk := range tasks {
		got, err := json.Marshal(tk)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(reflectTask(tk))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("task %s encodes as\n%s\nencoding/json writes\n%s", tk.ID, got, want)
		}
		var back Task
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
		for i := range back.Objects { // times come back in UTC or a fixed zone
			if !back.Objects[i].ModTime.Equal(tk.Objects[i].ModTime) {
				t.Fatalf("task %s object %d: time %v came back as %v", tk.ID, i, tk.Objects[i].ModTime, back.Objects[i].ModTime)
			}
			back.Objects[i].ModTime = tk.Objects[i].ModTime
		}
		if !reflect.DeepEqual(back, tk) {
			t.Fatalf("task %s came back as %+v", tk.ID, back)
		}
	}
}

// TestTaskJSONRefusesYearsJSONCannotHold checks that a time encoding/json
// refuses is refused here too.
func TestTaskJSONRefusesYearsJSONCannotHold(t *testing.T) {
	tk := Task{ID: "x", Job: "j", Objects: []transfer.Object{{Key: "k", ModTime: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}}
	if _, err := json.Marshal(tk); err == nil {
		t.Fatal("a year past 9999 was encoded")
	}
}

func BenchmarkTaskJSON(b *testing.B) {
	tk := Task{ID: "ID", Job: "job"}
	for i := range 10000 {
		tk.Objects = append(tk.Objects, transfer.Object{Key: "d12/f" + string(rune('a'+i%26)) + "0123", Size: int64(i), ModTime: time.Unix(1_700_000_000, int64(i))})
	}
	for _, c := range []struct {
		name string
		v    any
	}{{"fast", tk}, {"reflect", reflectTask(tk)}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(c.v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
