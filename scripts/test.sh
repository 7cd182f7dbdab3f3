#!/usr/bin/env bash
# The test command: set up everything the tests need on a fresh machine, then run them.
#   bash scripts/test.sh [pytest args]
# - a virtual environment in .venv with techsim and its test extras
# - lint (ruff check), format (ruff format --check) and types (mypy) first: any failure stops
# - Debian's chromium and poppler-utils (pdftoppm) for the report-rendering tests, where
#   apt-get is available and we may use it (root or passwordless sudo); otherwise those
#   tests are skipped with a reason.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install --quiet -e '.[test]'
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
if [ ${#need[@]} -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null && SUDO="sudo -n"; } || true
  if [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; then
    echo "installing ${need[*]} (for the report-rendering tests)" >&2
    ( $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" ) >/dev/null 2>&1 \
      || echo "could not install ${need[*]}; the rendering tests will be skipped" >&2
  fi
fi
echo "ruff check, ruff format --check, mypy" >&2
.venv/bin/ruff check sim tests benchmarks
.venv/bin/ruff format --check --quiet sim tests benchmarks
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
