"""Citizen sign-in rules: e-mail normalised, passwords kept as scrypt hashes, bearer tokens kept only as their
SHA-256 (a stolen database holds no usable token)."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets

from . import DomainError

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,63}$")
MIN_PASSWORD = 8
# scrypt at OWASP's suggested cost (N=2^17, r=8, p=1): about 0.1 s and 128 MiB per hash.
N, R, P = 2**17, 8, 1


def email(value: str) -> str:
    value = value.strip().lower()
    if not EMAIL.fullmatch(value):
        raise DomainError("not an e-mail address", "email")
    return value


def hash_password(password: str, cost: int = N) -> str:
    if len(password) < MIN_PASSWORD:
        raise DomainError(f"a password has at least {MIN_PASSWORD} characters", "password")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=cost, r=R, p=P, maxmem=256 * 1024 * 1024, dklen=32)
    return f"scrypt${cost}${R}${P}${_b64(salt)}${_b64(digest)}"


def password_matches(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        found = hashlib.scrypt(
            password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), maxmem=256 * 1024 * 1024, dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(found, _unb64(digest))


@functools.cache
def dummy_hash() -> str:
    """A hash to check a password against when the e-mail is unknown: a sign-in costs the same either way."""
    return hash_password(secrets.token_urlsafe(16))


def new_token() -> tuple[str, str]:
    """A bearer token and what is stored of it."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
