"""Real servers for the operations tests: gunicorn on 127.0.0.1 against the test database,
and a Redis server (the machine's, else one started for the run). Bounded and stopped by
the tests that start them."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(
    url: str, body: dict | None = None, timeout: float = 30, headers: dict | None = None
) -> tuple[int, dict | str, dict]:
    """(status, JSON body or text, headers) of one request; HTTP errors are answers too."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, text, answer_headers = response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        status, text, answer_headers = exc.code, exc.read(), exc.headers
    try:
        return status, json.loads(text), dict(answer_headers)
    except ValueError:
        return status, text.decode(errors="replace"), dict(answer_headers)


def database_url_of_test_run() -> str:
    """The URL of the database the test run uses (its test database)."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def server_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_VERSION", "DATABASE_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="stockflow.settings",
        STOCKFLOW_ENV_FILE="",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        STOCKFLOW_HTTPS="0",
        DATABASE_URL=database_url_of_test_run(),
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT / "src"),
    )
    env.update(extra)
    return env


class Server(str):
    """The base URL of a server, with its log."""

    log_path: Path

    def log(self, tail: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-tail:]


@contextlib.contextmanager
def gunicorn(workers: int, env: dict[str, str], timeout: float = 90) -> Iterator[Server]:
    """Gunicorn with ``workers`` sync workers on a free port; yields its base URL once every
    worker has booted."""
    port = free_port()
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "stockflow.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = Server(f"http://127.0.0.1:{port}")
    base.log_path = Path(log.name)
    try:
        deadline = time.monotonic() + timeout
        while True:
            assert process.poll() is None, Path(log.name).read_text()[-3000:]
            booted = Path(log.name).read_text().count("Booting worker")
            if booted >= workers:
                with contextlib.suppress(OSError):
                    if call(f"{base}/healthz", timeout=2)[0] == 200:
                        break
            assert time.monotonic() < deadline, Path(log.name).read_text()[-3000:]
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()
        os.unlink(log.name)


def redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """The Redis URL of the machine's server on 6379, else of one started here."""
    if redis_answers(6379):
        yield "redis://127.0.0.1:6379/0"
        return
    binary = shutil.which("redis-server")
    assert binary, "no Redis on 127.0.0.1:6379 and no redis-server to start"
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="stockflow-redis-")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", workdir],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while not redis_answers(port):
            assert process.poll() is None and time.monotonic() < deadline, "redis-server failed"
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def postgres_bin() -> Path | None:
    candidates = [shutil.which("initdb"), "/usr/local/bin/initdb"]
    candidates += sorted(str(p) for p in Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    for candidate in candidates:
        if candidate and Path(candidate).exists() and (Path(candidate).parent / "pg_ctl").exists():
            return Path(candidate).parent
    return None


class Cluster:
    """A throwaway PostgreSQL cluster on a free port of 127.0.0.1 (never the machine's
    server), run as the postgres user when the tests run as root."""

    def __init__(self) -> None:
        self.bin = postgres_bin()
        assert self.bin, "initdb/pg_ctl not found"
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="stockflow-outage-"))
        self.data = self.dir / "data"
        self.as_postgres = os.getuid() == 0
        self.dir.chmod(0o755)
        if self.as_postgres:
            shutil.chown(self.dir, "postgres")

    def run(self, *args: str, timeout: float = 60) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-w",
            "-l",
            str(self.dir / "log"),
            "-o",
            options,
            "start",
        )

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
