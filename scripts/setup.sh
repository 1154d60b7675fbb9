#!/usr/bin/env bash
# Installs everything this project needs on a fresh Debian machine: system packages (for the browser
# tests and pysaml2's xmlsec1 program), a virtual environment in .venv, and the project itself (editable).
# Usage: scripts/setup.sh [--test]   (--test adds the test tools and Chromium)
# The pip step runs only when pyproject.toml or this script changed since the last install (a stamp in .venv).
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
extras=""
[ "$want_test" = 1 ] && extras="[test]"
stamp=".venv/.installed${extras:+-test}"
want="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1) $(.venv/bin/python -V 2>&1)"
# The project's own modules compiled ahead (quietly; only what changed): every broker, portal and harness
# process imports them, and where PYTHONDONTWRITEBYTECODE is set each start would compile them again.
compile_sources() { .venv/bin/python -m compileall -q ehsaml mock_broker example_portal harness >/dev/null || true; }
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x .venv/bin/mock-broker ]; then
  compile_sources
  exit 0  # nothing changed since the last install
fi
echo "setup: installing the project into .venv${extras:+ (with the test tools)}"
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".$extras"
echo "$want" > "$stamp"
compile_sources
