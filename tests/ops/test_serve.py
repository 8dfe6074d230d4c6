"""Production in one command: `make serve` (scripts/serve.sh) checks the settings, migrates,
collects static files, serves, and stops gracefully; `make run` leaves a .env behind so that
`manage.py` works without variables."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time

import psycopg
import pytest
from django.conf import settings

from stockflow.ops.deploycheck import problems
from tests.ops.servers import ROOT, call
from tests.parallel import free_port

GOOD = {
    "DATABASE_URL": "postgres://stockflow:pw@db.internal:5432/stockflow",
    "SECRET_KEY": "k3J9-" + "x7Qp2" * 10,
    "ALLOWED_HOSTS": "stock.example.com",
    "STOCKFLOW_HTTPS": "1",
    "EMAIL_URL": "smtp://mailer:pw@smtp.example.com:587",
    "STOCKFLOW_PUBLIC_URL": "https://stock.example.com",
    "WEB_CONCURRENCY": "4",
    "REDIS_URL": "redis://cache.internal:6379/0",
}


def base_env(**extra: str) -> dict[str, str]:
    keep = {"PATH", "HOME", "LANG", "TMPDIR"}
    return {**{k: v for k, v in os.environ.items() if k in keep}, **extra}


def test_a_complete_production_environment_passes():
    assert problems(GOOD) == []


def test_every_missing_setting_is_listed_at_once():
    found = "\n".join(problems({}))
    for name in (
        "DATABASE_URL",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "STOCKFLOW_HTTPS",
        "EMAIL_URL",
        "STOCKFLOW_PUBLIC_URL",
    ):
        assert name in found, name


@pytest.mark.parametrize(
    ("change", "word"),
    [
        ({"DEBUG": "1"}, "DEBUG"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"SECRET_KEY": "django-insecure-" + "a1b2c3" * 10}, "SECRET_KEY"),
        ({"DATABASE_URL": "sqlite:///db.sqlite3"}, "DATABASE_URL"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
        ({"STOCKFLOW_HTTPS": "maybe"}, "STOCKFLOW_HTTPS"),
        ({"REDIS_URL": ""}, "REDIS_URL"),
    ],
)
def test_unsafe_settings_are_listed(change, word):
    found = problems({**GOOD, **change})
    assert len(found) == 1 and word in found[0], found


def test_serve_refuses_to_start_with_one_message():
    result = subprocess.run(
        ["bash", "scripts/serve.sh"],
        cwd=ROOT,
        env=base_env(DEBUG="1"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("StockFlow cannot start in production: 8 setting(s) to fix")
    assert "Operations to perform" not in result.stdout  # nothing migrated


def test_manage_py_reads_the_development_env_file(tmp_path):
    env_file = tmp_path / "dev.env"
    env_file.write_text("# development\nDEBUG=1\nSECRET_KEY='from-the-file-0123456789'\n")
    env = base_env(STOCKFLOW_ENV_FILE=str(env_file), STOCKFLOW_VAR_DIR=str(tmp_path))
    code = "from django.conf import settings; print(settings.DEBUG, settings.SECRET_KEY)"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "from-the-file-0123456789"]
    # The environment wins over the file.
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
        cwd=ROOT,
        env={**env, "SECRET_KEY": "from-the-environment-0123"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["True", "from-the-environment-0123"]


@pytest.fixture
def serve_database():
    """A database of its own for the served process, dropped afterwards."""
    db = settings.DATABASES["default"]
    name = f"{db['NAME']}_serve"
    admin = f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
@pytest.mark.slow
def test_serve_runs_on_postgresql_and_stops_gracefully(serve_database, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = base_env(
        DATABASE_URL=serve_database,
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        STOCKFLOW_HTTPS="0",
        EMAIL_URL="console://",
        STOCKFLOW_PUBLIC_URL=base,
        WEB_CONCURRENCY="1",
        PORT=str(port),
        BIND=f"127.0.0.1:{port}",
        STOCKFLOW_VAR_DIR=str(tmp_path),
        LOG_LEVEL="WARNING",
    )
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        ["bash", "scripts/serve.sh"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status, body, _ = call(f"{base}/readyz", timeout=2)
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        assert status == 200, (tmp_path / "serve.log").read_text()[-3000:]
        assert body["checks"]["migrations"] == "ok"
        assert body["checks"]["worker"] == "ok"  # started beside gunicorn, beating
        # collectstatic ran: the docs page and its assets are served.
        assert call(f"{base}/api/docs/")[0] == 200
        status, _, _ = call(
            f"{base}/api/signup",
            {
                "username": "first",
                "email": "first@example.com",
                "password": "walnut 7 cabinet door",
                "company_name": "First",
            },
        )
        assert status == 201
        # A request in flight when SIGTERM arrives still gets its answer.
        answers: list[int] = []
        login = threading.Thread(
            target=lambda: answers.append(
                call(
                    f"{base}/api/auth/token",
                    {"username": "first", "password": "walnut 7 cabinet door"},
                )[0]
            )
        )
        login.start()
        time.sleep(0.15)
        process.send_signal(signal.SIGTERM)
        login.join(30)
        assert answers == [201]
        assert process.wait(timeout=40) == 0
        with pytest.raises(OSError):
            call(f"{base}/healthz", timeout=2)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        log.close()
