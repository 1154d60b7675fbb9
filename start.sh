#!/usr/bin/env bash
# Installs what is needed, then starts the mock broker (http://127.0.0.1:8480) with the example world and
# the example werkgeversportaal (http://127.0.0.1:8481), registered with each other. Open the portal
# and log in through the broker's login page. Ctrl-C stops both. Arguments go to the broker.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
.venv/bin/example-portal serve --testing --broker-metadata http://127.0.0.1:8480/saml/metadata &
portal=$!
.venv/bin/mock-broker serve --sp-metadata http://127.0.0.1:8481/saml/metadata \
    --catalogue http://127.0.0.1:8481/saml/dienstcatalogus "$@" &
broker=$!
trap 'kill "$portal" "$broker" 2>/dev/null || true' EXIT INT TERM
echo "Open http://127.0.0.1:8481/ (the example portal) and log in with eHerkenning (the mock broker: TEST ONLY)."
wait -n "$portal" "$broker"  # when one of them stops, stop the other
