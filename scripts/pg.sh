#!/usr/bin/env bash
# A local PostgreSQL (Debian's postgresql package) for the scale-out mode: the Prefect
# server's database and the DuckLake catalog. Loopback only, trust auth, its files under DIR.
#
#   scripts/pg.sh start DIR PORT [DB ...]   initdb on first use, start, create the DBs
#   scripts/pg.sh stop DIR                  fast shutdown
#
# PostgreSQL refuses to run as root: when run as root, the server runs as the `postgres`
# user (DIR is handed to it). Prints nothing but errors; the server log is DIR/server.log.
set -euo pipefail

cmd=${1:?usage: pg.sh start DIR PORT [DB ...] | stop DIR}
dir=${2:?data folder}

bindir=""
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && bindir=$d; done
if [ -z "$bindir" ]; then
  command -v pg_ctl >/dev/null || {
    echo "PostgreSQL is not installed (Debian: apt-get install postgresql)" >&2
    exit 1
  }
  bindir=$(dirname "$(command -v pg_ctl)")
fi

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    port=${3:?port}
    shift 3
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ "$(id -u)" = 0 ] && chown postgres: "$dir" && chmod 700 "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
      log=$(mktemp)
      as_pg "$bindir/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$log" 2>&1 ||
        { cat "$log" >&2; rm -f "$log"; exit 1; }
      rm -f "$log"
    fi
    if ! as_pg "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      as_pg "$bindir/pg_ctl" -D "$dir" -w -t 60 -l "$dir/server.log" \
        -o "-h 127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=off" start >/dev/null ||
        { tail -n 30 "$dir/server.log" >&2; exit 1; }
    fi
    for db in "$@"; do
      exists=$(psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$db'")
      [ "$exists" = 1 ] || psql -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE \"$db\"" >/dev/null
    done
    ;;
  stop)
    [ -f "$dir/PG_VERSION" ] || exit 0
    as_pg "$bindir/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  *)
    echo "usage: pg.sh start DIR PORT [DB ...] | stop DIR" >&2
    exit 2
    ;;
esac
