#!/usr/bin/env bash
# Failover time of the master (issue: no single point of failure): two
# services on a 3-node NATS cluster (real nats-server processes), a job
# into versitygw; the active master is killed with SIGKILL mid-copy. For
# each run it prints the takeover time (kill -> the standby holds the
# master lease) and the time to the first result filed after it, then
# the median of each.
#
#   bash bench/failover.sh          # 5 runs
#   RUNS=9 bash bench/failover.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
make -s testenv >/dev/null
out=$(go test -count="$RUNS" -run 'TestServicesFailOverOnANATSCluster$' -v ./internal/console 2>&1) || {
	echo "$out" | grep -E '^(---|\s+\S+_test\.go:)' -A 3 | grep -v '^\s*\[' | head -60 >&2
	exit 1
}
lines=$(echo "$out" | grep -o 'failover: takeover [^ ]*, first result filed [^ ]* after the kill')
echo "$lines" | nl -w2 -s'. '
# Go durations (850ms, 11.029s, 1m2.5s) to seconds, then the median.
median() {
	awk '{ d = $1; s = 0
		if (d ~ /ms$/) { sub(/ms$/, "", d); s = d / 1000 }
		else { if (d ~ /m/) { split(d, p, "m"); s = p[1] * 60; d = p[2] }; sub(/s$/, "", d); s += d }
		print s }' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
}
take=$(echo "$lines" | awk '{print $3}' | tr -d , | median)
first=$(echo "$lines" | awk '{print $7}' | median)
printf 'median over %d runs: takeover %.1fs, first result filed %.1fs after the kill\n' "$RUNS" "$take" "$first"
