#!/usr/bin/env bash
# Installs Debian's iproute2 (the `ip` tool, used for the network-namespace
# test hosts) when it is missing. Prints the ip path on stdout.
SCRIPT_NAME=install-iproute2
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for p in /usr/sbin/ip /sbin/ip /usr/bin/ip /bin/ip; do
	if [ -x "$p" ]; then
		log "iproute2 already installed ($p)"
		echo "$p"
		exit 0
	fi
done
apt_ensure "/sbin/ip" iproute2
echo /sbin/ip
