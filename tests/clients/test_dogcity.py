"""dogcity (PyPI) — a city's production bridge from SL-RAT acoustic sewer inspections into Cityworks —
against the Cityworks simulator of every version family, configured as its author configures it: environment
variables for the site's base URL and the login. Its sign-in is the call the simulator serves: GET
`General/Authentication/Authenticate` with the JSON in the query string, unencoded, and `"Expires":null`; it reads
`Status` and `Value.Token`. Its other calls (`Ams/Inspection/*`, `Ams/Entity/Search`, `Ams/Employee/Search`:
POST with `data` and `token` in the query string and an empty body) are in APIs the simulator does not model.

`DogCity.DOGCITY` reads its settings when imported, so each test imports it afresh. The package ships a `.env`
file of its author's; python-dotenv's own switch keeps it from being loaded into the test process."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest
import requests

from harness.stack import ThreadedStack
from simulators.cityworks import CityworksConfig

from .conftest import journal

pytestmark = pytest.mark.req("H-SIM-5")

MODERN = ["2015", "15.8", "23"]  # General/Authentication/Authenticate exists from 2015 on (vendor notes)
LEGACY = ["2013", "2014"]  # Services/Authentication/Authenticate only


@pytest.fixture(scope="module", params=LEGACY + MODERN)
def cityworks(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    with ThreadedStack({"cityworks": CityworksConfig(seed=7, version=request.param)}) as stack:
        yield request.param, stack.urls["cityworks"]


def load_dogcity(monkeypatch: pytest.MonkeyPatch, site: str, login: str, password: str) -> ModuleType:
    monkeypatch.setenv("PYTHON_DOTENV_DISABLED", "1")
    monkeypatch.setenv("baseurl", f"{site}/Services/")
    monkeypatch.setenv("cw_username", login)
    monkeypatch.setenv("cw_password", password)
    monkeypatch.delitem(sys.modules, "DogCity.DOGCITY", raising=False)
    module = importlib.import_module("DogCity.DOGCITY")
    module.error_log.__globals__["error_log_file"].clear()
    return module


def test_dogcity_signs_in(cityworks: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    version, site = cityworks
    dogcity = load_dogcity(monkeypatch, site, "harness", "harness")
    if version in LEGACY:
        # Before 2015 the service lives at Services/Authentication/Authenticate: IIS answers the client's path
        # with its HTML 404 page, which the client cannot parse.
        with pytest.raises(json.JSONDecodeError):
            dogcity.return_token()
        [entry] = journal(site, path="/Services/General/Authentication/Authenticate")
        assert entry["status"] == 404 and entry["response_body"].startswith("<!DOCTYPE html>")
        return
    token = dogcity.return_token()
    assert isinstance(token, str) and token and dogcity.get_errors() == []
    [entry] = journal(site, path="/Services/General/Authentication/Authenticate")
    assert (entry["method"], entry["status"], entry["body_size"]) == ("GET", 200, 0)
    sent = json.loads(entry["query"]["data"])
    assert sent == {"LoginName": "harness", "Password": "***", "Expires": None}  # the journal masks the password
    assert entry["violations"] == []
    assert entry["response_body"]["Status"] == 0 and entry["response_body"]["Value"]["Token"] == "***"
    # The token the client kept is one the site accepts.
    form = {"data": json.dumps({"Token": token})}
    valid = requests.post(f"{site}/Services/General/Authentication/Validate", data=form, timeout=10).json()
    assert valid["Status"] == 0 and valid["Value"] is True


@pytest.mark.parametrize("cityworks", MODERN, indirect=True)  # before 2015 its path is not there at all (above)
def test_dogcity_reports_a_refused_login(cityworks: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    _, site = cityworks
    dogcity = load_dogcity(monkeypatch, site, "harness", "not-the-password")
    assert dogcity.return_token() == 0
    assert dogcity.get_errors() == ["Error: Cityworks Authentication failed.\n"]
    entry = journal(site, path="/Services/General/Authentication/Authenticate")[-1]
    assert entry["status"] == 200 and entry["response_body"]["Status"] != 0
