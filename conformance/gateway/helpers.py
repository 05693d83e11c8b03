"""Steps the gateway checks share: simulator actions and faults, submitting, draining the outbox, and
asking Cityworks itself what arrived."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import aiohttp
import shapefile

from contracts.scenario import demo_city
from harness.sim_control import SimControl

from .client import Gateway

SAMPLE_POINT = demo_city().point()
INSIDE = {k: str(v) for k, v in SAMPLE_POINT.items()}
# The smallest valid PNG (1x1), standing in for a phone's photo.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8cfc0f01f0005000201a5f6e2c90000000049454e44ae426082"
)


async def sim(http: aiohttp.ClientSession, base: str, action: str, **payload: Any) -> Any:
    return await SimControl(http, base).action(action, **payload)


async def fault(http: aiohttp.ClientSession, base: str, **rule: Any) -> None:
    await SimControl(http, base).add_faults(rule)


async def cityworks_token(http: aiohttp.ClientSession, cw: str) -> str:
    """A token from whichever Authenticate the site's version serves (2013/2014 or later)."""
    for auth in ("/Services/General/Authentication/Authenticate", "/Services/Authentication/Authenticate"):
        async with http.post(
            f"{cw}{auth}", data={"data": json.dumps({"LoginName": "harness", "Password": "harness"})}
        ) as resp:
            if resp.status == 200 and (answer := await resp.json()).get("Status") == 0:
                return answer["Value"]["Token"]
    raise AssertionError("cannot sign in to Cityworks")


async def cityworks_call(http: aiohttp.ClientSession, cw: str, path: str, data: dict[str, Any]) -> Any:
    """What Cityworks itself answers, in whichever version it speaks (the token as a header from 23 on, else
    a field)."""
    token = await cityworks_token(http, cw)
    envelope: Any = None
    for headers, fields in (({"Authorization": f"cityworks {token}"}, {}), ({}, {"token": token})):
        async with http.post(f"{cw}{path}", data={"data": json.dumps(data), **fields}, headers=headers) as resp:
            envelope = await resp.json()
        if envelope["Status"] == 0:
            return envelope["Value"]
    raise AssertionError(f"Cityworks refused both token schemes: {envelope}")


async def vendor_requests(http: aiohttp.ClientSession, cw: str, reference: str) -> list[dict[str, Any]]:
    """The SRs Cityworks holds under the gateway's reference."""
    found = await cityworks_call(http, cw, "/Services/Ams/ServiceRequest/ByOtherSystemId", {"OtherSystemId": reference})
    return found or []


async def vendor_comments(http: aiohttp.ClientSession, cw: str, request_id: int) -> list[dict[str, Any]]:
    return await cityworks_call(http, cw, "/Services/Ams/ServiceRequest/Comments", {"RequestId": request_id}) or []


async def synced(g: Gateway) -> list[dict[str, Any]]:
    """The categories the integration's category sync manages."""
    return [c for c in (await g.ok("GET", "/categories"))["items"] if c["integration_id"] == g.ids["integration"]]


async def submit(g: Gateway, code: str, photo: bool = True, **extra: str) -> str:
    form = aiohttp.FormData()
    fields = {"api_key": g.api_key, "service_code": code, **INSIDE, "description": "Tree on the road", **extra}
    for k, v in fields.items():
        form.add_field(k, v)
    form.add_field("email", "ana@example.org")
    if photo:
        form.add_field("media", PNG, filename="tree.png", content_type="image/png")
    async with g.http.post(f"{g.url}/open311/v2/requests.json", data=form) as resp:
        assert resp.status == 201, await resp.text()
        return (await resp.json())[0]["service_request_id"]


async def delivered_request(g: Gateway) -> tuple[str, dict[str, Any]]:
    """A report in the first synced Cityworks category, delivered: (its public id, the SR Cityworks holds)."""
    await g.run("category_sync", integration_id=g.ids["integration"])
    rid = await submit(g, (await synced(g))[0]["code"], photo=False)
    await deliver_all(g)
    (found,) = await vendor_requests(g.http, g.ids["cityworks"], rid)
    return rid, found


def any_answer(question: dict[str, Any]) -> str:
    """A valid answer to a question of any Open311 datatype (the first choice of a list)."""
    if question["choices"]:
        return question["choices"][0]["key"]
    return {"number": "1", "datetime": "2024-01-15T10:00:00Z"}.get(question["datatype"], "yes")


async def deliver_all(g: Gateway, rounds: int = 6) -> None:
    """Run delivery until the outbox holds nothing pending (a fault costs a round)."""
    for _ in range(rounds):
        await g.run("deliver_outbox")
        if not (await g.ok("GET", "/outbox?state=pending"))["items"]:
            return
    pending = (await g.ok("GET", "/outbox?state=pending"))["items"]
    raise AssertionError(f"outbox not drained: {pending}")


def shapefile_zip(rings: list[list[tuple[float, float]]], prj: str | None = None, drop: str | None = None) -> bytes:
    """A zipped ESRI shapefile holding one polygon (outer ring clockwise, holes counter-clockwise), with an
    optional .prj; `drop` leaves one of its files out."""
    shp, shx, dbf = io.BytesIO(), io.BytesIO(), io.BytesIO()
    with shapefile.Writer(shp=shp, shx=shx, dbf=dbf, shapeType=shapefile.POLYGON) as w:
        w.field("NAME", "C")
        w.poly(rings)
        w.record("area")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for ext, buf in (("shp", shp), ("shx", shx), ("dbf", dbf)):
            if ext != drop:
                z.writestr(f"area/area.{ext}", buf.getvalue())
        if prj is not None:
            z.writestr("area/area.prj", prj)
    return out.getvalue()
