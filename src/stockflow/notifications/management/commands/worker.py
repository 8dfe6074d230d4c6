"""``manage.py worker``: the background process (SPEC §4.2). A scheduler thread hands new
stock events to webhook deliveries and enqueues the periodic jobs; the main thread runs the
tasks of the database queue (``django_tasks_db``'s worker, ``SELECT … FOR UPDATE SKIP
LOCKED`` on PostgreSQL). Ctrl-C (SIGINT) or SIGTERM stops both after the running task.

With another task backend (RQ, Celery) its own workers run the tasks: start this command
with ``--scheduler-only`` beside them."""

from __future__ import annotations

import os
import socket

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_tasks import task_backends
from django_tasks_db import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker

from stockflow.notifications.scheduler import Scheduler


class Command(BaseCommand):
    help = "Run the background worker: event dispatch, periodic jobs and the task queue."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--scheduler-only", action="store_true")
        parser.add_argument("--no-scheduler", action="store_true")
        parser.add_argument("--max-tasks", type=int, default=None)

    def handle(self, *args, scheduler_only=False, no_scheduler=False, max_tasks=None, **options):
        if scheduler_only and no_scheduler:
            raise CommandError("--scheduler-only and --no-scheduler leave nothing to run.")
        scheduler = None if no_scheduler else Scheduler(settings.WORKER_TICK_SECONDS)
        if scheduler:
            scheduler.start()
        try:
            if scheduler_only or not isinstance(task_backends["default"], DatabaseBackend):
                self.stdout.write("Worker: scheduler only (the task backend runs its own workers)")
                scheduler.join()
                return
            worker = Worker(
                queue_names=["*"],
                interval=settings.WORKER_POLL_SECONDS,
                batch=False,
                backend_name="default",
                startup_delay=False,
                max_tasks=max_tasks,
                worker_id=f"{socket.gethostname()[:40]}-{os.getpid()}",
                excluded_queue_names=[],
            )
            worker.configure_signals()
            self.stdout.write("Worker: running tasks and the scheduler; Ctrl-C stops")
            worker.run()
        finally:
            if scheduler:
                scheduler.stop()
                scheduler.join(5)
