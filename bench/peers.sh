#!/usr/bin/env bash
# Side-by-side copy benchmark (issue 17): ossimport `run`, the ossimport
# service (submit + start + wait for Succeed), s5cmd, rclone and a bare
# aws-sdk-go-v2 program (bench/ceiling: PutObject with 32 goroutines,
# 16 MiB parts with 8 in flight) copying local files into versitygw on
# loopback. Tools run alternately, each run into a fresh server and bucket;
# it prints per tool and data set the median wall time, throughput, client
# CPU (user + system seconds) and peak RSS (/usr/bin/time -v), then the
# ratios of the medians ossimport/s5cmd and ossimport/ceiling (time: less
# than 1 is faster than the peer).
#
# Data sets:  small: 2000 x 64 KiB   tiny: 20000 x 4 KiB
#             large: 4 x 256 MiB      huge: 1 x 2 GiB
#
#   bash bench/peers.sh                         # REPS=1, SETS="small large"
#   REPS=5 SETS="small large huge" bash bench/peers.sh
#   TOOLS="run service ceiling" bash bench/peers.sh
#   PROFILE=/tmp/prof TOOLS="run service" SETS=tiny bash bench/peers.sh
#   TOOLS="run run32 s5cmd" SETS=large bash bench/peers.sh
#   LATENCY=100ms THREADS=32 REPS=3 SETS=tiny TOOLS="run runA s5cmd" bash bench/peers.sh
#   LATENCY=20ms THREADS=60 TOOLS="run runA" SETS="tiny small" bash bench/peers.sh
#
# run and service prove each write as destChecksum=auto does against this
# server: objects up to 256 KiB by the CRC-32C sent in a header, which
# versitygw checks and returns (learnt from its first answer), larger
# ones by ETag = content MD5; run32 is run with destChecksum=crc32c (every
# object's and part's CRC-32C sent with it, checked by versitygw and
# compared with the one it returns). versitygw keeps connections alive
# (bench/lib.sh; KEEP_ALIVE=false closes each after one request). run copies 32 files at once
# (workerTaskThreadNum=32; THREADS=n changes it); runA starts there and
# lets each worker take up to four times as many while that pays
# (workerTaskThreadAdaptive=true).
#
# LATENCY=20ms puts bench/latency between the tools and versitygw: each
# request is held that long, as a round trip to a distant destination
# costs (this kernel has no netem).
#
# SERVER_STORE=/dev/shm/ossimport-s3 keeps versitygw's store in memory.
# On one disk, the server's object writes are in the same ext4 journal as
# ossimport's working directory, so each of ossimport's fsyncs also waits
# for the objects the server has just written; a remote destination's
# disk would not slow them. The bare clients (s5cmd, the ceiling) do not
# fsync and do not notice.
#
# PROFILE=dir writes ossimport's CPU and allocation profiles of each run
# there (dir/<tool>-<set>-<run>.cpu and .mem; go tool pprof reads them).
#
# s5cmd (v2.3.0) and rclone (v1.60.1) are built from the Go module proxy
# into ~/.cache/ossimport-test/bin on first use: `go mod download` of the
# exact version, then `go build` in a copy of the module (their version
# lists are not served, so `go install pkg@version` cannot be used). A
# tool that cannot be built is skipped with a message.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
REPS=${REPS:-1}
SETS=${SETS:-"small large"}
TOOLS=${TOOLS:-"run service s5cmd rclone ceiling"}
WORK=${BENCH_DIR:-/tmp/ossimport-peers}
S5CMD_VERSION=${S5CMD_VERSION:-v2.3.0}
RCLONE_VERSION=${RCLONE_VERSION:-v1.60.1}
ROOT=$PWD

SCRIPT_NAME=peers
# shellcheck source=../scripts/testenv/lib.sh
. scripts/testenv/lib.sh

# build_module NAME MODULE VERSION: builds the main package at the root of
# MODULE@VERSION into $CACHE_DIR/bin/NAME-VERSION/NAME; prints its path.
build_module() {
	local name=$1 mod=$2 version=$3 dir="$CACHE_DIR/bin/$1-$3" src stage
	if [ -x "$dir/$name" ]; then
		echo "$dir/$name"
		return
	fi
	log "building $mod@$version (minutes on a cold cache)"
	src=$(cd /tmp && GOWORK=off GOFLAGS= go mod download -json "$mod@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
	[ -n "$src" ] || return 1
	stage=$(mktemp -d "${TMPDIR:-/tmp}/peers-$name.XXXXXX")
	cp -r "$src/." "$stage/" && chmod -R u+w "$stage" && rm -rf "$stage/vendor" # zips hold no vendor tree
	if ! (cd "$stage" && GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -o "$stage/$name.bin" . >&2); then
		rm -rf "$stage"
		return 1
	fi
	mkdir -p "$dir" && mv -f "$stage/$name.bin" "$dir/$name" && rm -rf "$stage"
	echo "$dir/$name"
}

install_peers() {
	S5CMD= RCLONE=
	case " $TOOLS " in *" s5cmd "*) S5CMD=$(build_module s5cmd github.com/peak/s5cmd/v2 "$S5CMD_VERSION") || log "s5cmd $S5CMD_VERSION cannot be built: skipped" ;; esac
	case " $TOOLS " in *" rclone "*) RCLONE=$(build_module rclone github.com/rclone/rclone "$RCLONE_VERSION") || log "rclone $RCLONE_VERSION cannot be built: skipped" ;; esac
	mkdir -p "$WORK/bin"
	go build -o "$WORK/bin/ceiling" ./bench/ceiling
	go build -o "$WORK/bin/latency" ./bench/latency
}

# start_far: start_server, then, with LATENCY set, bench/latency in front
# of it holding each request for LATENCY; PORT becomes the proxy's.
start_far() {
	start_server
	[ -n "${LATENCY:-}" ] || return 0
	local addr
	coproc LAT { exec "$WORK/bin/latency" -to "127.0.0.1:$PORT" -delay "$LATENCY" 2>>"$WORK/latency.log"; }
	read -r addr <&"${LAT[0]}" || die "bench/latency did not start; see $WORK/latency.log"
	PORT=${addr##*:}
}

# stop_far stops what start_far started.
stop_far() {
	if [ -n "${LAT_PID:-}" ]; then
		kill "$LAT_PID" 2>/dev/null || true
		wait "$LAT_PID" 2>/dev/null || true
		LAT_PID=
	fi
	stop_server
}

make_data() {
	local set=$1 d=$WORK/data/$1
	[ -f "$d.complete" ] && return
	rm -rf "$d" && mkdir -p "$d"
	case $set in
	small) for i in $(seq 1 2000); do head -c 65536 /dev/urandom >"$d/f$i"; done ;;
	tiny) head -c $((20000 * 4096)) /dev/urandom | split -a 5 -d -b 4096 - "$d/f" ;;
	large) for i in 1 2 3 4; do head -c $((256 << 20)) /dev/urandom >"$d/f$i"; done ;;
	huge) head -c $((2048 << 20)) /dev/urandom >"$d/f1" ;;
	*) die "unknown data set $set" ;;
	esac
	touch "$d.complete"
}

# timed CMD...: runs CMD under /usr/bin/time -v; leaves "wall cpu rss_kb"
# in $WORK/result.
timed() {
	local t0 t1
	t0=$(date +%s.%N)
	/usr/bin/time -v -o "$WORK/time.out" "$@" >"$WORK/tool.log" 2>&1 || {
		tail -5 "$WORK/tool.log" >&2
		return 1
	}
	t1=$(date +%s.%N)
	echo "$(awk "BEGIN{print $t1 - $t0}") $(cpu_rss "$WORK/time.out")" >"$WORK/result"
}

# cpu_rss FILE: "user+system seconds" and "max RSS KiB" of a time -v output.
cpu_rss() {
	awk -F': ' '/User time/{u=$2} /System time/{s=$2} /Maximum resident/{r=$2} END{print u+s, r}' "$1"
}

# ossimport_conf SET BUCKET: writes job.cfg and sys.properties in $dir.
ossimport_conf() {
	local set=$1 bucket=$2
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
destChecksum=${DEST_CHECKSUM:-auto}
EOF
	# An own NATS port: another service or test on this machine may hold
	# the default one (4222), and the console would submit to it.
	printf 'workingDir=%s\nworkerTaskThreadNum=%s\nworkerTaskThreadAdaptive=%s\nhttpListen=\nnatsPort=%s\n' \
		"$dir" "${THREADS:-32}" "${ADAPTIVE:-false}" "$(free_port)" >"$dir/conf/sys.properties"
}

# profile_env TOOL SET: the environment that makes ossimport write its
# profiles (PROFILE), as env arguments.
profile_env() {
	[ -n "${PROFILE:-}" ] || return 0
	mkdir -p "$PROFILE"
	echo "OSSIMPORT_CPUPROFILE=$PROFILE/$1-$2-$rep.cpu OSSIMPORT_MEMPROFILE=$PROFILE/$1-$2-$rep.mem"
}

run_run() {
	local dir="$WORK/ossimport-$2"
	ossimport_conf "$1" "$2"
	# shellcheck disable=SC2046 # profile_env's words are separate arguments
	timed env $(profile_env run "$1") "$ROOT/bin/ossimport" run "$dir/conf/job.cfg" --sys "$dir/conf/sys.properties" --progress 0
}

run_run32() { DEST_CHECKSUM=crc32c run_run "$@"; }
run_runA() { ADAPTIVE=true run_run "$@"; }

# run_service: the service in the foreground under time -v; the job is
# submitted once it answers and the wall time runs from the service's
# start to the job's Succeed, as `run` (which starts the same engine).
run_service() {
	local dir="$WORK/ossimport-$2" job=bench_$2 t0 t1 pid
	ossimport_conf "$1" "$2"
	local c=("$ROOT/bin/ossimport" console --sys "$dir/conf/sys.properties")
	t0=$(date +%s.%N)
	# shellcheck disable=SC2046 # profile_env's words are separate arguments
	/usr/bin/time -v -o "$WORK/time.out" env $(profile_env service "$1") "$ROOT/bin/ossimport" service --sys "$dir/conf/sys.properties" >"$WORK/tool.log" 2>&1 &
	pid=$!
	# The waits below follow the logs (tail -F reads them through inotify)
	# instead of polling: a process started 20 times a second would take
	# CPU from the service measured, which `run` does not pay.
	await_line "$WORK/tool.log" 'ossimport service started' "$pid" || die "the service ended; see $WORK/tool.log and $dir/logs"
	"${c[@]}" submit "$dir/conf/job.cfg" >/dev/null || die "submit failed; see $dir/logs"
	await_line "$dir/logs/import.log" 'job finished' "$pid" || die "the service ended; see $WORK/tool.log and $dir/logs"
	t1=$(date +%s.%N)
	if ! grep -q "job finished.* job=$job state=Succeed" "$dir/logs/import.log"; then
		stop_service "$pid" "${c[@]}"
		die "job $job did not succeed; see $dir/logs"
	fi
	stop_service "$pid" "${c[@]}"
	echo "$(awk "BEGIN{print $t1 - $t0}") $(cpu_rss "$WORK/time.out")" >"$WORK/result"
}

# await_line FILE TEXT PID: waits until FILE (which may not exist yet)
# has a line containing TEXT; fails when PID ends first.
await_line() {
	local file=$1 text=$2 pid=$3
	# Not a pipeline: bash would wait for tail, which learns grep is gone
	# only at its next write. tail ends with the service (--pid).
	grep -q -m1 -F -- "$text" < <(tail -n +1 -F --pid="$pid" "$file" 2>/dev/null) || true
	grep -qsF -- "$text" "$file"
}

run_s5cmd() {
	timed env AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret123 AWS_REGION=us-east-1 \
		"$S5CMD" --endpoint-url "http://127.0.0.1:$PORT" cp "$WORK/data/$1/f*" "s3://$2/"
}

run_rclone() {
	timed env -u AWS_CA_BUNDLE RCLONE_CONFIG_B_TYPE=s3 RCLONE_CONFIG_B_PROVIDER=Other RCLONE_CONFIG_B_ACCESS_KEY_ID=benchkey \
		RCLONE_CONFIG_B_SECRET_ACCESS_KEY=benchsecret123 RCLONE_CONFIG_B_ENDPOINT="http://127.0.0.1:$PORT" \
		"$RCLONE" copy --config /dev/null "$WORK/data/$1" "B:$2/"
}

run_ceiling() {
	timed env AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret123 \
		"$WORK/bin/ceiling" -endpoint "http://127.0.0.1:$PORT" -bucket "$2" -src "$WORK/data/$1"
}

# median: the median of the numbers on stdin.
median() { sort -g | awk '{a[NR]=$1} END {if (NR) print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

trap stop_far EXIT
make -s build
VGW=$(bash scripts/testenv/install-versitygw.sh)
install_peers
[ "${PEERS_INSTALL_ONLY:-}" = 1 ] && exit 0
tools=()
for t in $TOOLS; do
	case $t in
	s5cmd) [ -n "$S5CMD" ] && tools+=(s5cmd) ;;
	rclone) [ -n "$RCLONE" ] && tools+=(rclone) ;;
	run | run32 | runA | service | ceiling) tools+=("$t") ;;
	*) die "unknown tool $t" ;;
	esac
done
for set in $SETS; do make_data "$set"; done

printf '%-8s %-6s %5s %9s %10s %6s %9s %8s\n' tool set runs "median s" throughput unit "CPU s" "RSS MiB"
for set in $SETS; do
	cat "$WORK/data/$set"/f* >/dev/null # warm the page cache
	bytes=$(du -sb "$WORK/data/$set" | cut -f1)
	files=$(find "$WORK/data/$set" -type f -name 'f*' | wc -l)
	declare -A walls=() cpus=() rsss=()
	for rep in $(seq "$REPS"); do
		for tool in "${tools[@]}"; do # alternate the tools within a round
			start_far
			bucket="b$rep$RANDOM"
			mkdir -p "${SERVER_STORE:-$WORK/s3}/$bucket" # versitygw's posix backend: a folder is a bucket
			if "run_$tool" "$set" "$bucket"; then
				read -r wall cpu rss <"$WORK/result"
				walls[$tool]+="$wall " cpus[$tool]+="$cpu " rsss[$tool]+="$rss "
			else
				log "$tool failed on $set (run $rep)"
			fi
			stop_far
			rm -rf "$WORK/ossimport-$bucket"
		done
	done
	declare -A med=()
	for tool in "${tools[@]}"; do
		[ -n "${walls[$tool]:-}" ] || continue
		wall=$(tr ' ' '\n' <<<"${walls[$tool]}" | grep . | median)
		cpu=$(tr ' ' '\n' <<<"${cpus[$tool]}" | grep . | median)
		rss=$(tr ' ' '\n' <<<"${rsss[$tool]}" | grep . | median)
		n=$(wc -w <<<"${walls[$tool]}")
		med[$tool]=$wall
		if [ "$set" = small ] || [ "$set" = tiny ]; then
			rate=$(awk "BEGIN{printf \"%.0f\", $files / $wall}") unit=obj/s
		else
			rate=$(awk "BEGIN{printf \"%.1f\", $bytes / 1048576 / $wall}") unit=MiB/s
		fi
		printf '%-8s %-6s %5d %9.2f %10s %6s %9.2f %8.0f\n' "$tool" "$set" "$n" "$wall" "$rate" "$unit" "$cpu" "$(awk "BEGIN{print $rss / 1024}")"
		log "$tool $set wall times: ${walls[$tool]}"
	done
	for o in run run32 runA service; do
		for p in s5cmd ceiling run; do
			[ "$o" != "$p" ] && [ -n "${med[$o]:-}" ] && [ -n "${med[$p]:-}" ] || continue
			printf '  %s: time ossimport %s / %s = %.2f\n' "$set" "$o" "$p" "$(awk "BEGIN{print ${med[$o]} / ${med[$p]}}")"
		done
	done
	unset walls cpus rsss med
done
