"""API token format and hashing.

A token reads ``sf_<prefix>_<secret>``. The prefix (public, unique) finds the row; the
SHA-256 of the whole token is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_SCHEME = "sf"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def generate_token() -> tuple[str, str, str]:
    """Return (token, prefix, token_hash); the token itself is never stored."""
    prefix = secrets.token_hex(6)
    token = f"{TOKEN_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    return token, prefix, hash_token(token)


def split_prefix(token: str) -> str | None:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_SCHEME or not parts[1] or not parts[2]:
        return None
    return parts[1]


def token_matches(token: str, token_hash: str) -> bool:
    return hmac.compare_digest(hash_token(token), token_hash)
