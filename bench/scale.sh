#!/usr/bin/env bash
# Scaling benchmark of a distributed deployment (root only): job throughput
# with 1, 2, 3 and 4 workers, each machine's egress capped with tc.
#
# It builds a private test network on this machine: a bridge holding the
# master (this machine: master, tracker and its own worker, as the first
# line of conf/workers), up to 3 worker hosts and a storage host, each a
# network namespace with its own address. Every worker host runs a real
# sshd and sees its own working directory at the master's path (a bind
# mount in its mount namespace). versitygw runs on the storage host, so
# all copy traffic crosses the capped links: a tbf qdisc on each worker
# host's eth0 and, for the master's worker, on the bridge's egress.
#
# Each round deploys, submits the same job into a fresh bucket, starts,
# waits for JobState:Succeed and stops; the job time runs from start to
# Succeed.
#
#   sudo bash bench/scale.sh
#   RATE=40mbit FILES=160 SIZE_KB=512 WORKERS="1 2 4" sudo -E bash bench/scale.sh
#
# MODE=plan measures planning instead (no root needed): the service plans
# FILES local files (default 1,000,000 empty files in folders of 1000),
# with no worker of its own (conf/workers names another machine) or, with
# PLAN_WORKER=1, its in-process worker copying to a local folder (and with
# PLAN_UNTIL=done the service runs until the job ends, so its peak RSS
# covers the copy of every file through the service). It
# prints the planning rate (submit to "Is Scan Finished:true"), the
# service's peak RSS and CPU (/usr/bin/time -v; objects per CPU-second
# compare runs on a busy machine better than the rate) and the working
# directory's size and file count.
#
#   MODE=plan bash bench/scale.sh
#   MODE=plan FILES=200000 PLAN_WORKER=1 PLAN_UNTIL=done bash bench/scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

plan_scale() {
	local files=${FILES:-1000000} work=${BENCH_DIR:-/tmp/ossimport-planscale} data home t0 t1 pid secs
	data=$work/data-$files home=$work/home
	make -s build
	if [ ! -f "$data.complete" ]; then
		rm -rf "$data" && mkdir -p "$data"
		for ((d = 0; d * 1000 < files; d++)); do
			mkdir "$data/d$d" && (cd "$data/d$d" && touch $(seq -f 'f%g' 1 $((files - d * 1000 < 1000 ? files - d * 1000 : 1000))))
		done
		touch "$data.complete"
	fi
	rm -rf "$home" && mkdir -p "$home/conf" "$work/dst"
	cat >"$home/conf/job.cfg" <<-EOF
		jobName=planscale
		srcType=local
		srcPrefix=$data/
		destType=local
		destBucket=$work/dst
	EOF
	# natsAutoTls=false: conf/workers names a machine that never gets the
	# certificate (nothing is deployed), and the service would refuse to start.
	printf 'workingDir=%s\nhttpListen=\nnatsAutoTls=false\n' "$home" >"$home/conf/sys.properties"
	[ "${PLAN_WORKER:-}" = 1 ] || echo 192.0.2.1 >"$home/conf/workers" # TEST-NET: no local worker
	local c=(bin/ossimport console --sys "$home/conf/sys.properties")
	/usr/bin/time -v -o "$work/time.out" bin/ossimport service --sys "$home/conf/sys.properties" >"$work/service.log" 2>&1 &
	pid=$!
	until "${c[@]}" stat >/dev/null 2>&1; do
		kill -0 "$pid" 2>/dev/null || { echo "the service ended; see $work/service.log" >&2; exit 1; }
		sleep 0.1
	done
	t0=$(date +%s.%N)
	"${c[@]}" submit "$home/conf/job.cfg" >/dev/null
	until "${c[@]}" stat planscale 2>/dev/null | grep -q 'Is Scan Finished:true'; do
		kill -0 "$pid" 2>/dev/null || { echo "the service ended; see $work/service.log" >&2; exit 1; }
		sleep 0.2
	done
	t1=$(date +%s.%N)
	if [ "${PLAN_UNTIL:-}" = done ]; then
		until "${c[@]}" stat planscale 2>/dev/null | grep -q 'JobState:\(Succeed\|Failed\|Abort\)'; do
			kill -0 "$pid" 2>/dev/null || { echo "the service ended; see $work/service.log" >&2; exit 1; }
			sleep 1
		done
		printf 'job ended after %.1f s\n' "$(awk "BEGIN{print $(date +%s.%N) - $t0}")"
	fi
	"${c[@]}" stat planscale | grep -E 'Task Count|Objects:' || true
	stop_service "$pid" "${c[@]}"
	secs=$(awk "BEGIN{print $t1 - $t0}")
	printf 'planned %d files in %.1f s: %.0f objects/s\n' "$files" "$secs" "$(awk "BEGIN{print $files / $secs}")"
	awk -F': ' -v n="$files" '/Maximum resident/{printf "service peak RSS: %.0f MiB\n", $2 / 1024} /User time/{u=$2} /System time/{s=$2}
		END{printf "service CPU: %.1f s (%.0f objects per CPU-second)\n", u + s, n / (u + s)}' "$work/time.out"
	printf 'working directory: %s in %d files (%d in the job folder, nats store %s)\n' "$(du -sh "$home" | cut -f1)" "$(find "$home" -type f | wc -l)" \
		"$(find "$home/master/jobs" -type f 2>/dev/null | wc -l)" "$(du -sh "$home/nats" 2>/dev/null | cut -f1)"
}
if [ "${MODE:-}" = plan ]; then
	plan_scale
	exit
fi
[ "$(id -u)" = 0 ] || { echo "bench/scale.sh needs root (network namespaces, tc)" >&2; exit 2; }

RATE=${RATE:-24mbit}      # egress cap of every machine
FILES=${FILES:-120}       # files in the job
SIZE_KB=${SIZE_KB:-512}   # size of each file
WORKERS=${WORKERS:-"1 2 3 4"}
WORK=${BENCH_DIR:-/tmp/ossimport-scale}
NET=10.232.$((RANDOM % 200 + 20))
ID=$$
BR=obr$ID

make -s build
VGW=$(bash scripts/testenv/install-versitygw.sh)
SSHD=/usr/sbin/sshd
[ -x "$SSHD" ] || bash scripts/testenv/install-sshd.sh >/dev/null
command -v tc >/dev/null || bash scripts/testenv/install-iproute2.sh >/dev/null

rm -rf "$WORK" && mkdir -p "$WORK"/{home/bin,home/conf,data,s3}
HOME_DIR=$WORK/home
cp bin/ossimport "$HOME_DIR/bin/"

cleanup() {
	set +e
	[ -f "$HOME_DIR/ossimport.pid" ] && kill -9 "$(cat "$HOME_DIR/ossimport.pid")" 2>/dev/null
	for h in 1 2 3 s; do
		for p in $(ip netns pids "osc$ID-$h" 2>/dev/null); do kill -9 "$p"; done
		ip netns del "osc$ID-$h" 2>/dev/null
		ip link del "ov$ID$h" 2>/dev/null
	done
	ip link del "$BR" 2>/dev/null
}
trap cleanup EXIT

# The network: bridge with the master at .1, hosts at .2-.4, storage at .9.
ip link add "$BR" type bridge
ip addr add "$NET.1/24" dev "$BR"
ip link set "$BR" up
add_host() { # suffix address
	local ns=osc$ID-$1 veth=ov$ID$1
	ip netns add "$ns"
	ip link add "$veth" type veth peer name eth0 netns "$ns"
	ip link set "$veth" master "$BR" up
	ip -n "$ns" addr add "$2/24" dev eth0
	ip -n "$ns" link set lo up
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via "$NET.1"
}
for h in 1 2 3; do add_host "$h" "$NET.$((h + 1))"; done
add_host s "$NET.9"
# The caps: worker hosts on their own egress, the master on the bridge's.
for h in 1 2 3; do ip netns exec "osc$ID-$h" tc qdisc add dev eth0 root tbf rate "$RATE" burst 64kb latency 50ms; done
tc qdisc add dev "$BR" root tbf rate "$RATE" burst 64kb latency 50ms

# Storage host: versitygw (its posix backend serves each folder as a bucket).
ip netns exec "osc$ID-s" env ROOT_ACCESS_KEY=benchak ROOT_SECRET_KEY=benchsecret \
	"$VGW" --port "$NET.9:7070" --region us-east-1 --quiet posix "$WORK/s3" >"$WORK/versitygw.log" 2>&1 &
disown
# Worker hosts: sshd with a shared client key, own host key, own working dir.
ssh-keygen -q -t ed25519 -N '' -f "$WORK/id" -C bench
: >"$WORK/known_hosts"
for h in 1 2 3; do
	d=$WORK/host$h && mkdir -p "$d/work"
	ssh-keygen -q -t ed25519 -N '' -f "$d/hostkey" -C bench-host
	cp "$WORK/id.pub" "$d/authorized_keys"
	cat >"$d/sshd_config" <<-EOF
		ListenAddress $NET.$((h + 1)):22
		HostKey $d/hostkey
		PidFile $d/sshd.pid
		AuthorizedKeysFile $d/authorized_keys
		PermitRootLogin prohibit-password
		PasswordAuthentication no
		UsePAM no
		StrictModes no
		Subsystem sftp internal-sftp
	EOF
	echo "$NET.$((h + 1)) $(cut -d' ' -f1,2 "$d/hostkey.pub")" >>"$WORK/known_hosts"
	mkdir -p /run/sshd
	ip netns exec "osc$ID-$h" sh -c "mount --bind '$d/work' '$HOME_DIR' && exec $SSHD -D -e -f '$d/sshd_config'" >"$d/sshd.log" 2>&1 &
	disown
done
sleep 1

# The data set, on storage every machine reads (a shared file system).
for i in $(seq 1 "$FILES"); do head -c $((SIZE_KB * 1024)) /dev/urandom >"$WORK/data/f$i"; done
total=$((FILES * SIZE_KB * 1024))

cat >"$HOME_DIR/conf/sys.properties" <<EOF
workingDir=$HOME_DIR
workerUserName=root
privateKeyFile=$WORK/id
sshKnownHostsFile=$WORK/known_hosts
workerTaskThreadNum=8
httpListen=
EOF

echo "cap per machine: $RATE; job: $FILES x $SIZE_KB KiB = $((total >> 20)) MiB"
printf '%-8s %10s %12s %9s\n' workers seconds MiB/s speedup
base=
for n in $WORKERS; do
	hosts=("$NET.1")
	for h in $(seq 1 $((n - 1))); do hosts+=("$NET.$((h + 1))"); done
	printf '%s\n' "${hosts[@]}" >"$HOME_DIR/conf/workers"
	bucket=b$n$RANDOM && mkdir -p "$WORK/s3/$bucket"
	cat >"$HOME_DIR/conf/job.cfg" <<-EOF
		jobName=scale_$bucket
		srcType=local
		srcPrefix=$WORK/data/
		destType=s3
		destDomain=http://$NET.9:7070
		destBucket=$bucket
		destAccessKey=benchak
		destSecretKey=benchsecret
		taskObjectCountLimit=4
	EOF
	export OSS_IMPORT_HOME=$HOME_DIR
	if [ "$n" -gt 1 ]; then bash console.sh deploy >"$WORK/deploy-$n.log"; fi
	bash console.sh submit "$HOME_DIR/conf/job.cfg" >/dev/null
	t0=$(date +%s.%N)
	bash console.sh start >"$WORK/start-$n.log"
	until bash console.sh stat "scale_$bucket" | grep -q 'JobState:Succeed'; do
		if bash console.sh stat "scale_$bucket" | grep -q 'JobState:\(Failed\|Abort\)'; then
			echo "job failed with $n workers; see $HOME_DIR/logs" >&2
			exit 1
		fi
		sleep 0.5
	done
	t1=$(date +%s.%N)
	bash console.sh stop >/dev/null
	secs=$(awk "BEGIN{print $t1 - $t0}")
	mibs=$(awk "BEGIN{print $total / 1048576 / $secs}")
	[ -n "$base" ] || base=$mibs
	printf '%-8s %10.1f %12.2f %8.2fx\n' "$n" "$secs" "$mibs" "$(awk "BEGIN{print $mibs / $base}")"
done
