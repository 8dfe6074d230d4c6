"""A real HTTP receiver on 127.0.0.1 for webhook tests, and a way to run the worker's work
in the test process until a condition holds."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django_tasks_db.management.commands.db_worker import Worker

from stockflow.notifications import scheduler


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each POST with the next of ``statuses`` (the last one repeats), after
    ``delay`` seconds; records every request."""

    statuses: list[int] = field(default_factory=lambda: [200])
    delay: float = 0.0
    first_delay: float = 0.0  # the first request only: a receiver that hangs once
    answer: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    port: int = 0
    received: list[Received] = field(default_factory=list)

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                receiver.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                if receiver.first_delay and len(receiver.received) == 1:
                    time.sleep(receiver.first_delay)
                if receiver.delay:
                    time.sleep(receiver.delay)
                index = min(len(receiver.received), len(receiver.statuses)) - 1
                self.send_response(receiver.statuses[index])
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(receiver.answer)))
                self.end_headers()
                self.wfile.write(receiver.answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/stock"

    def ids(self) -> list[str]:
        return [request.headers["webhook-id"] for request in self.received]


def run_worker_once() -> None:
    """One scheduler tick, then every task ready now, as ``manage.py worker`` would."""
    scheduler.tick()
    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run()


def work_until(condition, timeout: float = 15.0, pause: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while True:
        run_worker_once()
        if condition():
            return
        assert time.monotonic() < deadline, "the condition did not hold in time"
        time.sleep(pause)
