#!/usr/bin/env bash
# Runs the whole test suite (`make test`) beside a CPU hog, RUNS times in a
# row, and prints how long each run took and the load it ran under: the
# proof that the suite holds on a loaded machine.
#
#   bash scripts/stress-test.sh             # stress-ng --cpu 8, twice
#   RUNS=1 HOG=8 SCALE=3 bash scripts/stress-test.sh
#
# HOG is the number of CPU-bound workers (stress-ng --cpu HOG, installed
# from Debian when missing; busy shell loops where it cannot be). SCALE
# stretches the tests' condition deadlines (testenv.ScaleEnv); the
# per-package timeout is raised to TIMEOUT. Logs go to $LOGDIR.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRIPT_NAME=stress-test
. scripts/testenv/lib.sh

RUNS="${RUNS:-2}"
HOG="${HOG:-8}"
SCALE="${SCALE:-3}"
TIMEOUT="${TIMEOUT:-90m}"
LOGDIR="${LOGDIR:-$(mktemp -d /tmp/ossimport-stress.XXXXXX)}"
mkdir -p "$LOGDIR"

hog_pids=()
stop_hog() {
	if [ "${#hog_pids[@]}" -gt 0 ]; then
		kill "${hog_pids[@]}" 2>/dev/null || true
		wait "${hog_pids[@]}" 2>/dev/null || true
	fi
	hog_pids=()
}
trap stop_hog EXIT

start_hog() {
	if command -v stress-ng >/dev/null || (apt_ensure "/usr/bin/stress-ng" stress-ng) 2>>"$LOGDIR/install.log"; then
		stress-ng --cpu "$HOG" --quiet >>"$LOGDIR/hog.log" 2>&1 &
		hog_pids+=("$!")
		log "stress-ng --cpu $HOG running (pid $!)"
		return
	fi
	log "stress-ng unavailable; $HOG busy shell loops instead"
	for _ in $(seq "$HOG"); do
		bash -c 'while :; do :; done' &
		hog_pids+=("$!")
	done
}

# Installs the test servers first, so the runs measure the tests alone.
make testenv >"$LOGDIR/testenv.log" 2>&1 || die "make testenv failed: see $LOGDIR/testenv.log"

status=0
for run in $(seq "$RUNS"); do
	start_hog
	start=$(date +%s)
	log "run $run/$RUNS: make test beside the hog (log: $LOGDIR/run$run.log)"
	if OSSIMPORT_TEST_TIMEOUT_SCALE="$SCALE" make test TEST_TIMEOUT="$TIMEOUT" >"$LOGDIR/run$run.log" 2>&1; then
		result=passed
	else
		result=FAILED
		status=1
	fi
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	stop_hog
	secs=$(($(date +%s) - start))
	printf 'run %d/%d: %s in %dm%02ds (load average at the end: %s; %d CPUs; hog %d; deadline scale %s)\n' \
		"$run" "$RUNS" "$result" $((secs / 60)) $((secs % 60)) "$load" "$(nproc)" "$HOG" "$SCALE"
	if [ "$result" = FAILED ]; then
		grep -E '^(--- FAIL|FAIL|panic:)' "$LOGDIR/run$run.log" | head -40 || true
	fi
done
exit "$status"
