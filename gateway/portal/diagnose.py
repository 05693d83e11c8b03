"""The Test API (WID-9): call a widget's endpoint as a real render would and say what a citizen would meet —
reachable or not (and why: the SSRF guard's refusal, a connection error, a timeout), the HTTP status, the
latency, whether the signature was accepted, every contract violation with its JSON path, and a preview.
With a test account it links it for a test citizen first and unlinks it afterwards."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from aiohttp import web

from contracts.widget_content import content_problems, schema_problems

from ..appkeys import ENGINE
from ..connectors.city_widget import CityWidget, Reply, Unreachable
from ..connectors.guard import Refused
from ..domain.widgets import content_query
from . import city, render, store, views

log = logging.getLogger("civic_harness.gateway.portal")
SIGNATURE_CODES = {"missing_signature", "bad_signature", "stale_timestamp", "replayed_request", "unknown_key"}
TEST_CITIZEN = 0  # the pseudonym of citizen 0 is the Test API's own: no real citizen has id 0


async def run(app: web.Application, widget: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    view = options.get("view", "dashboard")
    out: dict[str, Any] = {
        "ok": False,
        "reachable": False,
        "refused": None,
        "status": None,
        "latency_ms": None,
        "signature_accepted": None,
        "error": None,
        "violations": [],
        "preview": None,
        "state": None,
    }
    violations: list[dict[str, str]] = out["violations"]
    client = city.client(app, widget)
    user = store.pseudonym(await store.user_key(app[ENGINE]), widget["id"], TEST_CITIZEN)
    try:
        described = await client.call("GET", "/v1/widget")
        _note(out, described)
        if described.status == 200:
            violations += _violations("widget", schema_problems("Widget", described.body))
        elif described.status in (401, 403):
            out["error"] = f"GET /v1/widget answered {described.status} {described.error_code() or ''}".strip()
            return out
        link_id = None
        if options.get("account_number"):
            linked = await client.call(
                "POST",
                "/v1/links",
                body={
                    "user": user,
                    "account_number": options["account_number"],
                    "verification": options.get("verification", ""),
                },
            )
            if linked.status in (200, 201):
                violations += _violations("link", schema_problems("Link", linked.body))
                link_id = (linked.body or {}).get("link_id")
            else:
                out["error"] = f"linking the test account answered {linked.status} {linked.error_code() or ''}".strip()
        try:
            query = content_query(view, user, options.get("property_id"))
            content = await client.call("GET", "/v1/content", query=query)
            _note(out, content)
            state = views.state_of(content)
            if content.status == 200:
                violations += _violations("content", content_problems(content.body, view))
                etag = content.headers.get("ETag")
                version = content.body.get("version") if isinstance(content.body, dict) else None
                if version is not None and etag != f'"{version}"':
                    violations.append(
                        {"path": "ETag", "message": f"ETag {etag!r} is not the quoted version {version!r}"}
                    )
            else:
                out["error"] = out["error"] or f"content answered {content.status} {content.error_code() or ''}".strip()
            body = content.body if content.status == 200 and not violations else None
            out["state"] = state if body is not None or state != "ok" else "unavailable"
            model = render.view_model(widget, view, out["state"], body)
            out["preview"] = {"model": model, "html": render.html_widget(model)}
        finally:
            if link_id:
                await _unlink(client, link_id, user)
    except Refused as err:
        out["refused"], out["state"] = str(err), "unavailable"
        return out
    except Unreachable as err:
        out["error"], out["state"] = str(err), "unavailable"
        return out
    except Exception as err:  # the diagnosis of one widget never becomes a server error
        log.exception("widget %s: the Test API failed", widget["id"])
        out["error"] = f"the gateway failed while testing this endpoint ({type(err).__name__}); see its log"
        out["state"] = "unavailable"
        return out
    out["ok"] = bool(
        out["reachable"] and out["signature_accepted"] and not violations and out["state"] != "unavailable"
    )
    return out


def _note(out: dict[str, Any], reply: Reply) -> None:
    out["reachable"] = True
    out["status"] = reply.status
    out["latency_ms"] = round(reply.latency_ms, 1)
    out["signature_accepted"] = not (reply.status == 401 and reply.error_code() in SIGNATURE_CODES)


def _violations(where: str, problems: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"path": f"{where}:{path}", "message": message[:500]} for path, message in problems]


async def _unlink(client: CityWidget, link_id: str, user: str) -> None:
    with contextlib.suppress(Refused, Unreachable):  # else the test link stays: it is no real citizen's
        await client.call("DELETE", f"/v1/links/{link_id}", query={"user": user})
