#!/usr/bin/env bash
# The web view's figures in one run: the sessions page over 100,000 sessions (the
# server's own render time, logged by serve at debug, p50/p99/max per page), the query
# plans of its reads, and 100 Server-Sent Events clients (the follower's reads per
# commit, the server's memory and CPU idle, connected, and after they leave).
#
#   swift build -c release --product sessionctl --scratch-path .build-release
#   SESSIONCTL=.build-release/release/sessionctl Benchmarks/web/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
sessionctl=${SESSIONCTL:-.build-release/release/sessionctl}
sessions=${SESSIONS:-100000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== $sessions sessions (about half closed), ten users, three data sources"
"$sessionctl" load --db "$work/big.sqlite" --sessions "$sessions" --executions 0 --timeout 2h --concurrency 4 >/dev/null
sqlite3 "$work/big.sqlite" "SELECT state, count(*) FROM sessions GROUP BY state"

echo "== query plans of the sessions page's reads"
sqlite3 "$work/big.sqlite" < Benchmarks/web/explain.sql | grep -E '^--|QUERY PLAN|SEARCH|SCAN'

echo "== sessions, overview and events pages: server render time"
python3 Benchmarks/web/pages.py --sessionctl "$sessionctl" --db "$work/big.sqlite" --rounds "${ROUNDS:-100}"

echo "== 100 Server-Sent Events clients"
python3 Benchmarks/web/sse_clients.py --sessionctl "$sessionctl"
