package master_test

import (
	"testing"
	"time"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/master"
)

// TestSettingsFromReadsTheMastersKeys: the master's settings carry
// taskMaxDeliver and the sys settings jobs are resolved with; options
// without settings read from a configuration are refused.
func TestSettingsFromReadsTheMastersKeys(t *testing.T) {
	sys := config.DefaultSys()
	sys.TaskMaxDeliver = 7
	s := master.SettingsFrom(sys)
	if s.MaxDeliveries != 7 || s.ResolveWith != sys {
		t.Fatalf("settings %+v", s)
	}
	o := master.Options{Dir: "work", Poll: time.Second}
	if err := o.Validate(); err == nil {
		t.Fatal("options without a bus and settings accepted")
	}
	if err := (&master.Settings{MaxDeliveries: 3}).Validate(); err == nil {
		t.Fatal("settings not read from the sys settings accepted")
	}
}
