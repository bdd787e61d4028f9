#!/usr/bin/env bash
# Installs every server/tool the integration tests use (idempotent: a warm run
# only checks). Called by .ci/run. MinIO is optional: set OSSIMPORT_TEST_MINIO=1
# to include it. Fails loudly, naming the step that failed.
SCRIPT_NAME=install-all
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

steps=(versitygw nats-server sshd iproute2 azurite chromium)
if [ "${OSSIMPORT_TEST_MINIO:-}" = 1 ]; then
	steps+=(minio)
fi

total_start=$(date +%s)
for step in "${steps[@]}"; do
	start=$(date +%s)
	log "step $step: start"
	if ! out=$(bash "$TESTENV_DIR/install-$step.sh"); then
		log "FAILED step '$step' (scripts/testenv/install-$step.sh); see the messages above"
		exit 1
	fi
	log "step $step: ok in $(($(date +%s) - start)) s -> $out"
done
log "all done in $(($(date +%s) - total_start)) s"
