#!/usr/bin/env bash
# The main job: set up techsim in .venv (first time only) and run it.
#   bash scripts/run.sh                 # the default scenario, all schemes, with the report
#   bash scripts/run.sh medical --reps 10
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/techsim ]; then
  "$PY" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
  .venv/bin/python -m pip install --quiet -e .
fi
if [ $# -eq 0 ]; then set -- run --report; else set -- run "$@"; fi
exec .venv/bin/techsim "$@"
