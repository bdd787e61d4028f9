package master

import (
	"errors"

	"github.com/ossimport/ossimport/internal/config"
)

// Settings are the sys.properties values the master uses, read from the
// configuration in one place (SettingsFrom); the rest of the package
// never reads config.Sys.
type Settings struct {
	// MaxDeliveries is taskMaxDeliver: how many deliveries a task gets
	// before it fails (the failure names it).
	MaxDeliveries int
	// ResolveWith is the process's sys settings, handed unread to
	// Options.Resolve, which takes a job's worker settings (threads,
	// throughput, checks) from it to build the job's spec.
	ResolveWith *config.Sys
}

// SettingsFrom reads the master's settings from the sys settings s.
func SettingsFrom(s *config.Sys) Settings {
	return Settings{MaxDeliveries: s.TaskMaxDeliver, ResolveWith: s}
}

// Validate checks the settings.
func (s *Settings) Validate() error {
	if s.ResolveWith == nil {
		return errors.New("master: settings not read from sys settings (SettingsFrom)")
	}
	return nil
}
