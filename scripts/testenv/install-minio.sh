#!/usr/bin/env bash
# Installs the pinned MinIO (optional second S3 test server; AGPLv3, used as a
# separate binary only) into the test cache unless it is already there.
# Prints the binary path on stdout.
SCRIPT_NAME=install-minio
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

go_install_pinned minio "$MINIO_VERSION" github.com/minio/minio
