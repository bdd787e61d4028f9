#!/usr/bin/env bash
# Builds golangci-lint, at GOLANGCI_LINT_VERSION (versions.env), through the
# Go module proxy into
# ${OSSIMPORT_TEST_CACHE:-$HOME/.cache/ossimport-test}/bin/golangci-lint-<version>/
# unless it is already there. Prints the binary path on stdout. make lint
# runs it with .golangci.yml.
SCRIPT_NAME=install-golangci-lint
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

version=${GOLANGCI_LINT_VERSION:?versions.env sets GOLANGCI_LINT_VERSION}
dir="$CACHE_DIR/bin/golangci-lint-$version"

_build_golangci_lint_locked() {
	local stage start
	if [ -x "$dir/golangci-lint" ]; then
		log "golangci-lint $version already installed (by a parallel installer)"
		return 0
	fi
	mkdir -p "$CACHE_DIR/bin"
	stage=$(mktemp -d "$CACHE_DIR/bin/.golangci-lint-$version.XXXXXX")
	start=$(date +%s)
	log "go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$version"
	# Outside any module: the tool's own go.mod and go.sum pin its deps.
	if ! (cd "$stage" && GOWORK=off GOFLAGS= GOBIN="$stage" \
		go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$version"); then
		rm -rf "$stage"
		die "go install golangci-lint@$version failed"
	fi
	mkdir -p "$dir"
	mv -f "$stage/golangci-lint" "$dir/golangci-lint"
	rm -rf "$stage"
	log "installed golangci-lint $version in $(($(date +%s) - start)) s: $dir/golangci-lint"
}

if [ -x "$dir/golangci-lint" ]; then
	log "golangci-lint $version already installed"
else
	command -v go >/dev/null 2>&1 || die "go is not in PATH; cannot build golangci-lint"
	with_lock "golangci-lint-$version" _build_golangci_lint_locked
fi
echo "$dir/golangci-lint"
