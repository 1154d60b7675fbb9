#!/usr/bin/env bash
# Installs what is needed, then starts the mock broker with the example world on http://127.0.0.1:8480.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
exec .venv/bin/mock-broker serve "$@"
