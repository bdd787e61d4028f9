#!/usr/bin/env bash
# Builds the distribution tarballs into dist/ (or $DIST_DIR):
#
#   ossimport-<version>-linux-<arch>.tar.gz             distributed package:
#       bin/ossimport, conf/{job.cfg,sys.properties,workers}, console.sh,
#       docs/configuration.md, LICENSE, logs/, README.md
#   ossimport-<version>-linux-<arch>-standalone.tar.gz  one-machine package:
#       bin/ossimport, conf/{local_job.cfg,sys.properties}, console.sh, import.sh,
#       docs/configuration.md, LICENSE, logs/, README.md
#   SHA256SUMS                                          sha256sum of every tarball
#
# for every arch in $DIST_ARCHS (default "amd64 arm64"). Each package
# unpacks into a folder of its own name. Its README.md is written for the
# operator who unpacked it (scripts/dist/README.md), not the repository's.
# conf/workers ships with its example hosts commented out, so `check`
# refuses it until the operator lists real machines. The binaries are
# static (CGO_ENABLED=0), so one package runs on any Linux of its
# architecture.
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
	mkdir -p "$root/docs"
	cp console.sh LICENSE "$root/"
	cp docs/configuration.md "$root/docs/"
	sed -e "s/@VERSION@/$VERSION/g" -e "s/@KIND@/$kind/g" scripts/dist/README.md >"$root/README.md"
	if [ "$kind" = standalone ]; then
		cp conf/local_job.cfg "$root/conf/"
		cp import.sh "$root/"
	else
		cp conf/job.cfg "$root/conf/"
		# The example hosts commented out: the operator lists real ones.
		sed -e 's/^\([^#[:space:]].*\)$/# \1/' \
			-e 's/^# Replace these example addresses with your own machines\.$/# The example addresses below are commented out: add your own machines, one per line./' \
			conf/workers.example >"$root/conf/workers"
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
# Checksums of every tarball in the folder, by file name.
(cd "$DIST_DIR" && sha256sum -- ossimport-*.tar.gz >SHA256SUMS)
echo "$DIST_DIR/SHA256SUMS"
