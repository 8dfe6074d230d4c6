"""Which webhook URLs may be called: http(s) only, and never an address inside the network
(loopback, private, link-local, multicast, reserved) unless ``WEBHOOK_ALLOW_PRIVATE`` (for
development and tests). Checked at registration and again before each attempt, on the
addresses the name resolves to then; the attempt connects to an address so checked."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class ForbiddenUrl(ValueError):
    pass


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def check_scheme(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL with a host, else ``ForbiddenUrl``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ForbiddenUrl(f"Not a valid URL: {exc}.") from None
    if parts.scheme not in ("http", "https"):
        raise ForbiddenUrl("Must be an http or https URL.")
    if not parts.hostname:
        raise ForbiddenUrl("The URL has no host.")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def resolve_allowed(url: str, *, unresolved_ok: bool = False) -> list[str]:
    """The addresses the URL's host resolves to, all allowed; ``ForbiddenUrl`` if one is
    not. A name that does not resolve is refused unless ``unresolved_ok`` (registration:
    the name may exist later; each attempt checks again)."""
    _, host, port = check_scheme(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        if unresolved_ok:
            return []
        raise ForbiddenUrl(f"The host {host!r} does not resolve.") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not settings.WEBHOOK_ALLOW_PRIVATE:
        for address in addresses:
            if _forbidden(ipaddress.ip_address(address.split("%")[0])):
                raise ForbiddenUrl(
                    f"{host} resolves to {address}, an address inside the network: refused."
                )
    return addresses
