#!/usr/bin/env bash
# Memory benchmark of the copy path (issue 17): `ossimport run` at the
# default job settings (multipartUploadPartSize 50m,
# uploadThreadNumPerLargeFile 3, workerTaskThreadNum 60), local files ->
# versitygw on loopback. Prints wall time, client CPU seconds and peak
# RSS (/usr/bin/time) per data set:
#   large: 4 x 256 MiB    huge: 1 x 2 GiB    many: 24 x 160 MiB in flight
#   small: 2000 x 64 KiB
#
#   bash bench/mem.sh                       # bin/ossimport, all sets
#   BIN=/tmp/old/ossimport SETS=large REPS=1 bash bench/mem.sh
#   SRC=s3 SETS=many bash bench/mem.sh      # from a second versitygw (network source)
#   SRC=http SETS=many bash bench/mem.sh    # URL list on python's http.server, which
#                                           # ignores Range: parts go through the buffer budget
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
REPS=${REPS:-1}
SETS=${SETS:-"small large huge many"}
WORK=${BENCH_DIR:-/tmp/ossimport-bench-mem}
BIN=${BIN:-}
SRC=${SRC:-local}
if [ -z "$BIN" ]; then
	make -s build
	BIN=bin/ossimport
fi
VGW=$(bash scripts/testenv/install-versitygw.sh)
mkdir -p "$WORK/data"

make_set() { # name count bytes
	[ -d "$WORK/data/$1" ] && return
	mkdir -p "$WORK/data/$1.tmp"
	for i in $(seq 1 "$2"); do head -c "$3" /dev/urandom >"$WORK/data/$1.tmp/f$i"; done
	mv "$WORK/data/$1.tmp" "$WORK/data/$1"
}

# The source server serves each data set as a bucket.
start_source() {
	SRC_PORT=$(free_port)
	ROOT_ACCESS_KEY=benchkey ROOT_SECRET_KEY=benchsecret123 "$VGW" --port "127.0.0.1:$SRC_PORT" posix "$WORK/data" >"$WORK/versitygw-src.log" 2>&1 &
	SRC_PID=$!
	for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$SRC_PORT") 2>/dev/null && break; sleep 0.1; done
}

start_http() {
	SRC_PORT=$(free_port)
	python3 -m http.server "$SRC_PORT" --bind 127.0.0.1 --directory "$WORK/data" >"$WORK/http-src.log" 2>&1 &
	SRC_PID=$!
	for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$SRC_PORT") 2>/dev/null && break; sleep 0.1; done
}

source_cfg() { # set
	if [ "$SRC" = http ]; then
		find "$WORK/data/$1" -type f -printf "http://127.0.0.1:$SRC_PORT/$1/ %f\n" >"$WORK/$1.list"
		printf 'srcType=http\nhttpListFilePath=%s\n' "$WORK/$1.list"
	elif [ "$SRC" = s3 ]; then
		printf 'srcType=s3\nsrcDomain=http://127.0.0.1:%s\nsrcBucket=%s\nsrcAccessKey=benchkey\nsrcSecretKey=benchsecret123\n' "$SRC_PORT" "$1"
	else
		printf 'srcType=local\nsrcPrefix=%s\n' "$WORK/data/$1/"
	fi
}

run_set() { # set bucket
	local dir="$WORK/run-$2"
	mkdir -p "$dir/conf" "${SERVER_STORE:-$WORK/s3}/$2"
	cat >"$dir/conf/job.cfg" <<CFG
jobName=mem_$2
$(source_cfg "$1")
destType=s3
destDomain=http://127.0.0.1:$PORT
destBucket=$2
destAccessKey=benchkey
destSecretKey=benchsecret123
CFG
	printf 'workingDir=%s\nnatsPort=%s\n' "$dir" "$(free_port)" >"$dir/conf/sys.properties"
	/usr/bin/time -f "%e %U %S %M" -o "$WORK/time.out" "$BIN" run "$dir/conf/job.cfg" --sys "$dir/conf/sys.properties" --progress 0 \
		>"$WORK/tool.log" 2>&1 || { tail -5 "$WORK/tool.log" >&2; return 1; }
	rm -rf "$dir"
	awk '{printf "%s %.2f %d\n", $1, $2 + $3, $4 / 1024}' "$WORK/time.out"
}

for set in $SETS; do
	case $set in
	small) make_set small 2000 65536 ;;
	large) make_set large 4 $((256 << 20)) ;;
	huge) make_set huge 1 $((2048 << 20)) ;;
	many) make_set many 24 $((160 << 20)) ;;
	esac
done
cat "$WORK"/data/*/* >/dev/null # warm the page cache
case $SRC in s3) start_source ;; http) start_http ;; esac

printf '%-6s %4s %8s %8s %8s\n' set rep wall_s cpu_s rss_mib
for set in $SETS; do
	for rep in $(seq "$REPS"); do
		start_server
		out=$(run_set "$set" "b$rep$RANDOM") || out="failed"
		kill "$VGW_PID" && wait "$VGW_PID" 2>/dev/null || true
		printf '%-6s %4s %8s %8s %8s\n' "$set" "$rep" $out
	done
done
if [ "$SRC" != local ]; then kill "$SRC_PID" && wait "$SRC_PID" 2>/dev/null || true; fi
