package job

import (
	"github.com/ossimport/ossimport/internal/config"
)

// Resolver builds the engine spec of a submitted job from the job file's
// text (as stored by submit) and the process's own sys settings. Every
// role resolves jobs through one, so master, tracker and workers agree
// on what a job is.
type Resolver func(file string, cfg []byte, s *config.Sys) (*Spec, error)

// FromConfig is the Resolver of real deployments: it parses the job file
// as submitted and builds its Spec.
func FromConfig(file string, cfg []byte, s *config.Sys) (*Spec, error) {
	j, diags := config.ParseJob(file, cfg)
	if err := diags.Err(); err != nil {
		return nil, err
	}
	return New(j, s)
}
