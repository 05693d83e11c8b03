"""boston311 (PyPI; Boston's 311 GeoReport v2 reader) against the gateway's Open311 API. Its base URL is a
module constant (`BOSTON_API_ENDPOINT`, read by `boston311.api` at each call): that constant is the only thing
re-pointed. The client reads every answer into strict pydantic models — a service needs `group`, `metadata`,
`type`; a request needs every GeoReport v2 field present (`address` a string, the others possibly null),
`media_url` a URL, `status` open|closed, dates parseable — so it checks the shape of the gateway's answers
field by field. Requests are filed with a plain form POST (the client only reads)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boston311.api
import pytest
import requests
from boston311 import api
from boston311.datamodels import Status

from simulators.kit import city

from ..gateway.conftest import API_KEY
from .conftest import CityGateway

pytestmark = pytest.mark.req("H-SIM-5")


@pytest.fixture(scope="module")
def filed(city_gateway: CityGateway) -> Iterator[str]:
    """The client's base URL re-pointed at the gateway, and one request filed there; yields its id."""
    form = {
        "api_key": API_KEY,
        "service_code": "POT",
        "lat": str(city.SAMPLE_POINT["lat"]),
        "long": str(city.SAMPLE_POINT["long"]),
        "address_string": "1 Civic Center Plaza",
        "attribute[size]": "small",
        "description": "boston311 reads this back",
    }
    answer = requests.post(f"{city_gateway.open311}/requests.json", data=form, timeout=10)
    assert answer.status_code == 201, answer.text
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(boston311.api, "BOSTON_API_ENDPOINT", f"{city_gateway.open311}/")
        yield answer.json()[0]["service_request_id"]


def test_boston311_reads_the_service_list(filed: str) -> None:
    services = api.get_services()
    assert sorted(services.list_service_names()) == ["Pothole", "Streetlight out"]
    assert services.get_service_code("Pothole") == "POT"
    assert next(s for s in services.services if s.service_code == "POT").group == "Streets"


def test_boston311_reads_a_request(filed: str, city_gateway: CityGateway) -> None:
    record = api.get_service_request(filed)
    assert record is not None and record.service_request_id == filed
    assert record.status is Status.OPEN and record.service_code == "POT" and record.service_name == "Pothole"
    assert record.description == "boston311 reads this back"
    assert record.lat == pytest.approx(city.SAMPLE_POINT["lat"])
    [row] = city_gateway.rows("SELECT address FROM requests WHERE public_id = ?", filed)
    assert row["address"] == "1 Civic Center Plaza" and record.address.startswith("1 Civic Center Plaza")
    assert record.requested_datetime.tzinfo is not None


def test_boston311_lists_requests_by_code_status_and_dates(filed: str) -> None:
    now = datetime.now(tz=UTC)
    listed = api.get_service_requests(
        service_code="POT", status=Status.OPEN, start_date=now - timedelta(hours=1), end_date=now + timedelta(hours=1)
    )
    assert filed in [r.service_request_id for r in listed.service_requests]
    before = api.get_service_requests(start_date=now - timedelta(days=3), end_date=now - timedelta(days=2))
    assert filed not in [r.service_request_id for r in before.service_requests]
    assert api.get_service_requests(service_code="SL").service_requests == []
