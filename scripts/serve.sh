#!/usr/bin/env bash
# `make serve`: a local Prefect server (SQLite), the `kcity` process work pool, the
# deployments of prefect.yaml and one worker, all on 127.0.0.1 with their state under the
# data folder. Prints the UI address; Ctrl-C stops what it started. Running it again while
# it runs is harmless: it says where the UI is and exits.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN="$ROOT/.venv/bin"

DATA=${KCITY_DATA_DIR:-./data}
mkdir -p "$DATA"
export KCITY_DATA_DIR=$(cd "$DATA" && pwd)
export PREFECT_HOME=${PREFECT_HOME:-$KCITY_DATA_DIR/prefect}
HOST=127.0.0.1
PORT=${KCITY_PREFECT_PORT:-4200}
export PREFECT_API_URL="http://$HOST:$PORT/api"
export PREFECT_SERVER_ANALYTICS_ENABLED=false
export PREFECT_SERVER_API_HOST=$HOST
export PREFECT_SERVER_API_PORT=$PORT
LOGS="$PREFECT_HOME/logs"
mkdir -p "$LOGS"

healthy() {
  "$BIN/python" - "$PREFECT_API_URL/health" <<'PY' 2>/dev/null
import sys, urllib.request
sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=2).status == 200 else 1)
PY
}

if healthy; then
  echo "A Prefect server already answers at http://$HOST:$PORT (UI). Nothing started."
  exit 0
fi

pids=()
stop() {
  trap - EXIT INT TERM
  echo "Stopping worker and server..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.2
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}
trap stop EXIT INT TERM

"$BIN/prefect" server start --host "$HOST" --port "$PORT" >"$LOGS/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 240); do
  healthy && break
  kill -0 "${pids[0]}" 2>/dev/null || { echo "Prefect server failed to start; see $LOGS/server.log" >&2; exit 1; }
  sleep 0.5
done
healthy || { echo "Prefect server not healthy after 120 s; see $LOGS/server.log" >&2; exit 1; }

"$BIN/prefect" work-pool create kcity --type process --overwrite >"$LOGS/deploy.log" 2>&1
"$BIN/prefect" --no-prompt deploy --all >>"$LOGS/deploy.log" 2>&1 || {
  cat "$LOGS/deploy.log" >&2; echo "prefect deploy failed" >&2; exit 1; }

"$BIN/prefect" worker start --pool kcity --type process --name "kcity-worker-$PORT" >"$LOGS/worker.log" 2>&1 &
pids+=($!)

echo "Prefect UI: http://$HOST:$PORT  (deployments: kcity-nightly/nightly, kcity-backfill/backfill)"
echo "Data folder: $KCITY_DATA_DIR   Logs: $LOGS   Stop: Ctrl-C"
wait -n "${pids[@]}" || true
echo "A process stopped; see $LOGS" >&2
