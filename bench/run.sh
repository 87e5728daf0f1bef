#!/usr/bin/env bash
# Run the bench with the project's venv: bench/run.sh [--workers N --threads N ...]  (see --help)
set -eu
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 1; }
exec "$ROOT/.venv/bin/python" "$ROOT/bench/run.py" "$@"
