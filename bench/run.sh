#!/usr/bin/env bash
# Run the bench with the project's venv: bench/run.sh [--workers N --threads N ...]  (see --help)
set -eu
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 1; }
# Measure the server as a user runs it: installed with `pip install .` (compiled bytecode, no editable-install
# import hook), not the development venv. The venv is made once; each run reinstalls the working tree.
VENV="$ROOT/bench/results/venv"
[ -x "$VENV/bin/tap4book-mock" ] || { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q "$ROOT"; }
"$VENV/bin/pip" install -q "$ROOT" >/dev/null                                   # a dependency added since
"$VENV/bin/pip" install -q --no-deps --force-reinstall "$ROOT" >/dev/null         # this tree's code
export T4B_BENCH_CLI="$VENV/bin/tap4book-mock"
exec "$ROOT/.venv/bin/python" "$ROOT/bench/run.py" "$@"
