package service

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// errWindowsService explains what Windows users can do instead.
var errWindowsService = errors.New("the background service is not available on Windows yet; run the job in the foreground with `ossimport run`")

func lockExclusive(*os.File) (bool, error) { return false, errWindowsService }

// ProcessAlive reports whether pid is a live process.
func ProcessAlive(int) bool { return false }

func detach(*exec.Cmd) {}

func signalProcess(int, syscall.Signal) error { return errWindowsService }
