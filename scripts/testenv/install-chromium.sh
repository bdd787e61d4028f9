#!/usr/bin/env bash
# Installs Debian's chromium and chromium-driver (headless browser tests) when
# /usr/bin/chromium or /usr/bin/chromedriver is missing. fonts-liberation is
# added so that pages render with real metric-compatible fonts without pulling
# in all of chromium's recommends. Prints the chromium path on stdout.
SCRIPT_NAME=install-chromium
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

apt_ensure "/usr/bin/chromium /usr/bin/chromedriver" chromium chromium-driver fonts-liberation
echo /usr/bin/chromium
