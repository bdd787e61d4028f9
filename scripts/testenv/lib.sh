# shellcheck shell=bash
# Shared helpers for scripts/testenv/install-*.sh. Source it after setting
# SCRIPT_NAME. Progress goes to stderr; the scripts print only their result
# (an installed path) on stdout so that callers can capture it.
set -euo pipefail

TESTENV_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$TESTENV_DIR/versions.env"

CACHE_DIR=${OSSIMPORT_TEST_CACHE:-${HOME:-/root}/.cache/ossimport-test}
SCRIPT_NAME=${SCRIPT_NAME:-$(basename "$0" .sh)}

log() { printf '[testenv %s] %s\n' "$SCRIPT_NAME" "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}

# with_lock NAME CMD [ARG...]: runs CMD while holding an exclusive flock on
# $CACHE_DIR/locks/NAME.lock, so parallel installers (other test binaries,
# a concurrent install-all.sh) wait for each other instead of racing.
with_lock() {
	local name=$1
	shift
	mkdir -p "$CACHE_DIR/locks"
	(
		if ! flock -n 9; then
			log "waiting for lock $CACHE_DIR/locks/$name.lock (another install is running)"
			flock -w 3600 9 || die "timed out waiting for lock $name"
		fi
		"$@"
	) 9>"$CACHE_DIR/locks/$name.lock"
}

# as_root CMD [ARG...]: runs CMD as root (directly, or through passwordless sudo).
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo -n "$@"
	else
		die "root privileges are needed to run: $*"
	fi
}

# apt_get ARG...: apt-get, non-interactive, waiting for the dpkg/apt locks
# (apt may already be running in the background) instead of failing on them.
apt_get() {
	local out rc waited=0
	while :; do
		rc=0
		out=$(as_root env DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=a \
			apt-get -q -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0 \
			-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
			"$@" 2>&1 </dev/null) || rc=$?
		if [ "$rc" -eq 0 ]; then
			printf '%s\n' "$out" | tail -n 2 >&2
			return 0
		fi
		if grep -qE 'Could not get lock|Unable to acquire the dpkg|Unable to lock|is another process using it' <<<"$out" &&
			[ "$waited" -lt 900 ]; then
			log "apt/dpkg lock is busy; waiting ($waited s so far)"
			sleep 5
			waited=$((waited + 5))
			continue
		fi
		printf '%s\n' "$out" | tail -n 25 >&2
		return "$rc"
	done
}

# have_all PATH...: true when every PATH exists and is executable.
have_all() {
	local p
	for p in "$@"; do
		[ -x "$p" ] || return 1
	done
}

# apt_ensure "CHECK_PATH..." PKG...: installs the Debian packages PKG unless
# all of CHECK_PATH already exist. 3 attempts, with apt-get update between.
apt_ensure() {
	local -a checks
	read -r -a checks <<<"$1"
	shift
	if have_all "${checks[@]}"; then
		log "$* already installed (${checks[*]})"
		return 0
	fi
	with_lock apt _apt_ensure_locked "$@"
}
# Runs under the apt lock; sees apt_ensure's local "checks" (bash locals are
# dynamically scoped).
_apt_ensure_locked() {
	local attempt
	# Re-check under the lock: a parallel installer may have finished meanwhile.
	if have_all "${checks[@]}"; then
		log "$* already installed (${checks[*]})"
		return 0
	fi
	for attempt in 1 2 3; do
		if [ "$attempt" -gt 1 ] || ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
			log "apt-get update"
			apt_get update || log "apt-get update failed (attempt $attempt)"
		fi
		log "apt-get install $* (attempt $attempt/3)"
		if apt_get install -y --no-install-recommends "$@" && have_all "${checks[@]}"; then
			log "installed $*"
			return 0
		fi
		sleep $((attempt * 5))
	done
	die "could not install Debian packages: $* (3 attempts)"
}

# go_install_pinned NAME VERSION PACKAGE: installs PACKAGE@VERSION with
# `go install` into $CACHE_DIR/bin/NAME-VERSION/NAME unless it is already
# there, and prints the binary path on stdout.
go_install_pinned() {
	local name=$1 version=$2 pkg=$3
	local dir="$CACHE_DIR/bin/$name-$version"
	if [ -x "$dir/$name" ]; then
		log "$name $version already installed"
	else
		command -v go >/dev/null 2>&1 || die "go is not in PATH; cannot build $name"
		with_lock "$name-$version" _go_install_locked "$name" "$version" "$pkg" "$dir"
	fi
	echo "$dir/$name"
}
_go_install_locked() {
	local name=$1 version=$2 pkg=$3 dir=$4 stage start
	if [ -x "$dir/$name" ]; then
		log "$name $version already installed (by a parallel installer)"
		return 0
	fi
	mkdir -p "$CACHE_DIR/bin"
	# Build into a staging dir and rename: the final path only ever holds a
	# complete binary, even if this build is interrupted.
	stage=$(mktemp -d "$CACHE_DIR/bin/.$name-$version.XXXXXX")
	start=$(date +%s)
	log "go install $pkg@$version (this takes a few minutes on a cold cache)"
	if ! (cd "$stage" && GOWORK=off GOFLAGS= GOBIN="$stage" go install "$pkg@$version"); then
		rm -rf "$stage"
		die "go install $pkg@$version failed"
	fi
	mkdir -p "$dir"
	mv -f "$stage/$name" "$dir/$name"
	rm -rf "$stage"
	log "installed $name $version in $(($(date +%s) - start)) s: $dir/$name"
}
