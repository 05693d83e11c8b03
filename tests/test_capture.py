"""`civic-harness capture`: a scenario read from a server with read-only calls, personal data scrubbed.
Captured from a simulator seeded one way and loaded into one seeded another, the configuration digests of
`/_sim/state` agree; the captured simulator's journal shows reads only and its state is unchanged."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
import yaml

from harness.capture import scrub
from harness.cli import main
from harness.stack import Stack
from simulators.cityworks import CityworksConfig
from simulators.opengov import OpengovConfig

# What capture may call: sign-ins and reads (operationIds of the vendor contracts).
READS = {
    "cityworks": {
        "General_Authentication_Authenticate",
        "Authentication_Authenticate",
        "Ams_ServiceRequest_Problems",
        "Ams_ServiceRequest_QA",
        "Ams_ServiceRequest_Statuses",
        "Ams_WorkOrder_Templates",
        "Ams_ServiceRequest_Search",
        "Ams_ServiceRequest_ByIds",
        "Ams_Comment_ByActivitySids",
    },
    "opengov": {"classMetaSlash", "classMeta", "listRecords", "listChildren"},
}


async def _get(http: aiohttp.ClientSession, url: str, path: str) -> dict:
    async with http.get(f"{url}/_sim/{path}") as resp:
        assert resp.status == 200
        return await resp.json()


@pytest.mark.req("H-SCN-5")
@pytest.mark.parametrize(
    ("vendor", "config"),
    [("cityworks", CityworksConfig), ("opengov", OpengovConfig)],
)
async def test_capture_round_trips_and_only_reads(vendor, config, tmp_path, capsys):
    out = tmp_path / f"{vendor}.yaml"
    async with (
        Stack({vendor: config(seed=1)}) as source,
        Stack({vendor: config(seed=2)}) as target,
        aiohttp.ClientSession() as http,
    ):
        before = await _get(http, source.url(vendor), "state")
        args = ["capture", vendor, "--url", source.url(vendor), "-o", str(out), "--max-records", "50"]
        assert await asyncio.to_thread(main, args) == 0
        printed = capsys.readouterr().out
        assert printed.startswith("read ") and "read-only calls; wrote" in printed, printed

        entries = (await _get(http, source.url(vendor), "journal?source=client&limit=10000"))["entries"]
        assert {e["operation"] for e in entries} <= READS[vendor], "capture never writes"
        assert all(e["method"] in ("GET", "POST") for e in entries)
        assert await _get(http, source.url(vendor), "state") == before, "the captured server is unchanged"

        text = out.read_text()
        assert "@example.org" not in text, "e-mail addresses are scrubbed"
        target_before = await _get(http, target.url(vendor), "state")
        assert target_before["configuration_digest"] != before["configuration_digest"], "seeded differently"
        async with http.post(
            f"{target.url(vendor)}/_sim/scenario", data=text, headers={"Content-Type": "application/yaml"}
        ) as resp:
            assert resp.status == 200, await resp.text()
        loaded = await _get(http, target.url(vendor), "state")
        assert loaded["configuration_digest"] == before["configuration_digest"]
        document = yaml.safe_load(text)
        records = "requests"
        assert len(document["vendors"][vendor][records]) == 50


def test_scrubbing_is_deterministic_and_keeps_the_public_prefix():
    assert scrub.name("Ana Diaz") == scrub.name("Ana Diaz") != scrub.name("Bo Li")
    assert scrub.email("Ana@Example.org") == scrub.email("ana@example.org")
    assert scrub.email("ana@example.org").endswith("@example.invalid")
    assert scrub.phone("919-555-1234").startswith("555-01")
    assert scrub.free_text("  To SCF: call me at 919-555-1234").startswith("  To SCF: Text ")
    assert "919" not in scrub.free_text("call me at 919-555-1234")
    assert scrub.free_text("") == ""
