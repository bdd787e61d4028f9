#!/usr/bin/env bash
# Builds the distribution tarballs into dist/ (or $DIST_DIR):
#
#   ossimport-<version>-linux-<arch>.tar.gz             distributed package:
#       bin/ossimport, conf/{job.cfg,sys.properties,workers}, console.sh, logs/, README.md
#   ossimport-<version>-linux-<arch>-standalone.tar.gz  one-machine package:
#       bin/ossimport, conf/{local_job.cfg,sys.properties}, console.sh, import.sh, logs/, README.md
#
# for every arch in $DIST_ARCHS (default "amd64 arm64"). Each package
# unpacks into a folder of its own name. The binaries are static
# (CGO_ENABLED=0), so one package runs on any Linux of its architecture.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
COMMIT=${COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
DIST_DIR=${DIST_DIR:-dist}
DIST_ARCHS=${DIST_ARCHS:-amd64 arm64}
ldflags="-s -w -X github.com/ossimport/ossimport/internal/version.Version=$VERSION -X github.com/ossimport/ossimport/internal/version.Commit=$COMMIT"

mkdir -p "$DIST_DIR"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

package() { # name arch kind
	local name=$1 arch=$2 kind=$3 root="$stage/$1"
	mkdir -p "$root/bin" "$root/conf" "$root/logs"
	cp "$stage/ossimport-$arch" "$root/bin/ossimport"
	cp conf/sys.properties "$root/conf/"
	cp console.sh README.md "$root/"
	if [ "$kind" = standalone ]; then
		cp conf/local_job.cfg "$root/conf/"
		cp import.sh "$root/"
	else
		cp conf/job.cfg "$root/conf/"
		cp conf/workers.example "$root/conf/workers"
	fi
	chmod 0755 "$root/bin/ossimport" "$root"/*.sh
	# Reproducible: fixed owner, order and times.
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
		-C "$stage" -czf "$DIST_DIR/$name.tar.gz" "$name"
	echo "$DIST_DIR/$name.tar.gz"
}

for arch in $DIST_ARCHS; do
	CGO_ENABLED=0 GOOS=linux GOARCH=$arch $GO build -trimpath -ldflags "$ldflags" \
		-o "$stage/ossimport-$arch" ./cmd/ossimport
	package "ossimport-$VERSION-linux-$arch" "$arch" distributed
	package "ossimport-$VERSION-linux-$arch-standalone" "$arch" standalone
done
