package console

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ossimport/ossimport/internal/config"
	"github.com/ossimport/ossimport/internal/service"
)

// The settings the verbs read: the job file, sys.properties (the file
// given, else conf/sys.properties under $OSS_IMPORT_HOME), with their
// warnings and errors.

// loadConfig reads and validates the job and sys files, printing
// warnings; errors end the command with status 2.
func loadConfig(stderr io.Writer, jobPath, sysArg string) (*config.Job, *config.Sys, error) {
	j, diags, err := config.LoadJob(jobPath)
	if errors.Is(err, os.ErrNotExist) {
		err = fmt.Errorf("%w (give the job file as an argument, or set OSS_IMPORT_HOME to the folder holding conf/)", err)
	}
	if err != nil {
		return nil, nil, &ExitError{Code: 2, Err: err}
	}
	s, sd, err := loadSys(sysArg)
	if err != nil {
		return nil, nil, err
	}
	if err := warnOrFail(stderr, append(diags, sd...)); err != nil {
		return nil, nil, err
	}
	return j, s, nil
}

// loadSys reads sys.properties: the file given, else conf/sys.properties
// when present, else the defaults.
func loadSys(sysArg string) (*config.Sys, config.Diagnostics, error) {
	sysPath := sysArg
	if sysPath == "" {
		if p := service.ConfFile("sys.properties"); service.FileExists(p) {
			sysPath = p
		}
	}
	if sysPath == "" {
		return config.DefaultSys(), nil, nil
	}
	s, diags, err := config.LoadSys(sysPath)
	if err != nil {
		return nil, nil, &ExitError{Code: 2, Err: err}
	}
	return s, diags, nil
}

// loadSysWarn is loadSys for the roles: warnings go to stderr, errors
// end the command with status 2.
func loadSysWarn(stderr io.Writer, sysArg string) (*config.Sys, error) {
	s, diags, err := loadSys(sysArg)
	if err != nil {
		return nil, err
	}
	if err := warnOrFail(stderr, diags); err != nil {
		return nil, err
	}
	return s, nil
}

// warnOrFail prints the warnings; errors become an exit status 2.
func warnOrFail(stderr io.Writer, diags config.Diagnostics) error {
	for _, d := range diags.Warnings() {
		fmt.Fprintln(stderr, d)
	}
	if err := diags.Err(); err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	return nil
}

// loadValidSys is loadSys for verbs that print no warnings: errors in
// sys.properties end the command with status 2.
func loadValidSys(sysArg string) (*config.Sys, error) {
	s, diags, err := loadSys(sysArg)
	if err != nil {
		return nil, err
	}
	if err := diags.Err(); err != nil {
		return nil, &ExitError{Code: 2, Err: err}
	}
	return s, nil
}

// defaultJobFile is conf/job.cfg, or conf/local_job.cfg when only that
// one exists (the standalone package).
func defaultJobFile() string {
	if p := service.ConfFile("job.cfg"); service.FileExists(p) || !service.FileExists(service.ConfFile("local_job.cfg")) {
		return p
	}
	return service.ConfFile("local_job.cfg")
}

// loadDeployment is loadValidSys and the workers file (see
// service.LoadCluster; nil without one), for the verbs that act on every
// host: errors end the command with status 2.
func loadDeployment(sysPath, workersPath string) (*config.Sys, *service.Cluster, error) {
	s, err := loadValidSys(sysPath)
	if err != nil {
		return nil, nil, err
	}
	c, err := service.LoadCluster(s, workersPath)
	if err != nil {
		return nil, nil, &ExitError{Code: 2, Err: err}
	}
	return s, c, nil
}
