#!/usr/bin/env bash
# Serve StockFlow on SQLite with demo data: migrate, load the demo, print how to call it, serve.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
PY=.venv/bin/python
export DEBUG="${DEBUG:-1}"
unset DATABASE_URL

$PY manage.py migrate --noinput
$PY manage.py demo --port "$PORT"
exec .venv/bin/gunicorn stockflow.wsgi:application \
  --pythonpath src --bind "127.0.0.1:${PORT}" --workers 2 --access-logfile - --log-level info
