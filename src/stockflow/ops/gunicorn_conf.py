"""gunicorn settings of `make serve` (the rest is on its command line)."""

import os


def child_exit(server, worker):
    # A worker that stopped no longer counts in the live sums of /metrics.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
