"""How a client finds the classes it is set up with: `discover` and the class meta (OG-API-7). Only what the
public sources show is asserted: discover's five areas and entry keys (VG), the meta's BOType and Children
(CAMP-11); the meta's envelope is not known, so the class's meta is looked for anywhere in the answer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

REQUESTS, ISSUES, TASKS = "cgRequestsClass", "cgRequestIssuesClass", "cgTasksClass"
AREAS = ("Library", "Asset", "Resource", "Request", "Work")


def objects(value: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in an answer, at any depth."""
    if isinstance(value, dict):
        yield value
        for inner in value.values():
            yield from objects(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from objects(inner)


@pytest.mark.req("OG-API-7")
def test_discover_lists_the_integration_classes_under_their_areas(og):
    resp = og.call("GET", "discover")
    assert resp.status_code == 200, resp.text[:300]
    found = resp.json()
    assert set(AREAS) <= set(found)
    for area in AREAS:
        assert isinstance(found[area], list)
        for entry in found[area]:
            assert all(isinstance(entry.get(k), str) for k in ("SingularName", "PluralName", "ClassName")), entry
    names = {area: {e["ClassName"].lower() for e in found[area]} for area in AREAS}
    assert REQUESTS.lower() in names["Request"]
    assert TASKS.lower() in names["Work"]
    assert {ISSUES.lower(), og.requester_class.lower()} <= names["Library"]
    for class_name in (REQUESTS, TASKS, ISSUES, og.requester_class):  # what discover names answers a list
        listed = og.call("GET", f"classes/{class_name}", params={"limit": 1})
        assert listed.status_code == 200, f"{class_name}: {listed.text[:300]}"


@pytest.mark.req("OG-API-7")
def test_the_request_class_meta_names_its_type_and_children(og):
    resp = og.call("GET", f"meta/Classes/{REQUESTS}")
    assert resp.status_code == 200, resp.text[:300]
    metas = [o for o in objects(resp.json()) if "BOType" in o and "Children" in o]
    assert len(metas) == 1, "one class meta (BOType, Children) for one class asked"
    meta = metas[0]
    assert meta["BOType"] == 4  # CAMP-11: 4 is a request
    children = {c.lower() for c in meta["Children"]}
    assert {og.comment_class.lower(), "cgrequests_cgattachmentsclass"} <= children
    chosen = og.call("GET", "meta/Classes", params={"classNames": f"{REQUESTS},{ISSUES}"})
    assert chosen.status_code == 200, chosen.text[:300]
    named = {o["ClassName"].lower() for o in objects(chosen.json()) if "BOType" in o and "ClassName" in o}
    assert named == {REQUESTS.lower(), ISSUES.lower()}, f"classNames={REQUESTS},{ISSUES} answered {sorted(named)}"
    unknown = og.call("GET", "meta/Classes/cgNoSuchClassAtAllClass")
    assert 400 <= unknown.status_code < 500 and isinstance(unknown.json()["Message"], str)
