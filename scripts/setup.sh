#!/usr/bin/env bash
# Installs everything this project needs on a fresh Debian machine: system packages (for the browser
# tests and pysaml2's xmlsec1 program), a virtual environment in .venv, and the project itself.
# Usage: scripts/setup.sh [--test]   (--test adds the test tools and Chromium)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

need=()
command -v xmlsec1 >/dev/null 2>&1 || need+=(xmlsec1)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ "$want_test" = 1 ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
fi
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "setup: installing Debian packages: ${need[*]}"
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
if [ "$want_test" = 1 ]; then
  .venv/bin/python -m pip install -q -e ".[test]"
else
  .venv/bin/python -m pip install -q -e .
fi
