"""Form bodies read back from their bytes (a recorded call has no aiohttp request to parse them): urlencoded
pairs and multipart parts, each part with its bytes exactly as sent, so an uploaded file can be hashed and a
secret field masked without touching its neighbours."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from multidict import MultiDict, MultiDictProxy

from simulators.kit.contract import media_type

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
_BOUNDARY = re.compile(r"""boundary=(?:"([^"]+)"|([^;\s]+))""", re.IGNORECASE)
_PARAM = re.compile(r"""\b(name|filename)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))""", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Part:
    name: str
    filename: str | None  # None for a plain field
    content_type: str
    start: int  # where the part's content begins in the body
    end: int  # where it ends (exclusive)
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class Upload:
    """A file in a parsed form: what the contract checks see as an uploaded file (anything not a str)."""

    filename: str
    content_type: str
    content: bytes


def boundary_of(content_type: str) -> str | None:
    found = _BOUNDARY.search(content_type or "")
    return (found.group(1) or found.group(2)) if found else None


def parts(content_type: str, body: bytes) -> list[Part] | None:
    """The parts of a multipart body, in order; None when it is not one or cannot be read (no boundary, no
    closing delimiter: a body cut short by the capture limit)."""
    boundary = boundary_of(content_type)
    if media_type(content_type) != MULTIPART or not boundary:
        return None
    delimiter = b"--" + boundary.encode("latin-1")
    at = body.find(delimiter)
    if at < 0:
        return None
    out: list[Part] = []
    while True:
        at += len(delimiter)
        if body.startswith(b"--", at):
            return out  # the closing delimiter
        head_start = body.find(b"\r\n", at)
        if head_start < 0:
            return None
        head_end = body.find(b"\r\n\r\n", head_start)
        if head_end < 0:
            return None
        start = head_end + 4
        nxt = body.find(b"\r\n" + delimiter, start)
        if nxt < 0:
            return None
        headers = _headers(body[head_start + 2 : head_end])
        params = {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
                  for m in _PARAM.finditer(headers.get("content-disposition", ""))}  # fmt: skip
        out.append(
            Part(
                params.get("name", ""),
                params.get("filename"),
                headers.get("content-type", ""),
                start,
                nxt,
                body[start:nxt],
            )
        )
        at = nxt + 2


def _headers(block: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in block.decode("utf-8", errors="replace").split("\r\n"):
        name, sep, value = line.partition(":")
        if sep:
            out[name.strip().lower()] = value.strip()
    return out


def form(content_type: str, body: bytes) -> MultiDictProxy[Any] | None:
    """The form as a server parses it (text fields as str, files as `Upload`); None for a body that is not a
    form or a multipart body that cannot be read."""
    mt = media_type(content_type)
    if mt == URLENCODED:
        pairs = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        return MultiDictProxy(MultiDict(pairs))
    found = parts(content_type, body)
    if found is None:
        return None
    fields: MultiDict[Any] = MultiDict()
    for p in found:
        value = p.text if p.filename is None else Upload(p.filename, p.content_type, p.content)
        fields.add(p.name, value)
    return MultiDictProxy(fields)


def summary(content_type: str, body: bytes) -> dict[str, Any] | None:
    """A multipart body as the simulators' journal shows one: each field's text, each file described."""
    found = parts(content_type, body)
    if found is None:
        return None
    return {
        p.name: p.text if p.filename is None else f"<file {p.filename!r}, {p.content_type or 'no type'}>" for p in found
    }
