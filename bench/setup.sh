#!/usr/bin/env bash
# Install what the benchmarks need beyond the project's virtualenv: wrk (HTTP load) and
# pgbench (raw SQL floor, shipped with the PostgreSQL client). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v pgbench >/dev/null 2>&1 || need+=(postgresql)  # pgbench ships with the server package
command -v psql >/dev/null 2>&1 || need+=(postgresql-client)

if [ "${#need[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = "0" ] || sudo="sudo"
  echo "installing: ${need[*]}" >&2
  # The package lists may be missing or stale on a fresh machine: refresh only on failure.
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${need[@]}"; then
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${need[@]}"
  fi
fi

if [ ! -x .venv/bin/python ]; then
  make install
fi
wrk --version 2>&1 | head -n1 >&2 || true
pgbench --version >&2
