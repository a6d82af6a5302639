#!/usr/bin/env bash
# SessionStore on PostgreSQL beside PostgreSQL's own floor and beside SQLite, in one run:
#   1. a private PostgreSQL 15 (initdb + pg_ctl on a temporary directory and a free port,
#      as the postgres user when run as root; server defaults, so synchronous_commit=on);
#   2. `sessionctl bench --db postgres://…` for open, touch, get and sweep (two sweepers);
#   3. pgbench -M prepared running the same statements on the same schema with the same
#      number of clients (open: a hand-written open transaction, see open.sql);
#   4. `sessionctl bench` on SQLite for the same scenarios;
# then a table with the ratios, and the server is stopped and its directory removed.
#
#   Benchmarks/postgres/run.sh                      # release build of sessionctl, 50 callers
#   CLIENTS=50 DURATION=15 SESSIONS=100000 ROUNDS=3 Benchmarks/postgres/run.sh
# The machine is shared and noisy: each figure is the median of ROUNDS runs, the store's
# and pgbench's alternating, so that both see the same minutes.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
B=${PG_BINARIES:-/usr/lib/postgresql/15/bin}
CLIENTS=${CLIENTS:-50} DURATION=${DURATION:-15} SESSIONS=${SESSIONS:-100000} OPERATIONS=${OPERATIONS:-200000}
DUE=${DUE:-20000} ROUNDS=${ROUNDS:-3} T0=1700000000000
SESSIONCTL=${SESSIONCTL:-}
if [ -z "$SESSIONCTL" ]; then
    (cd "$root" && swift build -c release --product sessionctl >/dev/null)
    SESSIONCTL="$root/.build/release/sessionctl"
fi

T=$(mktemp -d /tmp/sessionstore-pgbench.XXXXXX)
if [ "$(id -u)" = 0 ]; then AS="runuser -u postgres --"; chown postgres: "$T"; else AS=""; fi
stop() { $AS "$B/pg_ctl" -D "$T/data" -m fast -w stop >/dev/null 2>&1 || true; rm -rf "$T"; }
trap stop EXIT
trap 'exit 130' INT TERM
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
$AS "$B/initdb" -D "$T/data" -A trust -U postgres >"$T/initdb.log" 2>&1 || { cat "$T/initdb.log"; exit 1; }
$AS "$B/pg_ctl" -D "$T/data" -o "-p $PORT -k $T -c listen_addresses=127.0.0.1 -c max_connections=200" \
    -l "$T/server.log" -w start >/dev/null || { cat "$T/server.log"; exit 1; }
export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres
URI="postgres://postgres@127.0.0.1:$PORT/postgres"
psql() { "$B/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }

# The floor's schema: the store's own tables (migrated by sessionctl), loaded with SQL.
psql -c "CREATE SCHEMA floor"
"$SESSIONCTL" init --db "$URI?options=-csearch_path%3Dfloor" >/dev/null
PGOPTIONS="-c search_path=floor" psql -v nsess="$SESSIONS" -v t0=$T0 -f "$here/floor-load.sql" >/dev/null

pgbench_tps() {  # SCRIPT: transactions per second of pgbench with CLIENTS clients
    psql -c CHECKPOINT
    PGOPTIONS="-c search_path=floor" "$B/pgbench" -n -M prepared -f "$here/$1" -c "$CLIENTS" -j 2 -T "$DURATION" \
        -D nsess="$SESSIONS" -D t0=$T0 2>&1 | sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}

ours() {  # DB SCENARIO [ARGS]: operations per second of sessionctl bench
    local db=$1 scenario=$2; shift 2
    "$SESSIONCTL" bench --db "$db" --scenario "$scenario" --sessions "$SESSIONS" --concurrency "$CLIENTS" \
        --operations "$OPERATIONS" --json "$@" 2>/dev/null \
        | python3 -c 'import json, sys; d = json.load(sys.stdin); r = d[0]; print(round(r["opsPerSecond"]), json.dumps(r.get("notes", {}), separators=(",", ":")))'
}

median() { python3 -c 'import statistics, sys; print(round(statistics.median(float(x) for x in sys.argv[1:])))' "$@"; }

echo "$(uptime)"
echo "PostgreSQL $(psql -At -c 'SHOW server_version') on $(nproc) cores, synchronous_commit=$(psql -At -c 'SHOW synchronous_commit'); $CLIENTS callers; $SESSIONS sessions; medians of $ROUNDS rounds, the store and pgbench alternating"
printf "%-8s %14s %14s %8s %14s\n" scenario "postgres op/s" "pgbench tps" ratio "sqlite op/s"
for scenario in touch get open; do
    ours_runs=() floor_runs=()
    for _ in $(seq "$ROUNDS"); do
        read -r pg _ <<<"$(ours "$URI" "$scenario")"
        ours_runs+=("${pg:-0}")
        floor_runs+=("$(pgbench_tps "$scenario.sql")")
    done
    read -r lite _ <<<"$(ours "$T/bench-$scenario.sqlite" "$scenario")"
    rm -f "$T/bench-$scenario.sqlite"*
    pg=$(median "${ours_runs[@]}") floor=$(median "${floor_runs[@]:-0}")
    printf "%-8s %14s %14s %8.2f %14s   (runs: %s / %s)\n" "$scenario" "$pg" "$floor" \
        "$(python3 -c "print($pg / max($floor, 1))")" "$lite" "${ours_runs[*]}" "${floor_runs[*]}"
done
read -r pg notes <<<"$(ours "$URI" sweep --due "$DUE" --sweepers 2)"
read -r lite _ <<<"$(ours "$T/bench-sweep.sqlite" sweep --due "$DUE")"
printf "%-8s %14s %14s %8s %14s   (two sweepers on PostgreSQL, one on SQLite; %s)\n" sweep "$pg" - - "$lite" "$notes"
