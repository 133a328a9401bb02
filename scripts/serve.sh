#!/usr/bin/env bash
# `make serve`: a local Prefect server (SQLite), the `kcity` process work pool, the
# deployments of prefect.yaml and one worker, all on 127.0.0.1 with their state under the
# data folder. Prints the UI address; Ctrl-C stops what it started. Running it again while
# it runs is harmless: it says where the UI is and exits.
#
# `make serve-scaled` (docs/deployment.md) sets, and anyone may set:
#   KCITY_PREFECT_DB=postgres  the server's database is PostgreSQL: the one named by
#                              PREFECT_API_DATABASE_CONNECTION_URL, else a local one this
#                              script starts (scripts/pg.sh; KCITY_PG_DIR, KCITY_PG_PORT)
#                              with databases `prefect` and `kcity_lake` (the DuckLake
#                              catalog when KCITY_WAREHOUSE=ducklake names none).
#   KCITY_WORKERS=N            N process workers on the pool (default 1), logs worker-<i>.log
#   KCITY_WORKER_LIMIT=K       flow runs each worker runs at once (default: unlimited with
#                              one worker, 2 with several, so a spread backfill's days go
#                              to every worker while its parent run waits)
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
pg_dir=""
stop() {
  trap - EXIT INT TERM
  echo "Stopping workers and server..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.2
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  [ -n "$pg_dir" ] && bash "$ROOT/scripts/pg.sh" stop "$pg_dir"
  return 0
}
trap stop EXIT INT TERM

WORKERS=${KCITY_WORKERS:-1}
if [ "${KCITY_PREFECT_DB:-sqlite}" = postgres ]; then
  if [ -z "${PREFECT_API_DATABASE_CONNECTION_URL:-}" ]; then
    pg_dir=${KCITY_PG_DIR:-$KCITY_DATA_DIR/postgres}
    pg_port=${KCITY_PG_PORT:-5433}
    bash "$ROOT/scripts/pg.sh" start "$pg_dir" "$pg_port" prefect kcity_lake
    export PREFECT_API_DATABASE_CONNECTION_URL="postgresql+asyncpg://postgres@127.0.0.1:$pg_port/prefect"
    if [ "${KCITY_WAREHOUSE:-duckdb}" = ducklake ] && [ -z "${KCITY_DUCKLAKE_CATALOG:-}" ]; then
      export KCITY_DUCKLAKE_CATALOG="dbname=kcity_lake host=127.0.0.1 port=$pg_port user=postgres"
    fi
  fi
  echo "Prefect database: PostgreSQL (${PREFECT_API_DATABASE_CONNECTION_URL%%://*}://...@${PREFECT_API_DATABASE_CONNECTION_URL#*@})"
fi
if [ "${KCITY_WAREHOUSE:-duckdb}" = ducklake ]; then
  echo "Warehouse: DuckLake, catalog $(printf '%s' "${KCITY_DUCKLAKE_CATALOG:-(default)}" | sed -E 's/(password *= *)[^ ]*/\1***/')"
fi

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

limit=${KCITY_WORKER_LIMIT:-}
[ -z "$limit" ] && [ "$WORKERS" -gt 1 ] && limit=2
for i in $(seq 1 "$WORKERS"); do
  name="kcity-worker-$PORT"
  log="$LOGS/worker.log"
  if [ "$WORKERS" -gt 1 ]; then name="kcity-worker-$PORT-$i"; log="$LOGS/worker-$i.log"; fi
  # Two malloc arenas in the flow-run processes the worker starts (kcity/malloc.py).
  MALLOC_ARENA_MAX=2 "$BIN/prefect" worker start --pool kcity --type process --name "$name" ${limit:+--limit "$limit"} >"$log" 2>&1 &
  pids+=($!)
done

echo "Prefect UI: http://$HOST:$PORT  (deployments: kcity-nightly/nightly, kcity-backfill/backfill; $WORKERS worker(s))"
echo "Data folder: $KCITY_DATA_DIR   Logs: $LOGS   Stop: Ctrl-C"
wait -n "${pids[@]}" || true
echo "A process stopped; see $LOGS" >&2
