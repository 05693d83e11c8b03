"""civicbot (PyPI) — an Open311 GeoReport v2 client with a registry of real cities' endpoints — against the
gateway's Open311 API, configured only with an endpoint whose base URL is the gateway's. It reads the service
list and a definition, validates a request against that definition, files it (its explicit send path: a key
and confirm="SEND"), reads it back by id, by list and by token."""

from __future__ import annotations

import json

import pytest
from civicbot import Open311Client
from civicbot.http import HttpTransport, RateLimiter
from civicbot.open311 import ValidationError
from civicbot.registry import Endpoint

from simulators.kit import city

from ..gateway.conftest import API_KEY
from .conftest import CityGateway

pytestmark = pytest.mark.req("H-SIM-5")

LAT, LNG = city.SAMPLE_POINT["lat"], city.SAMPLE_POINT["long"]


@pytest.fixture(scope="module")
def client(city_gateway: CityGateway) -> Open311Client:
    endpoint = Endpoint(id="harnessville", name="Harnessville", base_url=city_gateway.open311, write=True)
    # The client's own politeness delay (0.5 s per host) is a setting; loopback needs none.
    return Open311Client(endpoint, transport=HttpTransport(rate_limiter=RateLimiter(min_interval=0)))


def test_civicbot_reads_the_catalogue(client: Open311Client) -> None:
    services = client.list_services()
    assert {s["service_code"] for s in services} == {"POT", "SL"}
    pothole = next(s for s in services if s["service_code"] == "POT")
    assert pothole["metadata"] is True and pothole["type"] == "realtime"
    definition = client.get_service_definition("POT")
    size = next(a for a in definition["attributes"] if a["code"] == "size")
    assert size["required"] is True and size["datatype"] == "singlevaluelist"
    assert {v["key"] for v in size["values"]} == {"small", "large"}


def test_civicbot_validates_against_the_gateways_definition(client: Open311Client) -> None:
    """The client checks a request against the definition it fetched: the gateway's shapes must be the spec's
    for that to work (a required attribute, a list's keys)."""
    with pytest.raises(ValidationError) as missing:
        client.create_request("POT", validate_remote=True, lat=LAT, lng=LNG, description="no size")
    assert any("'size'" in problem and "missing" in problem for problem in missing.value.problems)
    with pytest.raises(ValidationError) as wrong:
        client.create_request("POT", validate_remote=True, lat=LAT, lng=LNG, attributes={"size": "huge"})
    assert any("['large', 'small']" in problem for problem in wrong.value.problems)


def test_civicbot_files_a_request_and_reads_it_back(client: Open311Client, city_gateway: CityGateway) -> None:
    sent = client.create_request(
        "POT",
        dry_run=False,
        confirm="SEND",
        api_key=API_KEY,
        validate_remote=True,
        lat=LAT,
        lng=LNG,
        description="Pothole at the bus stop, civicbot",
        attributes={"size": "large"},
        email="resident@example.org",
        first_name="Rae",
    )
    assert sent.dry_run is False and sent.form["attribute[size]"] == "large"
    [receipt] = sent.response
    rid = receipt["service_request_id"]

    # What arrived: the gateway's own rows.
    [row] = city_gateway.rows("SELECT * FROM requests WHERE public_id = ?", rid)
    assert row["description"] == "Pothole at the bus stop, civicbot"
    assert (row["lat"], row["long"]) == (pytest.approx(LAT), pytest.approx(LNG))
    assert (row["email"], row["first_name"]) == ("resident@example.org", "Rae")
    answers = city_gateway.rows(
        "SELECT q.code, a.value FROM answers a JOIN questions q ON q.id = a.question_id WHERE a.request_id = ?",
        row["id"],
    )
    assert [(a["code"], json.loads(a["value"])) for a in answers] == [("size", "large")]

    record = client.get_request(rid)
    assert record is not None and record["service_request_id"] == rid
    assert record["status"] == "open" and record["service_code"] == "POT"
    assert "email" not in record and "first_name" not in record  # private data stays private
    listed = client.list_requests(service_code="POT", status="open")
    assert rid in [r["service_request_id"] for r in listed]
    by_token = client.get_token(row["token"])
    assert [r["service_request_id"] for r in by_token] == [rid]
