#!/usr/bin/env bash
# Run the shared peers benchmark (/work/shared/peers-bench) with our server added from bench/peers.local.
#
#   bench/peers.sh                         # all peers + ours, ~5 min; table in bench/results/peers.txt
#   ONLY=tap4book-mock-2w1t,flask-gunicorn-1w8t bench/peers.sh   # any run_all.sh knob works
#
# It runs from a private copy in bench/results/peers-work/: run_all.sh writes gen/, raw/, logs/, history/
# (and setup.sh installs node_modules/ and venv/) next to itself, and as root its "read-only copy" check
# does not fire, so running it in /work/shared directly would write into the shared folder.
set -eu
BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"
SRC=${PEERS_BENCH:-/work/shared/peers-bench}
WORK=${PEERS_WORK:-$BENCH/results/peers-work}
export PEERS_FILE=${PEERS_FILE:-$BENCH/peers.local}
export RESULTS=${RESULTS:-$BENCH/results/peers.txt}

token=$("$ROOT/.venv/bin/tap4book-mock" token)
if ! grep -q "access_token=$token" "$PEERS_FILE"; then
  echo "warning: $PEERS_FILE does not carry the current token ($token); our rows would be 401s" >&2
fi
mkdir -p "$WORK" "$(dirname "$RESULTS")"
cp -r "$SRC"/. "$WORK"/          # refresh the harness; node_modules/ and venv/ from earlier runs are kept
chmod -R u+w "$WORK"
cd "$WORK"
exec bash run_all.sh "$@"
