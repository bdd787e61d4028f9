#!/usr/bin/env bash
# Installs the pinned versitygw (default S3 test server) into
# ${OSSIMPORT_TEST_CACHE:-$HOME/.cache/ossimport-test}/bin/versitygw-<version>/
# unless it is already there. Prints the binary path on stdout.
SCRIPT_NAME=install-versitygw
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

go_install_pinned versitygw "$VERSITYGW_VERSION" github.com/versity/versitygw/cmd/versitygw
