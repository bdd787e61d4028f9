#!/usr/bin/env bash
# Copy benchmark: local files -> versitygw on loopback, for ossimport and,
# when installed, rclone and s5cmd (see ../shared/reference/dependencies.md
# for their install recipes). Two data sets, as in the reference figures:
#   small: 2000 x 64 KiB      large: 4 x 256 MiB
# Each tool gets a fresh bucket; each run is repeated REPS times (default
# 3) and the median wall time is reported with the peak RSS of the client.
#
#   bash bench/copy.sh            # all tools found on PATH
#   REPS=1 SETS=small bash bench/copy.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
REPS=${REPS:-3}
SETS=${SETS:-"small large"}
WORK=${BENCH_DIR:-/tmp/ossimport-bench}

make -s build
VGW=$(bash scripts/testenv/install-versitygw.sh)
mkdir -p "$WORK/data"

make_data() {
	[ -d "$WORK/data/small" ] || {
		mkdir -p "$WORK/data/small"
		for i in $(seq 1 2000); do head -c 65536 /dev/urandom >"$WORK/data/small/f$i"; done
	}
	[ -d "$WORK/data/large" ] || {
		mkdir -p "$WORK/data/large"
		for i in 1 2 3 4; do head -c $((256 << 20)) /dev/urandom >"$WORK/data/large/f$i"; done
	}
	cat "$WORK"/data/*/* >/dev/null # warm the page cache
}

# versitygw's posix backend serves each folder of its root as a bucket.
make_bucket() { mkdir -p "${SERVER_STORE:-$WORK/s3}/$1"; }

# timed TOOL SET CMD...: runs CMD, prints "wall_seconds max_rss_kb".
timed() {
	/usr/bin/time -f "%e %M" -o "$WORK/time.out" "$@" >"$WORK/tool.log" 2>&1 || { tail -5 "$WORK/tool.log" >&2; return 1; }
	cat "$WORK/time.out"
}

run_ossimport() {
	local set=$1 bucket=$2 dir="$WORK/ossimport-$bucket"
	mkdir -p "$dir/conf"
	cat >"$dir/conf/job.cfg" <<EOF
jobName=bench_$bucket
srcType=local
srcPrefix=$WORK/data/$set/
destType=s3
destDomain=http://127.0.0.1:$PORT
destBucket=$bucket
destAccessKey=benchkey
destSecretKey=benchsecret123
taskObjectCountLimit=100
multipartUploadThreshold=64m
multipartUploadPartSize=16m
uploadThreadNumPerLargeFile=8
EOF
	printf 'workingDir=%s\nworkerTaskThreadNum=32\n' "$dir" >"$dir/conf/sys.properties"
	timed bin/ossimport run "$dir/conf/job.cfg" --sys "$dir/conf/sys.properties" --progress 0
}

run_rclone() {
	local set=$1 bucket=$2
	timed env -u AWS_CA_BUNDLE RCLONE_CONFIG_B_TYPE=s3 RCLONE_CONFIG_B_PROVIDER=Other RCLONE_CONFIG_B_ACCESS_KEY_ID=benchkey \
		RCLONE_CONFIG_B_SECRET_ACCESS_KEY=benchsecret123 RCLONE_CONFIG_B_ENDPOINT="http://127.0.0.1:$PORT" \
		rclone copy --config /dev/null "$WORK/data/$set" "B:$bucket/"
}

run_s5cmd() {
	local set=$1 bucket=$2
	timed env AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret123 AWS_REGION=us-east-1 \
		s5cmd --endpoint-url "http://127.0.0.1:$PORT" cp "$WORK/data/$set/*" "s3://$bucket/"
}

make_data
tools=(ossimport)
command -v rclone >/dev/null && tools+=(rclone)
command -v s5cmd >/dev/null && tools+=(s5cmd)

printf '%-10s %-6s %10s %12s %10s %10s\n' tool set "median s" throughput unit "RSS MiB"
for set in $SETS; do
	bytes=$(du -sb "$WORK/data/$set" | cut -f1)
	files=$(find "$WORK/data/$set" -type f | wc -l)
	for tool in "${tools[@]}"; do
		results=()
		for rep in $(seq "$REPS"); do
			start_server
			bucket="b$rep$RANDOM"
			make_bucket "$bucket"
			results+=("$("run_$tool" "$set" "$bucket")")
			kill "$VGW_PID" && wait "$VGW_PID" 2>/dev/null || true
		done
		median=$(printf '%s\n' "${results[@]}" | sort -n | awk -v n="$REPS" 'NR==int((n+1)/2)')
		wall=${median% *} rss=${median#* }
		if [ "$set" = small ]; then
			printf '%-10s %-6s %10s %12.0f %10s %10.0f\n' "$tool" "$set" "$wall" "$(echo "$files / $wall" | bc -l)" obj/s "$(echo "$rss / 1024" | bc -l)"
		else
			printf '%-10s %-6s %10s %12.0f %10s %10.0f\n' "$tool" "$set" "$wall" "$(echo "$bytes / 1048576 / $wall" | bc -l)" MiB/s "$(echo "$rss / 1024" | bc -l)"
		fi
	done
done
