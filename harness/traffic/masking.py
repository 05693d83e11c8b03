"""What leaves the proxy (its journal, a HAR file) with secrets masked by the simulators' own rules
(simulators/kit/secrets.py) and, on request, personal data redacted. Unlike the journal's JSON view, a HAR file
keeps bodies as bytes, so masking here rewrites the bytes: a secret's value becomes `***` in place, everything
around it stays as sent (a file in a multipart body is never touched, so its hash still proves what was sent).

Redaction replaces personal data with pseudonyms keyed per run: every e-mail address wherever it stands, and the
value of every JSON member or form field whose name says it holds a person's name, phone or e-mail (`FirstName`,
`LastNameField`, `CallerHomePhone`, `email`, ...) whatever its type (a phone sent as a number too; an Oid field such
as `RequesterOidField` is a reference, kept), in JSON text inside a form field too (Cityworks' `data`). The
same value always becomes the same pseudonym (an e-mail address in any case), so a rule that counts requesters
by e-mail and name judges redacted traffic alike."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from simulators.kit.contract import media_type
from simulators.kit.secrets import MASK, is_secret, is_text_type, mask_json, mask_text, personal_kind

from . import forms

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


@dataclass(frozen=True, slots=True)
class Masking:
    secret_keys: frozenset[str] = frozenset()
    redact_key: bytes | None = None  # set: personal data becomes pseudonyms keyed by it

    def text(self, value: str) -> str:
        value = mask_text(value, self.secret_keys)
        if self.redact_key is None:
            return value
        if value[:1] in ("{", "["):  # JSON inside a form field or a query parameter: redacted member by member
            try:
                return json.dumps(self._redacted(json.loads(value)), ensure_ascii=False, separators=(",", ":"))
            except ValueError:
                pass
        return _EMAIL.sub(lambda m: self.pseudonym(m.group(0)), value) if "@" in value else value

    def pseudonym(self, value: str, kind: str = "email") -> str:
        assert self.redact_key is not None
        text = value.strip().lower() if kind == "email" else value.strip()  # OpenGov matches names as sent
        digest = hmac.new(self.redact_key, text.encode(), hashlib.sha256).hexdigest()[:12]
        return f"person-{digest}@redacted.invalid" if kind == "email" else f"{kind}-{digest}"

    def _personal(self, name: str, value: str) -> str:
        kind = personal_kind(name)
        if kind is None or not value:
            return self.text(value)
        return self.pseudonym(value, "email" if kind == "email" or "@" in value else kind)

    def _redacted(self, value: Any, name: str = "") -> Any:
        if isinstance(value, dict):  # members by their own names: a class (`cgRequestersClass`) is no person
            return {k: self._redacted(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self._redacted(v, name) for v in value]
        if isinstance(value, str):
            return self._personal(name, value)
        if value is not None and personal_kind(name) is not None:
            # The name decides, as in capture's scrubbing: a phone sent as a number is personal all the same. An
            # Oid field (`RequesterOidField`) is a reference and is kept (personal_kind says so).
            return self._personal(name, json.dumps(value))
        return value

    def headers(self, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """Secret headers masked; an Authorization keeps its scheme (`cityworks ***`, `Basic ***`), which says how
        the client signed in (CW-VER-2 judges it) without saying what with."""
        return [(k, _masked_header(k, v) if is_secret(k, self.secret_keys) else v) for k, v in pairs]

    def pairs(self, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        field = self._personal if self.redact_key is not None else lambda _, v: self.text(v)
        return [(k, MASK if is_secret(k, self.secret_keys) else field(k, v)) for k, v in pairs]

    def query(self, raw: str) -> str:
        if not raw:
            return raw
        return urlencode(self.pairs(parse_qsl(raw, keep_blank_values=True)))

    def body(self, content_type: str, body: bytes) -> bytes:
        mt = media_type(content_type)
        if not body:
            return body
        if mt == forms.MULTIPART:
            return self._multipart(content_type, body)
        if not is_text_type(mt):
            return body
        text = body.decode("utf-8", errors="replace")
        if mt == forms.URLENCODED:
            return urlencode(self.pairs(parse_qsl(text, keep_blank_values=True))).encode()
        if mt.endswith("json"):
            try:
                value = mask_json(json.loads(text), self.secret_keys)
            except ValueError:
                return self.text(text).encode()
            if self.redact_key is not None:
                value = self._redacted(value)
            return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        return self.text(text).encode()

    def _multipart(self, content_type: str, body: bytes) -> bytes:
        found = forms.parts(content_type, body)
        if found is None:
            return body
        out, at = bytearray(), 0
        for p in found:
            if p.filename is not None:
                continue  # a file stays byte for byte
            if is_secret(p.name, self.secret_keys):
                value = MASK
            else:
                value = self._personal(p.name, p.text) if self.redact_key is not None else self.text(p.text)
            out += body[at : p.start] + value.encode()
            at = p.end
        return bytes(out + body[at:])


def _masked_header(name: str, value: str) -> str:
    scheme, sep, _ = value.strip().partition(" ")
    if name.lower() in ("authorization", "proxy-authorization") and sep and scheme.isascii() and scheme.isalnum():
        return f"{scheme} {MASK}"
    return MASK
