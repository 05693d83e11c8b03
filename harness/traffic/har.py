"""HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/): the recorded conversation as browsers and HTTP tools
write and read it, and read back into exchanges for `verify-traffic`.

What HAR has no field for rides in `_`-prefixed fields, as the spec allows: the proxy's verdicts (`_operation`,
`_violations`, `_warnings`), how an exchange ended (`_outcome`; a response with status 0, as browsers write a
request that got no answer), digests of the bodies as sent, whether a body was cut at the capture limit, and the
API profile (`log._civicHarness`). A binary body is base64 (`content.encoding`, and `postData._encoding`, which
HAR lacks). Reading needs none of the extensions: a HAR from another tool judges too (its exchanges are analysed
afresh from the bytes, as the proxy's are)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from simulators.kit.contract import media_type
from simulators.kit.secrets import is_text_type

from .exchange import ANSWERED, OUTCOMES, RESET, Exchange
from .masking import Masking

CREATOR = "civic-harness"
PATH_SAFE = "/:@!$&'()*+,;=-._~"  # an exchange's path is decoded (as the server matched it): escaped again for a URL


def _content(body: bytes, content_type: str) -> dict[str, Any]:
    if is_text_type(media_type(content_type)):
        try:
            return {"text": body.decode("utf-8")}
        except UnicodeDecodeError:
            pass
    return {"text": base64.b64encode(body).decode(), "encoding": "base64"}


def _pairs(items: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in items]


def entry(ex: Exchange, upstream: str, masking: Masking) -> dict[str, Any]:
    query = masking.query(ex.query)
    request_body = masking.body(ex.content_type, ex.request_body)
    response_body = masking.body(ex.response_content_type, ex.response_body)
    started = datetime.fromtimestamp(ex.started, UTC)
    total_ms = max(0.0, (ex.ended - ex.started) * 1000)
    request: dict[str, Any] = {
        "method": ex.method,
        "url": upstream.rstrip("/") + quote(ex.path, safe=PATH_SAFE) + (f"?{query}" if query else ""),
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": _pairs(masking.headers(ex.request_headers)),
        "queryString": _pairs(masking.pairs(parse_qsl(ex.query, keep_blank_values=True))),
        "headersSize": -1,
        "bodySize": ex.request_size,
    }
    if ex.request_size or ex.request_body:
        posted = _content(request_body, ex.content_type)
        request["postData"] = {
            "mimeType": ex.content_type,
            "text": posted["text"],
            **({"_encoding": "base64"} if "encoding" in posted else {}),
            **({"_truncated": True} if not ex.request_complete else {}),
        }
    content = {
        "size": ex.response_size,
        "mimeType": ex.response_content_type,
        **_content(response_body, ex.response_content_type),
    }
    if not ex.response_complete:
        content["_truncated"] = True
    response: dict[str, Any] = {
        "status": ex.status or 0,
        "statusText": ex.reason,
        "httpVersion": "HTTP/1.1" if ex.status is not None else "",
        "cookies": [],
        "headers": _pairs(masking.headers(ex.response_headers)),
        "content": content,
        "redirectURL": ex.header("Location", "response") or "",
        "headersSize": -1,
        "bodySize": ex.response_size if ex.status is not None else -1,
    }
    if ex.outcome != ANSWERED:
        response["_error"] = ex.outcome
    return {
        "startedDateTime": started.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "time": round(total_ms, 3),
        "request": request,
        "response": response,
        "cache": {},
        "timings": {"send": 0, "wait": round(total_ms, 3), "receive": 0},
        "_id": ex.id,
        "_started": ex.started,
        "_ended": ex.ended,
        "_outcome": ex.outcome,
        "_requestSha256": ex.request_sha256,
        "_responseSha256": ex.response_sha256,
        # the verdicts, once judged (a HAR streamed as the exchanges come holds none: verify-traffic judges)
        **(
            {
                "_operation": ex.operation,
                "_violations": [v.as_json() for v in ex.violations],
                "_warnings": [w.as_json() for w in ex.warnings],
            }
            if ex.analysed
            else {}
        ),
    }


def document(
    exchanges: Sequence[Exchange], upstream: str, masking: Masking, profile: Mapping[str, Any], version: str
) -> dict[str, Any]:
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": CREATOR, "version": version},
            "pages": [],
            "entries": [entry(ex, upstream, masking) for ex in exchanges],
            "_civicHarness": {"upstream": upstream, **profile},
        }
    }


class NotHar(ValueError):
    """A file that is not a HAR log (the message says what is wrong)."""


def _body(text: Any, base64_encoded: bool) -> bytes:
    if not isinstance(text, str):
        return b""
    try:
        return base64.b64decode(text) if base64_encoded else text.encode("utf-8")
    except ValueError:
        return text.encode("utf-8")


def _time(value: Any) -> float:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise NotHar(f"startedDateTime {value!r} is not an ISO 8601 time") from exc


def exchanges(doc: Any) -> tuple[dict[str, Any], list[Exchange]]:
    """(the proxy's profile, or {} for a HAR from another tool; the exchanges in the order they started)."""
    log = doc.get("log") if isinstance(doc, dict) else None
    if not isinstance(log, dict) or not isinstance(log.get("entries"), list):
        raise NotHar("no log.entries: not a HAR file")
    meta = log.get("_civicHarness") if isinstance(log.get("_civicHarness"), dict) else {}
    prefix = urlsplit(str(meta.get("upstream", ""))).path.rstrip("/")
    out = []
    for n, e in enumerate(log["entries"], 1):
        try:
            out.append(_exchange(n, e, prefix))
        except (KeyError, TypeError, AttributeError) as exc:
            raise NotHar(f"entry {n} is not a HAR entry ({exc!r} missing or malformed)") from exc
    out.sort(key=lambda x: (x.started, x.id))
    return meta, out


def _exchange(n: int, e: Mapping[str, Any], prefix: str) -> Exchange:
    request, response = e["request"], e["response"]
    url = urlsplit(request["url"])
    path = unquote(url.path[len(prefix) :] if prefix and url.path.startswith(prefix) else url.path)
    posted = request.get("postData") or {}
    body = _body(posted.get("text"), posted.get("_encoding") == "base64" or posted.get("encoding") == "base64")
    content = response.get("content") or {}
    answer = _body(content.get("text"), content.get("encoding") == "base64")
    status = int(response.get("status") or 0) or None
    started = float(e["_started"]) if "_started" in e else _time(e["startedDateTime"])
    ended = float(e["_ended"]) if "_ended" in e else started + float(e.get("time") or 0) / 1000
    outcome = e.get("_outcome") or response.get("_error") or (ANSWERED if status is not None else RESET)
    request_size = int(request.get("bodySize") or 0) if posted.get("_truncated") else len(body)
    response_size = int(content.get("size") or 0) if content.get("_truncated") else len(answer)
    return Exchange(
        id=int(e.get("_id") or n),
        started=started,
        ended=ended,
        method=str(request["method"]).upper(),
        path=path or "/",
        query=url.query,
        request_headers=tuple((h["name"], h["value"]) for h in request.get("headers") or ()),
        request_body=body,
        request_size=request_size,
        request_sha256=e.get("_requestSha256") or hashlib.sha256(body).hexdigest(),
        status=status,
        reason=str(response.get("statusText") or ""),
        response_headers=tuple((h["name"], h["value"]) for h in response.get("headers") or ()),
        response_body=answer,
        response_size=response_size,
        response_sha256=e.get("_responseSha256") or hashlib.sha256(answer).hexdigest(),
        outcome=outcome if outcome in OUTCOMES else RESET,
    )
