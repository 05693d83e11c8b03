"""The status poll's cadence against an OpenGov server where adding a comment does not move the request's
modification time (inferred either way): incremental polls cannot see that comment, the periodic full poll
does, and exactly once."""

from __future__ import annotations

import functools
import json

import pytest

from conformance.gateway.client import Gateway, city_geojson
from conformance.gateway.helpers import INSIDE, deliver_all, sim, synced
from conformance.gateway.test_opengov_delivery import og_request
from harness.bundled import simulator_config
from harness.stack import Stack

from .conftest import start_gateway


async def poll_once(g: Gateway, integration_id: int, rid: str) -> tuple[bool, list[str]]:
    """Run the status poll; whether it read everything, and the request's public comments after it."""
    run = await g.run("status_poll", integration_id=integration_id)
    assert run["status"] == "ok", run
    _, _, body = await g.open311("GET", f"/requests/{rid}/comments.json")
    return bool(run["counts"]["full"]), [c["description"] for c in json.loads(body)]


@pytest.mark.req("OG-COM-2", "OG-UPD-1")
async def test_the_full_poll_catches_what_the_modification_time_missed(tmp_path):
    configs = {"opengov": simulator_config("opengov", seed=4, child_touches_parent=False)}
    async with Stack(configs) as sims:
        async for g in start_gateway(f"sqlite:///{tmp_path / 'g.db'}", full_poll_every=3):
            og = sims.url("opengov")
            integration = await g.ok(
                "POST",
                "/integrations",
                json={"name": "OG", "vendor": "opengov", "version": "v1", "base_url": og, "username": "harness",
                      "secret": "harness"},
            )  # fmt: skip
            _, geography = await g.upload_geography("City", "c.geojson", city_geojson())
            await g.ok(
                "POST",
                "/agencies",
                json={"name": "Parks", "geography_id": geography["id"], "integration_id": integration["id"]},
            )
            g.ids.update(integration=integration["id"], opengov=og)
            await g.run("category_sync", integration_id=integration["id"])
            form = {"api_key": g.api_key, "service_code": (await synced(g))[0]["code"], **INSIDE}
            status, _, text = await g.open311("POST", "/requests.json", data={**form, "description": "Bench"})
            assert status == 201, text
            rid = json.loads(text)[0]["service_request_id"]
            await deliver_all(g)
            (record,) = await og_request(g, rid)
            poll = functools.partial(poll_once, g, integration["id"], rid)
            assert await poll() == (True, [])  # the first poll reads everything
            await sim(g.http, og, "add-comment", Oid=record["Oid"], text="Seen at last.", public=True)
            assert await poll() == (False, [])  # the request's modification time did not move
            assert await poll() == (False, [])
            assert await poll() == (True, ["Seen at last."])  # every third poll reads every open request
            assert await poll() == (False, ["Seen at last."])
