#!/usr/bin/env bash
# ossimport one-click standalone import: submits conf/local_job.cfg, starts
# the import service, shows the job's state until it succeeds (offering to
# retry failed tasks), then offers to stop the service.
#
#   bash import.sh          asks before cleaning a previous job, retrying and stopping
#   bash import.sh --yes    answers yes to every question (unattended; with
#                           --yes, failed tasks are retried at most
#                           IMPORT_MAX_RETRIES times, default 3)
#
# On a terminal the job is followed live (console stat --watch --until-done,
# redrawn in place every IMPORT_WATCH_SECONDS, default 2); otherwise its state
# is printed every IMPORT_POLL_SECONDS (default 5). Either way the last state
# is kept in logs/job_stat.log.
# An incremental job (isIncremental=true) never ends: its state is shown
# until Ctrl-C (the service keeps running and rescanning).
# Exit status: 0 imported; 1 submit or start failed, or the previous job was
# kept; 2 failed tasks were not retried, or the job was aborted.
set -euo pipefail

if [ -z "${OSS_IMPORT_HOME:-}" ]; then
	OSS_IMPORT_HOME=$(dirname "$(readlink -f "$0")")
fi
export OSS_IMPORT_HOME

job_cfg=$OSS_IMPORT_HOME/conf/local_job.cfg
job_name=local_test
logs=$OSS_IMPORT_HOME/logs
poll=${IMPORT_POLL_SECONDS:-5}
watch=${IMPORT_WATCH_SECONDS:-2}
max_retries=${IMPORT_MAX_RETRIES:-3}
yes=false

usage() {
	echo "Usage: bash import.sh [--yes]"
}

for arg in "$@"; do
	case $arg in
	-y | --yes) yes=true ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage >&2
		exit 1
		;;
	esac
done

console() {
	bash "$OSS_IMPORT_HOME/console.sh" "$@"
}

# ask QUESTION: returns 0 for yes, 1 for no.
ask() {
	local answer
	if [ "$yes" = true ]; then
		echo "$1, Yes or No: yes"
		return 0
	fi
	while true; do
		printf '%s, Yes or No: ' "$1"
		if ! read -r answer; then
			echo
			echo "Error: no answer (standard input is closed); run bash import.sh --yes to answer yes to everything." >&2
			exit 1
		fi
		case $answer in
		y | Y | yes | Yes | YES) return 0 ;;
		n | N | no | No | NO) return 1 ;;
		*) echo "Answer yes or no" ;;
		esac
	done
}

# submit: submits the job into logs/submit.log and prints it.
submit() {
	console submit "$job_cfg" >"$logs/submit.log" 2>&1 || true
	cat "$logs/submit.log"
}

mkdir -p "$logs"

submit
if grep -q "Error:" "$logs/submit.log"; then
	if ! grep -q "please clean it first" "$logs/submit.log"; then
		exit 1
	fi
	if ! ask "Clean the previous job"; then
		exit 1
	fi
	console stop
	console clean "$job_name"
	submit
	if grep -q "Error:" "$logs/submit.log"; then
		exit 1
	fi
fi

console start

# live: standard output is a terminal, so the job is shown live.
live=false
if [ -t 1 ]; then
	live=true
fi

retries=0
incremental_noted=false
while true; do
	if [ "$live" = true ]; then
		# Returns once the job ended (or failed to show it); the state is
		# then read again below.
		console stat "$job_name" --watch --until-done --interval "${watch}s" || true
	fi
	console stat "$job_name" >"$logs/job_stat.log" 2>&1 || true
	if [ "$live" = false ]; then
		cat "$logs/job_stat.log"
	fi
	if grep -q "^Incremental Round:" "$logs/job_stat.log"; then
		# Never Succeed nor Failed: it rescans the source every
		# incrementalModeInterval until stopped.
		if [ "$incremental_noted" = false ]; then
			echo "The job is incremental: it never ends. Press Ctrl-C to leave it running, console.sh stop to stop it."
			incremental_noted=true
		fi
		sleep "$poll"
		continue
	fi
	if grep -q "JobState:Succeed" "$logs/job_stat.log"; then
		break
	fi
	if grep -q "JobState:Abort" "$logs/job_stat.log"; then
		echo "Error: the job was aborted (see Reason above and logs/master.log)." >&2
		exit 2
	fi
	if grep -q "JobState:Failed" "$logs/job_stat.log"; then
		if [ "$yes" = true ] && [ "$retries" -ge "$max_retries" ]; then
			echo "Error: tasks still fail after $retries retries (see the FailedTask lines above)." >&2
			exit 2
		fi
		if ! ask "Retry the failed tasks"; then
			exit 2
		fi
		retried=$(console retry "$job_name")
		echo "$retried"
		if grep -q "^No failed task can be retried" <<<"$retried"; then
			# Only names that can never be copied failed: retrying changes nothing.
			echo "Error: the failed objects must be renamed at the source (see above)." >&2
			exit 2
		fi
		retries=$((retries + 1))
	fi
	sleep "$poll"
done

echo "Import to oss completed."
if ask "Stop import service"; then
	console stop
fi
exit 0
