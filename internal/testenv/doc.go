// Package testenv starts real servers for integration tests: versitygw (the
// default S3 server) and optionally MinIO, OpenSSH's sshd, Azurite (Azure Blob)
// and network-namespace "hosts"; it also locates Debian's Chromium.
//
// It is test support: import it only from _test.go files.
//
// Servers are installed on first use by the scripts in scripts/testenv (the
// same scripts that .ci/run calls through install-all.sh), with pinned
// versions from scripts/testenv/versions.env, into a cache directory
// (${OSSIMPORT_TEST_CACHE:-$HOME/.cache/ossimport-test}). The scripts take a
// file lock per component, so parallel test binaries do not race.
//
// Policy when something cannot be installed (or, for sshd, network
// namespaces and Chromium, cannot be used on this machine): the test is
// skipped with a message saying why, unless the CI environment variable is
// set, in which case the test fails. Errors of that kind wrap ErrUnavailable.
//
// Environment variables:
//
//	CI                          set (and not "false"/"0"): unavailable dependencies fail tests
//	OSSIMPORT_TEST_CACHE        cache directory for installed servers
//	OSSIMPORT_TEST_NO_INSTALL=1 never install; use what is already there or skip
//	OSSIMPORT_TEST_MINIO=1      enable MinIO (MinIO skips otherwise)
//
// Every TB helper has a Start* counterpart taking a context and returning a
// stop function, for use from TestMain (one server shared by a package).
package testenv
