#!/usr/bin/env bash
# Builds nats-server, at the version go.mod requires, from the module cache
# into ${OSSIMPORT_TEST_CACHE:-$HOME/.cache/ossimport-test}/bin/nats-server-<version>/
# unless it is already there. Prints the binary path on stdout. The tests
# run it as real processes to form a JetStream cluster (testenv.StartNATSCluster).
SCRIPT_NAME=install-nats-server
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPO=$(cd "$TESTENV_DIR/../.." && pwd)
version=$(awk '$1 == "github.com/nats-io/nats-server/v2" { print $2; exit }' "$REPO/go.mod")
[ -n "$version" ] || die "go.mod does not require github.com/nats-io/nats-server/v2"
dir="$CACHE_DIR/bin/nats-server-$version"

_build_nats_locked() {
	local stage start
	if [ -x "$dir/nats-server" ]; then
		log "nats-server $version already installed (by a parallel installer)"
		return 0
	fi
	mkdir -p "$CACHE_DIR/bin"
	stage=$(mktemp -d "$CACHE_DIR/bin/.nats-server-$version.XXXXXX")
	start=$(date +%s)
	log "go build github.com/nats-io/nats-server/v2 ($version, from this module's go.mod)"
	# Built inside the module so that go.mod and go.sum pin it and its deps.
	if ! (cd "$REPO" && GOWORK=off GOFLAGS= go build -o "$stage/nats-server" github.com/nats-io/nats-server/v2); then
		rm -rf "$stage"
		die "go build github.com/nats-io/nats-server/v2 failed"
	fi
	mkdir -p "$dir"
	mv -f "$stage/nats-server" "$dir/nats-server"
	rm -rf "$stage"
	log "installed nats-server $version in $(($(date +%s) - start)) s: $dir/nats-server"
}

if [ -x "$dir/nats-server" ]; then
	log "nats-server $version already installed"
else
	command -v go >/dev/null 2>&1 || die "go is not in PATH; cannot build nats-server"
	with_lock "nats-server-$version" _build_nats_locked
fi
echo "$dir/nats-server"
