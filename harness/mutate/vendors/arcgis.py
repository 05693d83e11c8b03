"""ArcGIS GeocodeServer: errors are an `error` object (code, message) with HTTP 200; a customer's server may
require a `token` parameter (499 without one, 498 for a wrong one). Trials run a city locator that does."""

from __future__ import annotations

from typing import Any

from ..exchange import Request, Response
from ..mutation import WRITTEN, Mutation
from .base import Vendor

TOKEN = "s3cret"
INSTANCE, SERVICE = "server", "Locators/City"
SERVICE_PATH = f"/{INSTANCE}/rest/services/{SERVICE}/GeocodeServer"
REQUIREMENTS = {
    "reverseGeocode": ("GEO-API-1", "GEO-API-2"),
    "findAddressCandidates": ("GEO-API-4",),
    "suggest": ("GEO-API-5",),
    "root": ("GEO-API-3",),
}


def _ops(*families: str) -> frozenset[str]:
    return frozenset(
        f"{f}{folder}{slash}{get}"
        for f in families
        for folder in ("", "InFolder")
        for slash in ("", "Slash")
        for get in ("", "_get")
    )


class Arcgis(Vendor):
    name = "arcgis"
    contract = "arcgis-geocode"
    catch_all = ("GEO-API-2",)
    by_family = REQUIREMENTS

    def family(self, operation_id: str) -> str:
        name = operation_id.removesuffix("_get").removesuffix("Slash").removesuffix("InFolder")
        return name.replace("InFolder", "")

    def simulator_options(self, version: str | None) -> dict[str, Any]:
        return {"seed": 2, "instance": INSTANCE, "service": SERVICE, "require_token": True, "tokens": (TOKEN,)}

    def certify_args(self, version: str | None, sim_url: str) -> list[str]:
        return ["--service-path", SERVICE_PATH, "--token", TOKEN]

    def is_error(self, resp: Response) -> bool:
        body = resp.json()
        return isinstance(body, dict) and isinstance(body.get("error"), dict)

    def error_status(self, resp: Response) -> Response:
        body = resp.json()
        code = body["error"].get("code")
        return resp.with_json({**body, "error": {**body["error"], "code": 500 if code != 500 else 400}})

    def error_shape(self, resp: Response) -> Response:
        body = resp.json()
        return resp.with_json({"message": body["error"].get("message"), "status": body["error"].get("code")})

    def as_success(self, req: Request, resp: Response, example: Any) -> Response:
        if example is not None:
            return resp.with_status(200).with_json(example)
        path = req.path.lower()
        empty = {"suggestions": []} if "suggest" in path else {"candidates": []}
        return resp.with_status(200).with_json(empty if "geocodeserver/" in path else {})

    def authorize(self, req: Request, memo: dict[str, Any], missing: bool) -> Request:
        given = next((v for k, v in [*req.params(), *req.form()] if k.lower() == "token"), None)
        if (given is None) != missing or given == TOKEN:
            return req
        req = req.with_params([(k, v) for k, v in req.params() if k.lower() != "token"] + [("token", TOKEN)])
        if req.is_form():
            req = req.with_form([(k, v) for k, v in req.form() if k.lower() != "token"])
        return req

    def written(self, version: str | None) -> list[Mutation]:
        return [
            Mutation(
                "written:location-x-y-swapped",
                WRITTEN,
                _ops("reverseGeocode", "findAddressCandidates"),
                "locations come back with x and y swapped",
                ("GEO-API-1", "GEO-API-4"),
                response=_swap_xy,
            ),
            Mutation(
                "written:more-candidates-than-asked",
                WRITTEN,
                _ops("findAddressCandidates"),
                "findAddressCandidates answers maxLocations + 1 candidates",
                ("GEO-API-4",),
                response=_one_more_candidate,
            ),
            Mutation(
                "written:suggestion-not-as-typed",
                WRITTEN,
                _ops("suggest"),
                "a suggestion's text does not begin as typed",
                ("GEO-API-5",),
                response=_suggestion_reworded,
            ),
            Mutation(
                "written:token-not-enforced",
                WRITTEN,
                frozenset(),
                "a server that requires a token answers without one",
                ("GEO-API-3",),
                request=lambda req, memo: self.authorize(req, memo, missing=True),
            ),
        ]


def _swap(point: Any) -> Any:
    if isinstance(point, dict) and isinstance(point.get("x"), int | float) and isinstance(point.get("y"), int | float):
        return {**point, "x": point["y"], "y": point["x"]}
    return point


def _swap_xy(req: Request, resp: Response, memo: dict[str, Any]) -> Response:
    body = resp.json()
    if not isinstance(body, dict) or "error" in body:
        return resp
    if "location" in body:
        return resp.with_json({**body, "location": _swap(body["location"])})
    if isinstance(body.get("candidates"), list):
        swapped = [
            {**c, "location": _swap(c.get("location"))} if isinstance(c, dict) else c for c in body["candidates"]
        ]
        return resp.with_json({**body, "candidates": swapped})
    return resp


def _one_more_candidate(req: Request, resp: Response, memo: dict[str, Any]) -> Response:
    body = resp.json()
    if isinstance(body, dict) and isinstance(body.get("candidates"), list) and body["candidates"]:
        return resp.with_json({**body, "candidates": [*body["candidates"], body["candidates"][-1]]})
    return resp


def _suggestion_reworded(req: Request, resp: Response, memo: dict[str, Any]) -> Response:
    body = resp.json()
    if isinstance(body, dict) and isinstance(body.get("suggestions"), list) and body["suggestions"]:
        changed = [
            {**s, "text": "Near " + str(s.get("text"))} if isinstance(s, dict) else s for s in body["suggestions"]
        ]
        return resp.with_json({**body, "suggestions": changed})
    return resp
