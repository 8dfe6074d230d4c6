#!/usr/bin/env bash
# Serve StockFlow on SQLite with demo data: migrate, load the demo, print how to call it, then
# run the web server and the worker (webhooks, email, periodic jobs) together. Ctrl-C stops
# both; if one of them exits, the other is stopped too.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
PY=.venv/bin/python
export DEBUG="${DEBUG:-1}"
# Development only: webhooks may target a receiver on this machine.
export STOCKFLOW_WEBHOOK_ALLOW_PRIVATE="${STOCKFLOW_WEBHOOK_ALLOW_PRIVATE:-1}"
# The worker runs beside the web server: /readyz checks its heartbeat.
export STOCKFLOW_WORKER=1
unset DATABASE_URL

# Development settings in a git-ignored .env, which settings.py reads: `manage.py` commands
# run by hand afterwards (verify_stock, createsuperuser) work without any variable.
if [ ! -f .env ]; then
  printf '# Written by make run: development settings (DEBUG on, SQLite).\nDEBUG=1\nSECRET_KEY=%s\n' \
    "$($PY -c 'import secrets; print(secrets.token_urlsafe(50))')" >.env
fi

$PY manage.py migrate --noinput
$PY manage.py demo --port "$PORT"

pids=()
stop() {
  trap - EXIT INT TERM
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop EXIT INT TERM

$PY manage.py worker &
pids+=($!)
.venv/bin/gunicorn stockflow.wsgi:application \
  --pythonpath src --bind "127.0.0.1:${PORT}" --workers 2 --access-logfile - --log-level info &
pids+=($!)
wait -n "${pids[@]}" || true
