"""Citizen sign-in rules: e-mail normalised, passwords kept as scrypt hashes, bearer tokens and sign-up
confirmation codes kept only as their SHA-256 (a stolen database holds no usable token or code)."""

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
# scrypt at one of OWASP's equivalent minimum configurations (Password Storage Cheat Sheet: N=2^17 r=8 p=1,
# N=2^16 r=8 p=2, N=2^15 r=8 p=3, ... are "equal in the defense they provide"): N=2^15, r=8, p=3 costs about
# the same CPU as N=2^17 p=1 (3 x 2^15 against 2^17 block mixes) but holds 32 MiB per hash instead of 128 MiB,
# so a flood of sign-ins cannot turn into gigabytes. Hashes made before keep verifying (each hash stores its
# own N, r, p) and are re-hashed at the current cost on their next successful sign-in.
N, R, P = 2**15, 8, 3
MAXMEM = 256 * 1024 * 1024  # room for an N=2^17 r=8 hash (128 MiB) made before the change


def email(value: str) -> str:
    value = value.strip().lower()
    if not EMAIL.fullmatch(value):
        raise DomainError("not an e-mail address", "email")
    return value


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise DomainError(f"a password has at least {MIN_PASSWORD} characters", "password")


def hash_password(password: str, cost: int = N, p: int = P) -> str:
    check_password(password)
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=cost, r=R, p=p, maxmem=MAXMEM, dklen=32)
    return f"scrypt${cost}${R}${p}${_b64(salt)}${_b64(digest)}"


def needs_rehash(stored: str) -> bool:
    """A hash made at other parameters than today's."""
    return not stored.startswith(f"scrypt${N}${R}${P}$")


def password_matches(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        found = hashlib.scrypt(
            password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), maxmem=MAXMEM, dklen=32
        )
    except (ValueError, MemoryError):
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


def new_code() -> tuple[str, str]:
    """A sign-up confirmation code (128 bits: not guessable, so not throttled) and what is stored of it."""
    code = secrets.token_urlsafe(16)
    return code, token_hash(code)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
