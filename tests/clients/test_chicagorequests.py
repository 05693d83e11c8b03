"""chicagorequests (PyPI; the tool that downloads Chicago's Open311 requests day by day) against the gateway's
Open311 API. Its base URL is a class attribute (`Downloader.BASE_URL`): that is the only thing re-pointed. For
each day it asks `requests.json` with `extensions=true`, `start_date`/`end_date` as ISO 8601 with the city's
UTC offset and microseconds (`...T23:59:59.999999-06:00`), `page`/`page_size=200`, optionally `service_code` and
`updated_after`/`updated_before`, and pages on while a page is full. It reads non-JSON answers as errors."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterator

import pytest
import requests
from chicagorequests import Downloader

from simulators.kit import city

from ..gateway.conftest import API_KEY
from .conftest import CityGateway

pytestmark = pytest.mark.req("H-SIM-5")

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


@pytest.fixture(scope="module")
def filed(city_gateway: CityGateway) -> Iterator[list[str]]:
    """Two requests filed with plain form POSTs (the tool only reads); the tool's base URL re-pointed."""
    ids = []
    for code, extra in (("POT", {"attribute[size]": "large"}), ("SL", {})):
        form = {"api_key": API_KEY, "service_code": code, "description": f"{code} for chicagorequests", **extra}
        form.update(lat=str(city.SAMPLE_POINT["lat"]), long=str(city.SAMPLE_POINT["long"]))
        answer = requests.post(f"{city_gateway.open311}/requests.json", data=form, timeout=10)
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()[0]["service_request_id"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Downloader, "BASE_URL", f"{city_gateway.open311}/requests.json")
        yield ids


@pytest.fixture(scope="module")
def day(filed: list[str], city_gateway: CityGateway) -> tuple[datetime.datetime, datetime.datetime]:
    """The Chicago day the first request was filed on, as the tool builds it (00:00 to 23:59:59.999999)."""
    [row] = city_gateway.rows("SELECT requested_at FROM requests WHERE public_id = ?", filed[0])
    stamp = datetime.datetime.fromisoformat(str(row["requested_at"])).replace(tzinfo=datetime.UTC)
    date = stamp.astimezone(CHICAGO).date()
    start = datetime.datetime.combine(date, datetime.time.min).replace(tzinfo=CHICAGO)
    return start, datetime.datetime.combine(date, datetime.time.max).replace(tzinfo=CHICAGO)


def test_downloads_the_days_requests_with_extensions(filed: list[str], day: tuple[datetime.datetime, ...]) -> None:
    found = {r["service_request_id"]: r for r in Downloader()(day)}
    assert filed[0] in found
    pothole = found[filed[0]]
    assert pothole["service_code"] == "POT" and pothole["status"] == "open"
    assert {"code": "size", "value": "large"} in pothole["extended_attributes"]["attributes"]


def test_filters_by_service_code_and_update_window(filed: list[str], day: tuple[datetime.datetime, ...]) -> None:
    start, end = day
    wide = (start, end + datetime.timedelta(days=1))  # the second request may fall just past midnight
    assert [r["service_request_id"] for r in Downloader(request_type=["SL"])(wide)] == [filed[1]]
    updated = Downloader(updated_start_date=start.isoformat(), updated_end_date=end.isoformat())((start, end))
    assert filed[0] in {r["service_request_id"] for r in updated}
    yesterday = (start - datetime.timedelta(days=1), end - datetime.timedelta(days=1))
    assert not set(filed) & {r["service_request_id"] for r in Downloader()(yesterday)}
