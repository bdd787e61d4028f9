#!/usr/bin/env bash
# ossimport console: runs one console verb against this installation.
#
#   bash console.sh submit [job_cfg_file]   submit a job (default conf/job.cfg,
#                                           or conf/local_job.cfg when only that exists)
#   bash console.sh submit --dry-run [file] report what the job would copy, skip and exclude
#   bash console.sh start                   start the import service in the background
#   bash console.sh stat [job_name]         show the state of the jobs
#   bash console.sh retry [job_name]        retry the failed tasks (now, or at the next start)
#   bash console.sh clean job_name          delete a job so its name can be submitted again
#   bash console.sh stop                    stop the import service
#   bash console.sh version                 print the version
#   bash console.sh deploy                  copy ossimport to the workers of conf/workers (distributed)
#
# OSS_IMPORT_HOME is the installation folder (bin/ossimport, conf/, logs/);
# it defaults to the folder of this script.
set -euo pipefail

if [ -z "${OSS_IMPORT_HOME:-}" ]; then
	OSS_IMPORT_HOME=$(dirname "$(readlink -f "$0")")
fi
export OSS_IMPORT_HOME

bin=$OSS_IMPORT_HOME/bin/ossimport
sys=$OSS_IMPORT_HOME/conf/sys.properties

if [ ! -f "$sys" ]; then
	echo "Error: ossimport system configuration:$sys not found."
	exit 2
fi
if [ ! -x "$bin" ]; then
	echo "Error: ossimport binary:$bin not found (build it with: make build)."
	exit 2
fi

# The verb and its arguments come first: submit's job file is positional.
exec "$bin" console "$@" --sys "$sys"
