"""Passwords and API tokens, never kept in the clear.

Passwords: scrypt (``hashlib.scrypt``, a standard memory-hard KDF) with a random salt per
user, stored as ``scrypt$n$r$p$salt$hash``. API tokens: 32 random bytes shown once as
``sat_<urlsafe base64>``; only their SHA-256 is stored (a token has 256 bits of entropy, so a
fast hash is enough and lets every request look one up in a single index seek).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

__all__ = ["TOKEN_PREFIX", "hash_password", "hash_token", "new_token", "verify_password"]

TOKEN_PREFIX = "sat_"  # noqa: S105 - a prefix, not a secret
_N, _R, _P = 2**14, 8, 1  # ~16 MiB of memory per guess
_MIN_PASSWORD = 8


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    from satchel.errors import InvalidValueError

    if len(password) < _MIN_PASSWORD:
        raise InvalidValueError(
            f"password too short ({len(password)} characters)",
            hint=f"use at least {_MIN_PASSWORD} characters",
        )
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, _unb64(digest))


def new_token() -> tuple[str, str]:
    """(the token, shown once; its hash, stored)."""
    token = TOKEN_PREFIX + _b64(os.urandom(32))
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
