"""Masking of credentials before anything leaves the simulator through the journal or a log."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from .lenient import loads

MASK = "***"
DEFAULT_SECRET_KEYS = frozenset(
    {
        "password",
        "passwd",
        "token",
        "access_token",
        "refresh_token",
        "api_key",
        "apikey",
        "secret",
        "client_secret",
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
    }
)


# Field names that hold a person's data, by what the name contains (lower case, separators dropped), and the kind
# of stand-in each gets. One list for every tool that takes people out of what it keeps: the recording proxy's
# redaction (harness/traffic/masking.py) and capture's scrubbing (harness/capture/).
PERSONAL = (
    ("email", "email"),
    ("firstname", "name"),
    ("lastname", "name"),
    ("fullname", "name"),
    ("callername", "name"),
    ("requester", "name"),
    ("phone", "phone"),
    ("mobile", "phone"),
)


def personal_kind(name: str) -> str | None:
    """`name`, `email` or `phone` for a field that holds a person's data (`CallerFirstName`, `EmailField`,
    `RequesterField`, `caller_home_phone`), whatever type its value has, else None. A field named as an Oid
    (`RequesterOidField`, `requester_oid`) is a reference to a record, not a person's data: it is kept as it is,
    so a request still points at its requester."""
    key = name.lower().replace("_", "").replace("-", "")
    if key.removesuffix("field").endswith("oid"):
        return None
    return next((kind for part, kind in PERSONAL if part in key), None)


def is_secret(key: str, keys: frozenset[str]) -> bool:
    k = key.lower()
    return k in DEFAULT_SECRET_KEYS or k in keys


def mask_headers(headers: Iterable[tuple[str, str]], keys: frozenset[str]) -> dict[str, str]:
    return {k: (MASK if is_secret(k, keys) else v) for k, v in headers}


def mask_query(query: Iterable[tuple[str, str]], keys: frozenset[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in query:
        v = MASK if is_secret(k, keys) else mask_text(v, keys)
        if k in out:
            prev = out[k]
            out[k] = [*prev, v] if isinstance(prev, list) else [prev, v]
        else:
            out[k] = v
    return out


def mask_json(value: Any, keys: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {k: (MASK if is_secret(str(k), keys) else mask_json(v, keys)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_json(v, keys) for v in value]
    if isinstance(value, str):
        return mask_text(value, keys)
    return value


def mask_body(body: bytes, content_type: str, keys: frozenset[str], size: int | None = None) -> Any:
    """A body as JSON-able text or structure, with every secret replaced. Binary stays opaque: its type, its
    full size (`size`: the journal keeps only the first bytes) and its first bytes in hex, which name most
    formats (ff d8 ff: a JPEG) and show a body cut short or replaced by text."""
    if not body:
        return None
    ct = content_type.split(";", 1)[0].strip().lower()
    if ct == "multipart/form-data":
        try:  # the pipeline journals a multipart body as a JSON summary of its fields
            return mask_json(loads(body), keys)
        except ValueError:
            return _opaque(ct, body, size)
    if not is_text_type(ct):
        return _opaque(ct or "binary", body, size)
    text = body.decode("utf-8", errors="replace")
    if ct == "application/x-www-form-urlencoded":
        return mask_query(parse_qsl(text, keep_blank_values=True), keys)
    if ct.endswith("json"):
        try:
            return mask_json(loads(text), keys)
        except ValueError:
            pass  # truncated or lenient JSON: fall back to masking the text
    return mask_text(text, keys)


def _opaque(ct: str, body: bytes, size: int | None) -> str:
    head = body[:16].hex(" ") + (" …" if len(body) > 16 else "")
    return f"<{ct}, {size if size is not None else len(body):,} bytes: {head}>"


def is_text_type(ct: str) -> bool:
    return (
        not ct
        or ct.startswith("text/")
        or ct.endswith("json")
        or ct.endswith("xml")
        or ct == "application/x-www-form-urlencoded"
    )


_KEY_VALUE = re.compile(
    r"""(?P<key>["']?(?P<name>[A-Za-z_][\w-]*)["']?\s*[:=]\s*)(?P<value>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^,&}\s]*)"""
)


def mask_text(text: str, keys: frozenset[str]) -> str:
    """Masks `key: value` / `key=value` pairs in free text, e.g. lenient JSON inside a form field."""
    if len(text) < 4 or not any(c in text for c in ":="):
        return text

    def repl(m: re.Match[str]) -> str:
        if not is_secret(m.group("name"), keys):
            return m.group(0)
        v = m.group("value")
        quote = v[0] if v[:1] in ("'", '"') else ""
        return f"{m.group('key')}{quote}{MASK}{quote}"

    return _KEY_VALUE.sub(repl, text)
