"""One webhook request: a POST to an address checked by ``urlcheck`` (the connection goes to
that address, the Host header and TLS name stay the URL's), no redirect followed, the
answer read up to a cap, everything bounded by the timeout."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from stockflow.notifications.urlcheck import ForbiddenUrl, resolve_allowed

KEPT_BYTES = 1024


@dataclass
class Outcome:
    status_code: int | None
    duration_ms: int
    error: str
    response_body: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    def connect(self):
        super().connect()
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(self.sock, server_hostname=self.host)


def post(url: str, body: str, headers: dict[str, str]) -> Outcome:
    started = time.monotonic()
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS

    def outcome(status=None, error="", answer=b"") -> Outcome:
        return Outcome(
            status,
            int((time.monotonic() - started) * 1000),
            error,
            answer[:KEPT_BYTES].decode("utf-8", "replace"),
        )

    try:
        addresses = resolve_allowed(url)
    except ForbiddenUrl as exc:
        return outcome(error=str(exc))
    parts = urlsplit(url)
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = connection_class(parts.hostname, port, addresses[0], timeout)
    try:
        connection.request(
            "POST",
            path,
            body=body.encode(),
            headers={
                **headers,
                "Content-Type": "application/json",
                "User-Agent": "StockFlow-Webhooks/1",
            },
        )
        response = connection.getresponse()
        answer = response.read(settings.WEBHOOK_MAX_RESPONSE_BYTES)
        error = ""
        if 300 <= response.status < 400:
            error = f"Redirect to {response.getheader('Location', '?')} not followed."
        return outcome(response.status, error, answer)
    except (OSError, http.client.HTTPException) as exc:
        return outcome(error=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    finally:
        connection.close()
