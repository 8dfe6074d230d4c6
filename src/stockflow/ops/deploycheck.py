"""The settings a production deployment needs, checked from the environment alone (before
Django starts: a missing SECRET_KEY stops Django itself).

``python -m stockflow.ops.deploycheck`` prints one message listing every missing or unsafe
setting and exits 2, or prints nothing and exits 0. ``make serve`` runs it first."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}
DEVELOPMENT_KEY_PREFIXES = ("insecure-", "django-insecure", "change-me", "changeme")


def problems(env: Mapping[str, str]) -> list[str]:
    found: list[str] = []
    url = env.get("DATABASE_URL", "")
    if not url:
        found.append("DATABASE_URL is missing: postgres://user:password@host:5432/name")
    elif not url.lower().startswith(("postgres://", "postgresql://", "pgsql://")):
        found.append("DATABASE_URL must be a postgres:// URL (SQLite is for development)")
    key = env.get("SECRET_KEY", "")
    if not key:
        found.append(
            "SECRET_KEY is missing: 50 random characters, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    elif len(key) < 50 or len(set(key)) < 5 or key.lower().startswith(DEVELOPMENT_KEY_PREFIXES):
        found.append("SECRET_KEY is unsafe: use at least 50 random characters")
    if env.get("DEBUG", "").strip().lower() in TRUE:
        found.append("DEBUG is on: unset it or set DEBUG=0 (tracebacks would be public)")
    hosts = [h.strip() for h in env.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    if not hosts:
        found.append(
            "ALLOWED_HOSTS is missing: the host names clients use, comma-separated "
            "(every request, /healthz included, is refused with 400 otherwise)"
        )
    elif "*" in hosts:
        found.append("ALLOWED_HOSTS contains '*': name the hosts")
    https = env.get("STOCKFLOW_HTTPS", "").strip().lower()
    if https not in TRUE | FALSE:
        found.append(
            "STOCKFLOW_HTTPS is not set: 1 behind a TLS proxy that sets X-Forwarded-Proto "
            "(plain HTTP requests are redirected to https), 0 to serve plain HTTP"
        )
    if not env.get("EMAIL_URL") and not env.get("EMAIL_HOST"):
        found.append(
            "EMAIL_URL is missing: smtp://user:password@host:587, needed for invitations and "
            "password resets (or EMAIL_HOST and the other EMAIL_* variables)"
        )
    public_url = env.get("STOCKFLOW_PUBLIC_URL", "")
    if not public_url.startswith(("http://", "https://")):
        found.append(
            "STOCKFLOW_PUBLIC_URL is missing: the address users reach, e.g. "
            "https://stock.example.com (links in emails point there)"
        )
    workers = env.get("WEB_CONCURRENCY", "")
    if workers and (not workers.isdigit() or int(workers) < 1):
        found.append("WEB_CONCURRENCY must be a positive number of web processes")
    elif workers.isdigit() and int(workers) > 1 and not env.get("REDIS_URL"):
        found.append(
            "REDIS_URL is missing while WEB_CONCURRENCY > 1: without a shared cache each "
            "process counts rate limits on its own (N processes let N times the limit through)"
        )
    return found


def main() -> int:
    found = problems(os.environ)
    if found:
        lines = "\n".join(f"  - {problem}" for problem in found)
        print(
            f"StockFlow cannot start in production: {len(found)} setting(s) to fix\n{lines}\n"
            "See the README, section Production.",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
