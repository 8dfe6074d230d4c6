#!/usr/bin/env bash
# Lint, then the whole suite on SQLite and on PostgreSQL.
#
# PostgreSQL is found in this order: DATABASE_URL (when it is a postgres:// URL); the server
# on 127.0.0.1:5432 (user postgres); a throwaway cluster started here with initdb/pg_ctl and
# removed at the end (STOCKFLOW_THROWAWAY_PG=1 forces this last one). Under CI=true a run where
# PostgreSQL could not be had fails.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PYTEST_ARGS=("$@")

echo "== ruff check"
$BIN/ruff check .

# The web journeys (tests/web/test_browser.py) drive the distribution's Chromium; browsers are
# never downloaded. Installed here when missing and running as root; under CI=true a run
# without it fails (the journeys would otherwise be skipped).
CHROMIUM="${STOCKFLOW_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "== installing Chromium for the browser tests (apt-get install -y chromium)"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || true
fi
if [ ! -x "$CHROMIUM" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL: Chromium ($CHROMIUM) is missing and could not be installed; CI runs the browser tests." >&2
    exit 1
  fi
  echo "WARNING: no Chromium at $CHROMIUM: the browser journeys are skipped." >&2
  echo "         Install it with: sudo apt-get install -y chromium" >&2
fi

echo "== test suite on SQLite"
env -u DATABASE_URL $BIN/pytest -q -p no:cacheprovider "${PYTEST_ARGS[@]}"

pg_url=""
tmp_cluster=""
cleanup() {
  if [ -n "$tmp_cluster" ]; then
    run_as_pg "$PG_BIN/pg_ctl" -D "$tmp_cluster/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$tmp_cluster"
  fi
}
trap cleanup EXIT

run_as_pg() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

can_connect() {
  $BIN/python - "$1" <<'PY' >/dev/null 2>&1
import sys, psycopg
psycopg.connect(sys.argv[1], connect_timeout=3).close()
PY
}

if [[ "${DATABASE_URL:-}" == postgres* ]]; then
  pg_url="$DATABASE_URL"
elif [ "${STOCKFLOW_THROWAWAY_PG:-}" != "1" ] && can_connect "postgresql://postgres@127.0.0.1:5432/postgres"; then
  pg_url="postgres://postgres@127.0.0.1:5432/postgres"
else
  PG_BIN="$(dirname "$(command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n1)")"
  if [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ]; then
    tmp_cluster="$(mktemp -d /tmp/stockflow-pg.XXXXXX)"
    port="$($BIN/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    chmod 755 "$tmp_cluster"
    [ "$(id -u)" = "0" ] && chown postgres "$tmp_cluster"
    echo "== starting a throwaway PostgreSQL cluster on 127.0.0.1:$port"
    run_as_pg "$PG_BIN/initdb" -D "$tmp_cluster/data" -U postgres --auth=trust -E UTF8 >/dev/null
    run_as_pg "$PG_BIN/pg_ctl" -D "$tmp_cluster/data" -w -l "$tmp_cluster/log" \
      -o "-p $port -k $tmp_cluster -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    pg_url="postgres://postgres@127.0.0.1:$port/postgres"
  fi
fi

if [ -z "$pg_url" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL: no PostgreSQL available (DATABASE_URL, 127.0.0.1:5432, or initdb); CI requires it." >&2
    exit 1
  fi
  echo "WARNING: no PostgreSQL available; the PostgreSQL run was skipped." >&2
  exit 0
fi

echo "== test suite on PostgreSQL (the browser journeys ran on SQLite)"
STOCKFLOW_REQUIRE_POSTGRES=1 DATABASE_URL="$pg_url" \
  $BIN/pytest -q -p no:cacheprovider -m "not browser" "${PYTEST_ARGS[@]}"
