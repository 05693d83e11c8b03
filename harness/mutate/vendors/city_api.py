"""The city widget API: errors are `{"error": {code, message}}` with the HTTP status; every call is signed
(contracts/widget_signing.py). Trials certify one widget (utilities: it links accounts) with two test accounts."""

from __future__ import annotations

import time
from typing import Any

import requests

from contracts import widget_signing

from ..exchange import Request, Response
from ..mutation import WRITTEN, Mutation
from .base import Vendor

WIDGET, SECRET = "utilities", "harness-mutation-secret"
ACCOUNTS = (("UT-MUTATE-0001", "246810"), ("UT-MUTATE-0002", "135791"))
REQUIREMENTS = {
    "describeWidget": ("WID-API-2",),
    "getContent": ("WID-API-2", "WID-API-5"),
    "listLinks": ("WID-API-3",),
    "createLink": ("WID-API-3",),
    "deleteLink": ("WID-API-3",),
    "startExternalLink": ("WID-API-4",),
    "completeExternalLink": ("WID-API-4",),
}


class CityApi(Vendor):
    name = "city-api"
    contract = "city-widget"
    mount = "/{widget}"
    catch_all = ("WID-API-7",)
    by_family = REQUIREMENTS

    def simulator_options(self, version: str | None) -> dict[str, Any]:
        return {"seed": 5, "secrets": ((WIDGET, SECRET),)}

    def certify_args(self, version: str | None, sim_url: str) -> list[str]:
        out = ["--secret", SECRET]
        for number, verification in ACCOUNTS:  # the city's test accounts, made as its staff would
            resp = requests.post(
                f"{sim_url}/_sim/actions/create-account",
                json={"account_number": number, "verification": verification},
                timeout=30,
            )
            resp.raise_for_status()
            out += ["--account", f"{number}:{verification}"]
        return out

    def url_of(self, proxy_url: str) -> str:
        return f"{proxy_url}/{WIDGET}"

    def error_shape(self, resp: Response) -> Response:
        body = resp.json()
        error = body.get("error") if isinstance(body, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        return resp.with_json({"message": message, "status": resp.status})

    def authorize(self, req: Request, memo: dict[str, Any], missing: bool) -> Request:
        signed = any(req.header(name) for name in widget_signing.HEADERS)
        if signed == missing:
            return req
        target = req.path + (f"?{req.query}" if req.query else "")
        if signed:
            try:
                widget_signing.verify(
                    {name: req.header(name) or "" for name in widget_signing.HEADERS},
                    req.method, target, req.body, {WIDGET: (SECRET,)}, time.time(),
                )  # fmt: skip
                return req  # a good signature (a replay is the server's to refuse, not the proxy's to mend)
            except widget_signing.SignatureError:
                pass
        fresh = widget_signing.sign(WIDGET, SECRET, req.method, target, req.body, time.time())
        for name, value in fresh.items():
            req = req.with_header(name, value)
        return req

    def written(self, version: str | None) -> list[Mutation]:
        return [
            Mutation(
                "written:etag-changes-every-answer",
                WRITTEN,
                frozenset({"getContent"}),
                "the content's ETag changes on every answer, so nothing ever reads as unchanged",
                ("WID-API-5",),
                response=_fresh_etag,
            ),
            Mutation(
                "written:no-304",
                WRITTEN,
                frozenset({"getContent"}),
                "If-None-Match is ignored: an unchanged content comes back whole with 200",
                ("WID-API-5",),
                request=lambda req, memo: req.with_header("If-None-Match", None),
            ),
            Mutation(
                "written:full-account-number-echoed",
                WRITTEN,
                frozenset({"createLink", "completeExternalLink", "listLinks"}),
                "a link shows the full account number where the contract masks it",
                ("WID-API-3",),
                response=_unmasked,
            ),
            Mutation(
                "written:signature-not-checked",
                WRITTEN,
                frozenset(),
                "a request signed with a wrong secret, or tampered with after signing, is served",
                ("WID-API-1",),
                request=lambda req, memo: self.authorize(req, memo, missing=False),
            ),
        ]


def _fresh_etag(req: Request, resp: Response, memo: dict[str, Any]) -> Response:
    if resp.header("ETag") is None:
        return resp
    memo["etag"] = memo.get("etag", 0) + 1
    return resp.with_header("ETag", f'"mutated-{memo["etag"]}"')


def _unmasked(req: Request, resp: Response, memo: dict[str, Any]) -> Response:
    body = resp.json()
    if resp.status >= 300 or not isinstance(body, dict):
        return resp

    def unmask(link: Any) -> Any:
        if isinstance(link, dict) and isinstance(link.get("account"), dict):
            account = link["account"]
            number = next((n for n, _ in ACCOUNTS if n.endswith(str(account.get("masked_number", ""))[-4:])), None)
            if number:
                return {**link, "account": {**account, "masked_number": number}}
        return link

    if isinstance(body.get("links"), list):
        return resp.with_json({**body, "links": [unmask(x) for x in body["links"]]})
    return resp.with_json(unmask(body))
