#!/usr/bin/env bash
# Installs Debian's openssh-server when /usr/sbin/sshd is missing (needs root
# or passwordless sudo). Prints the sshd path on stdout.
SCRIPT_NAME=install-sshd
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

apt_ensure "/usr/sbin/sshd" openssh-server
echo /usr/sbin/sshd
