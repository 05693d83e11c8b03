"""georeport (PyPI; an Open311 GeoReport v2 client, written against other
cities' endpoints) reads the gateway unchanged, in JSON and in XML; the request it reads back was submitted
with attributes and a photo exactly as the spec's POST describes."""

from __future__ import annotations

import json

import pytest
import requests
from georeport import GeoReport
from shapely.geometry import mapping

from gateway.settings import Settings
from harness.stack import ThreadedStack
from simulators.kit import city

from ..gateway.conftest import ADMIN_TOKEN, API_KEY
from ..gateway.test_open311 import INSIDE, PNG

pytestmark = pytest.mark.req("H-SIM-5")


@pytest.fixture
def gateway_url(tmp_path):
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'gw.db'}", admin_token=ADMIN_TOKEN, api_keys=(API_KEY,), scheduler_tick_s=0
    )
    with ThreadedStack({}, gateway=settings) as stack:
        url = stack.urls["gateway"]
        admin = requests.Session()
        admin.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        files = {"file": ("city.geojson", json.dumps(mapping(city.BOUNDARY)))}
        geography = admin.post(f"{url}/admin/v1/geographies", data={"name": "Harnessville"}, files=files).json()
        agency = admin.post(f"{url}/admin/v1/agencies", json={"name": "Works", "geography_id": geography["id"]}).json()
        pothole = admin.post(
            f"{url}/admin/v1/categories",
            json={"code": "POT", "name": "Pothole", "group": "Streets", "agency_ids": [agency["id"]]},
        ).json()
        admin.post(
            f"{url}/admin/v1/categories/{pothole['id']}/questions",
            json={"code": "depth", "text": "How deep (cm)?", "datatype": "number", "required": True},
        ).raise_for_status()
        yield url


@pytest.mark.req("AGY-1")
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_standard_client_lists_reads_and_follows_a_request(gateway_url, fmt):
    client = GeoReport(f"{gateway_url}/open311/v2", jurisdiction="harnessville.example", output_format=fmt)
    services = client.get_service_list()
    services = services if isinstance(services, list) else [services]  # xmltodict: one element is no list
    assert [s["service_code"] for s in services] == ["POT"]
    definition = client.get_service_definition("POT")
    attributes = definition["attributes"] if fmt == "json" else definition["attributes"]["attribute"]
    attribute = attributes[0] if isinstance(attributes, list) else attributes
    assert attribute["code"] == "depth" and str(attribute["required"]).lower() == "true"

    form = {"api_key": API_KEY, "jurisdiction_id": "harnessville.example", "service_code": "POT", **INSIDE}
    form.update({"attribute[depth]": "12", "description": "Pothole by the bus stop"})
    created = requests.post(
        f"{gateway_url}/open311/v2/requests.json", data=form, files={"media": ("hole.png", PNG, "image/png")}
    )
    assert created.status_code == 201, created.text
    rid = created.json()[0]["service_request_id"]

    record = client.get_service_request(rid)
    assert record["service_request_id"] == rid and record["status"] == "open"
    assert record["description"] == "Pothole by the bus stop"
    assert requests.get(record["media_url"]).content == PNG
    listed = client.get_service_requests(status="open", service_code="POT")
    listed = listed if isinstance(listed, list) else [listed]
    assert [r["service_request_id"] for r in listed] == [rid]
