#!/usr/bin/env bash
# A real migration on an embedded default, for a newcomer's first run:
# installs (once, pinned) and starts a local versitygw S3 server, makes a
# sample data set with the awkward cases (spaces, + % ? # &, unicode, deep
# trees, empty files, a multipart-sized file, a symbolic link), migrates it
# with `ossimport run`, and checks every object byte for byte.
#
# Everything lives under ${DEMO_DIR:-/tmp/ossimport-demo}; run it again to
# start over. The S3 server is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEMO_DIR=${DEMO_DIR:-/tmp/ossimport-demo}
BIN=$ROOT/bin/ossimport
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "building bin/ossimport"
make -s build

say "installing versitygw (once)"
VGW=$(bash scripts/testenv/install-versitygw.sh)

rm -rf "$DEMO_DIR"
# versitygw's posix backend serves each folder of its root as a bucket.
mkdir -p "$DEMO_DIR"/{src,s3/demo-bucket,work/conf,work/logs}

say "starting versitygw on 127.0.0.1"
PORT=
for _ in $(seq 50); do
	p=$((20000 + RANDOM % 12000)) # below the ephemeral range: no client socket holds it
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then PORT=$p && break; fi
done
[ -n "$PORT" ] || { echo "no free port found" >&2; exit 1; }
export ROOT_ACCESS_KEY=demokey ROOT_SECRET_KEY=demosecret123
"$VGW" --port "127.0.0.1:$PORT" posix "$DEMO_DIR/s3" >"$DEMO_DIR/versitygw.log" 2>&1 &
VGW_PID=$!
trap 'kill $VGW_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
	sleep 0.1
done
echo "S3 endpoint http://127.0.0.1:$PORT, bucket demo-bucket"

say "generating sample data in $DEMO_DIR/src"
S=$DEMO_DIR/src
mkdir -p "$S/photos/2024" "$S/docs/deep/er/and/deeper" "$S/names" "$S/中文目录"
for i in $(seq 1 200); do head -c $((RANDOM % 20000 + 1)) /dev/urandom >"$S/photos/2024/img_$i.jpg"; done
echo "hello" >"$S/docs/readme.txt"
echo "bottom" >"$S/docs/deep/er/and/deeper/file.txt"
for n in 'with space.txt' 'plus+sign.txt' 'per%cent.txt' 'question?.txt' 'hash#.txt' 'amp&ersand.txt'; do
	echo "$n" >"$S/names/$n"
done
echo "unicode" >"$S/中文目录/文件.txt"
: >"$S/empty.dat"
head -c $((24 << 20)) /dev/urandom >"$S/large.bin"
ln -s docs/readme.txt "$S/link-to-readme"

cat >"$DEMO_DIR/work/conf/local_job.cfg" <<EOF
# The demo job: local folder -> S3-compatible store (versitygw).
jobName=local_test
jobType=import
srcType=local
srcPrefix=$S/
destType=s3
destDomain=http://127.0.0.1:$PORT
destBucket=demo-bucket
destAccessKey=$ROOT_ACCESS_KEY
destSecretKey=$ROOT_SECRET_KEY
destPrefix=demo/
taskObjectCountLimit=50
taskObjectSizeLimit=50m
multipartUploadThreshold=8m
multipartUploadPartSize=5m
uploadThreadNumPerLargeFile=3
isAllowSymbolicLink=false
EOF
cat >"$DEMO_DIR/work/conf/sys.properties" <<EOF
workingDir=$DEMO_DIR/work
workerTaskThreadNum=16
EOF

say "migrating: ossimport run"
set +e
"$BIN" run "$DEMO_DIR/work/conf/local_job.cfg" --sys "$DEMO_DIR/work/conf/sys.properties"
rc=$?
set -e

say "checking every object byte for byte against the source"
bad=0 n=0
while IFS= read -r -d '' f; do
	rel=${f#"$S"/}
	n=$((n + 1))
	if ! cmp -s "$f" "$DEMO_DIR/s3/demo-bucket/demo/$rel"; then
		echo "DIFFERENT: $rel"
		bad=$((bad + 1))
	fi
done < <(find "$S" -type f -print0)
echo "$n files compared, $bad different"
echo "task records: $DEMO_DIR/work/master/jobs/local_test/"
[ "$rc" -eq 0 ] && [ "$bad" -eq 0 ]
