#!/usr/bin/env bash
# Installs the pinned Azurite (Azure Blob emulator) with npm into
# ${OSSIMPORT_TEST_CACHE:-$HOME/.cache/ossimport-test}/azurite-<version>/
# unless it is already there. Prints the azurite-blob path on stdout.
SCRIPT_NAME=install-azurite
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dir="$CACHE_DIR/azurite-$AZURITE_VERSION"
bin="$dir/node_modules/.bin/azurite-blob"

install_locked() {
	local stage attempt start
	if [ -x "$bin" ]; then
		log "azurite $AZURITE_VERSION already installed (by a parallel installer)"
		return 0
	fi
	if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
		log "node/npm not found; installing Debian nodejs and npm"
		apt_ensure "/usr/bin/node /usr/bin/npm" nodejs npm
	fi
	start=$(date +%s)
	for attempt in 1 2 3; do
		# Install into a staging dir and rename it, so that $dir only ever
		# holds a complete install.
		stage=$(mktemp -d "$CACHE_DIR/.azurite-$AZURITE_VERSION.XXXXXX")
		log "npm install azurite@$AZURITE_VERSION (attempt $attempt/3)"
		if npm install --prefix "$stage" --no-audit --no-fund --no-update-notifier \
			--loglevel=error "azurite@$AZURITE_VERSION" >&2 </dev/null &&
			[ -x "$stage/node_modules/.bin/azurite-blob" ]; then
			rm -rf "$dir"
			mv "$stage" "$dir"
			log "installed azurite $AZURITE_VERSION in $(($(date +%s) - start)) s: $bin"
			return 0
		fi
		rm -rf "$stage"
		sleep $((attempt * 5))
	done
	die "npm install azurite@$AZURITE_VERSION failed (3 attempts)"
}

if [ -x "$bin" ]; then
	log "azurite $AZURITE_VERSION already installed"
else
	mkdir -p "$CACHE_DIR"
	with_lock "azurite-$AZURITE_VERSION" install_locked
fi
echo "$bin"
