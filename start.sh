#!/usr/bin/env bash
# Installs what is needed (only when something changed), then starts the mock broker with the example world
# and the example werkgeversportaal, registered with each other: `mock-broker demo`. Open the portal and log
# in through the broker's login page; Ctrl-C stops both.
#   ./start.sh [--broker-port 8480] [--portal-port 8481] [--host 127.0.0.1] [--binding artifact|post] [--db FILE]
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
exec .venv/bin/mock-broker demo "$@"
