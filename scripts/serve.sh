#!/usr/bin/env bash
# Serve StockFlow in production on PostgreSQL: check the settings (one message listing every
# missing or unsafe one), migrate, collect static files, then run the web server (gunicorn)
# and the worker when the code has one, and supervise them: if one stops, the other is
# stopped too and the script exits with its status; SIGTERM or SIGINT stops both gracefully
# (gunicorn lets requests in flight finish, up to GRACEFUL_TIMEOUT seconds).
#
# Settings come from the environment only (never from the development .env of `make run`).
# README.md, section Production, lists them.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export STOCKFLOW_ENV_FILE=""
export WEB_CONCURRENCY="${WEB_CONCURRENCY:-2}"
BIND="${BIND:-0.0.0.0:${PORT:-8000}}"
GRACEFUL_TIMEOUT="${GRACEFUL_TIMEOUT:-30}"

$PY -m stockflow.ops.deploycheck || exit $?

$PY manage.py migrate --noinput
$PY manage.py collectstatic --noinput --verbosity 0

pids=()
start() {
  "$@" &
  pids+=("$!")
  echo "serve: started $* (pid $!)" >&2
}

stop_all() {
  trap - TERM INT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait || true
}

on_signal() {
  echo "serve: stopping (requests in flight finish first)" >&2
  stop_all
  exit 0
}
trap on_signal TERM INT

# The background worker runs when this version of the code has one (`manage.py worker`);
# /readyz then checks its heartbeat, so the web processes must know before they start.
if compgen -G "src/stockflow/*/management/commands/worker.py" >/dev/null; then
  export STOCKFLOW_WORKER=1
fi

# Each process writes its metrics here; /metrics adds them up. Emptied at each start.
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-var/metrics}"
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"

# No access log: every request has its JSON line (request id, route, status, duration).
start .venv/bin/gunicorn stockflow.wsgi:application --pythonpath src \
  --config src/stockflow/ops/gunicorn_conf.py \
  --bind "$BIND" --workers "$WEB_CONCURRENCY" \
  --graceful-timeout "$GRACEFUL_TIMEOUT" --timeout "${WORKER_TIMEOUT:-30}" \
  --log-level info
[ "${STOCKFLOW_WORKER:-0}" = "1" ] && start $PY manage.py worker

# Whichever stops first takes the others down: a half-running service is worse than none.
status=0
wait -n "${pids[@]}" || status=$?
echo "serve: a process stopped (status $status); stopping the others" >&2
stop_all
exit "$status"
