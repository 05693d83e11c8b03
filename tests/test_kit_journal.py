"""The request journal: what it records, that secrets never come out of it, that it stays bounded."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from yarl import URL

from simulators.kit import SimConfig
from simulators.kit.journal import HEADER_SEP, Journal, header_pairs

from .conftest import start_sim

pytestmark = pytest.mark.req("H-SIM-1")


async def test_an_entry_holds_the_whole_exchange(kit_sim):
    async with kit_sim.http.get(f"{kit_sim.url}/api/items", params={"limit": "2", "offset": "1"}) as resp:
        body = await resp.json()
    (entry,) = await kit_sim.journal()
    assert entry["method"] == "GET" and entry["path"] == "/api/items" and entry["operation"] == "listItems"
    assert entry["query"] == {"limit": "2", "offset": "1"}
    assert entry["status"] == 200 and entry["response_body"] == body
    assert entry["duration_ms"] > 0 and entry["fault"] is None and entry["violations"] == []
    assert entry["id"] == 1 and entry["time"].endswith("+00:00")


async def test_the_journal_shows_the_query_and_headers_as_the_server_read_them():
    # Kept as raw text on the hot path and read back when shown: it must come back as aiohttp read it.
    raw_query = "q=a%2Bb+c&q=%C3%A9t%C3%A9&empty=&flag&semi=1;2&pct=100%25&eq=a=b"
    async for sim in start_sim(SimConfig(seed=1, strict=False)):
        url = URL(f"{sim.url}/api/items?{raw_query}", encoded=True)
        headers = {"X-Spaces": "a: b  c", "X-Empty": "", "X-Unicode": "caf\u00e9".encode().decode("latin-1")}
        async with sim.http.get(url, headers=headers) as resp:
            assert resp.status == 200
        (entry,) = await sim.journal()
        assert entry["query"] == {
            "q": ["a+b c", "\u00e9t\u00e9"],
            "empty": "",
            "flag": "",
            "semi": "1;2",
            "pct": "100%",
            "eq": "a=b",
        }
        assert entry["headers"]["X-Spaces"] == "a: b  c" and entry["headers"]["X-Empty"] == ""
        assert entry["headers"]["X-Unicode"] == headers["X-Unicode"]


async def test_secrets_are_masked_in_headers_query_form_json_and_responses(kit_sim):
    secret = "hunter2-very-secret"
    data = {"data": json.dumps({"LoginName": "clerk", "Password": secret}), "token": secret}
    headers = {"Authorization": f"Bearer {secret}", "Cookie": f"session={secret}"}
    async with kit_sim.http.post(
        f"{kit_sim.url}/api/login", params={"token": secret}, data=data, headers=headers
    ) as resp:
        assert resp.status == 200
    async with kit_sim.http.post(f"{kit_sim.url}/api/items", json={"title": "x", "password": secret}) as resp:
        pass  # rejected by strict mode; journaled all the same
    status, raw = await kit_sim.control("GET", "journal")
    assert status == 200
    text = json.dumps(raw)
    assert secret not in text and "tok-clerk" not in text
    login = raw["entries"][0]
    assert login["headers"]["Authorization"] == "***" and login["query"]["token"] == "***"
    assert login["body"]["token"] == "***" and '"Password": "***"' in login["body"]["data"]
    assert login["response_body"] == {"token": "***"}


async def test_the_journal_is_a_bounded_ring_with_a_running_total():
    async for sim in start_sim(SimConfig(journal_size=25)):
        for _ in range(60):
            async with sim.http.get(f"{sim.url}/api/items/1") as resp:
                assert resp.status == 200
        status, body = await sim.control("GET", "journal")
        assert status == 200
        assert (body["size"], body["held"], body["total"]) == (25, 25, 60)
        assert [e["id"] for e in body["entries"]] == list(range(36, 61))


def test_a_million_entries_keep_the_journal_at_its_size():
    journal = Journal(size=1000)
    for i in range(1_000_000):
        entry = journal.start(
            source="client", method="GET", path=f"/{i}", query="", headers=(), content_type="", body=b""
        )
        journal.finish(entry, status=200, body=b"{}", started=0.0)
    assert len(journal) == 1000 and journal.total == 1_000_000
    assert journal.select()[0].path == "/999000"


def test_a_binary_body_reads_as_its_type_full_size_and_first_bytes():
    """Evidence of an attachment: `<image/jpeg, 1 bytes>` said neither the size sent nor what the bytes were."""
    journal = Journal(body_limit=64)
    jpeg = bytes.fromhex("ffd8ffe000104a464946") + bytes(5000)
    entry = journal.start(
        source="client", method="POST", path="/a", query="", headers=(), content_type="image/jpeg", body=jpeg
    )
    journal.finish(entry, status=200, content_type="application/octet-stream", body=b"\x00\x01", started=0.0)
    shown = journal.render(entry)
    assert shown["body"] == "<image/jpeg, 5,010 bytes: ff d8 ff e0 00 10 4a 46 49 46 00 00 00 00 00 00 …>"
    assert shown["response_body"] == "<application/octet-stream, 2 bytes: 00 01>"


async def test_bodies_are_truncated_at_the_configured_limit():
    async for sim in start_sim(SimConfig(journal_body_limit=64)):
        async with sim.http.post(f"{sim.url}/api/items", json={"title": "x" * 150}) as resp:
            assert resp.status == 201
        (entry,) = await sim.journal()
        assert entry["body_truncated"] and entry["response_truncated"]
        assert entry["body_size"] > 150 and len(entry["body"]) <= 64


async def test_filters_by_operation_method_since_and_violations(kit_sim):
    async with kit_sim.http.get(f"{kit_sim.url}/api/items") as resp:
        await resp.read()
    async with kit_sim.http.post(f"{kit_sim.url}/api/items", json={"title": "a"}) as resp:
        await resp.read()
    async with kit_sim.http.post(f"{kit_sim.url}/api/items", json={}) as resp:
        await resp.read()
    async with kit_sim.http.get(f"{kit_sim.url}/api/items/2") as resp:
        await resp.read()
    assert [e["id"] for e in await kit_sim.journal(method="POST")] == [2, 3]
    assert [e["id"] for e in await kit_sim.journal(operation="getItem")] == [4]
    assert [e["id"] for e in await kit_sim.journal(route="createItem")] == [2, 3]
    assert [e["id"] for e in await kit_sim.journal(since=2)] == [3, 4]
    assert [e["id"] for e in await kit_sim.journal(violations=True)] == [3]
    assert [e["id"] for e in await kit_sim.journal(path="/api/items/")] == [4]
    assert [e["id"] for e in await kit_sim.journal(limit=1)] == [4]
    assert [e["id"] for e in await kit_sim.journal(operation="GETITEM", violations="no")] == [4]  # any case
    # A filter that could match nothing the simulator records would read as "no such call was made".
    for bad, says in (
        ({"since": "x"}, "integers"),
        ({"limit": "0"}, "at least 1"),
        ({"limit": "-3"}, "at least 1"),
        ({"operation": "getItems"}, "'getItems' is no operationId of the kit-test contract nor action"),
        ({"operation": "getItems"}, "(did you mean getItem"),
        ({"route": "action:rename"}, "did you mean action:rename-item"),
        ({"operation": "rename-item"}, "action:rename-item?)"),
        ({"violations": "maybe"}, "violations must be true or false"),
        ({"source": "vendor"}, "source must be client or operator"),
    ):
        status, body = await kit_sim.control("GET", "journal", params=bad)
        assert status == 400 and body["error"]["code"] == "invalid_filter", (bad, body)
        assert says in body["error"]["message"], (bad, body)
    await kit_sim.control("POST", "actions/rename-item", json={"id": 1, "title": "t"})
    assert [e["source"] for e in await kit_sim.journal(operation="action:rename-item")] == ["operator"]
    assert (await kit_sim.control("DELETE", "journal"))[0] == 200
    assert await kit_sim.journal() == []


@given(
    st.lists(
        st.tuples(
            st.text(alphabet=string.ascii_letters + string.digits + "-_!#$%&'*+.^`|~", min_size=1),
            st.text().filter(lambda v: "\n" not in v),
        ),
        max_size=12,
    )
)
def test_headers_kept_as_one_string_read_back_pair_for_pair(headers):
    assert header_pairs(HEADER_SEP.join(map(": ".join, headers))) == headers
