package tracker

import (
	"fmt"
	"strings"

	"github.com/ossimport/ossimport/internal/plan"
)

// damaged keeps a job whose task folders are damaged or missing from
// showing Succeed: its objects are not all accounted for. The Reason
// names the damaged folders (the tracker restores them at start from the
// plan log, see Repair).
func (st *JobStatus) damaged(t Tally, cp *plan.Checkpoint, kept bool) {
	var why []string
	if len(t.Damaged) > 0 {
		shown := t.Damaged[:min(len(t.Damaged), 5)]
		more := ""
		if len(t.Damaged) > len(shown) {
			more = fmt.Sprintf(" and %d more", len(t.Damaged)-len(shown))
		}
		why = append(why, fmt.Sprintf("%d task folder(s) with an unreadable or missing TASK file: %s%s", len(t.Damaged), strings.Join(shown, ", "), more))
	}
	if !kept && st.ScanFinished && cp != nil && t.tasks() < cp.Stats.Tasks {
		why = append(why, fmt.Sprintf("%d of the %d planned tasks have no folder", cp.Stats.Tasks-t.tasks(), cp.Stats.Tasks))
	}
	if len(why) == 0 {
		return
	}
	if st.State == Succeed {
		st.State = Failed
	}
	st.Reason = strings.Join(why, "; ") + " (start the service to restore them from the plan log)"
}
