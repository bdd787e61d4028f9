package plan

// Checkpoint is the resumable state of one scan. It only advances when a
// task has been emitted, so resuming from it never loses or repeats an
// object.
type Checkpoint struct {
	Job   string `json:"job"`
	Round int    `json:"round"`
	// Started is the scan's start in Unix milliseconds; it is part of
	// every task id.
	Started int64                  `json:"started"`
	Shards  map[string]*ShardState `json:"shards"`
	Done    bool                   `json:"done"`
	// Finished is when the scan ended, in Unix milliseconds.
	Finished int64 `json:"finished,omitempty"`
	Stats    Stats `json:"stats"`
}

// ShardState is how far the listing of one shard (a prefix listed by one
// thread) has been planned.
type ShardState struct {
	Depth int  `json:"depth"`
	Flat  bool `json:"flat"` // listed without a delimiter, down the whole tree
	// Token is the listing token of the page being planned ("" for the
	// first page) and Skip the objects of that page already in emitted
	// tasks.
	Token string `json:"token,omitempty"`
	Skip  int    `json:"skip,omitempty"`
	Seq   int    `json:"seq"` // tasks emitted from this shard
	Done  bool   `json:"done,omitempty"`
}

// clone deep-copies the checkpoint so it can be saved while planning goes
// on.
func (cp *Checkpoint) clone() *Checkpoint {
	c := *cp
	c.Shards = make(map[string]*ShardState, len(cp.Shards))
	for k, v := range cp.Shards {
		s := *v
		c.Shards[k] = &s
	}
	return &c
}
