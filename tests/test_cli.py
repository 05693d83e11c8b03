"""The console script, run as a user runs it: a real subprocess, real ports."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "harness.cli"]


@contextmanager
def running(*args: str) -> Iterator[tuple[subprocess.Popen, str]]:
    proc = subprocess.Popen([*CLI, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        yield proc, line
    finally:
        proc.terminate()
        proc.wait(10)


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.load(resp)


@pytest.mark.req("H-SIM-1")
def test_sim_prints_its_url_once_ready_and_serves_the_control_plane():
    with running("sim", "tests.kit_sim:SPEC", "--port", "0", "--seed", "3", "--user", "clerk:pw") as (proc, line):
        match = re.fullmatch(r"listening on (http://127\.0\.0\.1:\d+)\n", line)
        assert match, line
        info = get_json(match.group(1) + "/_sim/")
        assert info["config"]["seed"] == 3 and info["config"]["users"] == ["clerk"]
        assert get_json(match.group(1) + "/api/items/1")["id"] == 1
    assert proc.returncode == 0  # SIGTERM is a clean stop


def test_sim_refuses_an_unknown_simulator():
    result = subprocess.run([*CLI, "sim", "nosuch"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2 and "unknown simulator 'nosuch'" in result.stderr


def test_a_taken_port_is_a_clear_error():
    with running("sim", "tests.kit_sim:SPEC") as (_, line):
        port = line.rsplit(":", 1)[1].strip()
        result = subprocess.run(
            [*CLI, "sim", "tests.kit_sim:SPEC", "--port", port], cwd=ROOT, capture_output=True, text=True
        )
    assert result.returncode == 2 and f"127.0.0.1:{port} is in use" in result.stderr, result.stderr
    assert "address already in use" in result.stderr and "Errno" not in result.stderr


def test_every_subcommand_has_help():
    for sub in ("sim", "up", "gateway", "conformance", "certify", "load", "capture"):
        result = subprocess.run([*CLI, sub, "--help"], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0 and "usage: civic-harness" in result.stdout


def test_up_json_prints_one_line_with_every_url_and_a_point_inside_the_city():
    with running("up", "--json") as (_, line):
        summary = json.loads(line)
        assert set(summary) == {"gateway", "simulators", "admin_token", "scenario", "sample_point", "services"}
        assert summary["scenario"] == "demo-city", "up plays the library's demo city unless told otherwise"
        assert set(summary["simulators"]) == {"cityworks", "opengov", "arcgis", "city-api"}
        for name, url in summary["simulators"].items():
            assert get_json(url + "/_sim/")["simulator"] == name
        # The demo city is set up: a citizen client at the sample point sees services at once.
        point = summary["sample_point"]
        services = get_json(f"{summary['gateway']}/open311/v2/services.json?lat={point['lat']}&long={point['long']}")
        assert {s["service_code"] for s in services} == {s["service_code"] for s in summary["services"]}
        assert {s["service_name"] for s in services} >= {"Pothole", "Graffiti"}
        request = urllib.request.Request(
            f"{summary['gateway']}/admin/v1/integrations", headers={"Authorization": f"Bearer {summary['admin_token']}"}
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            integrations = json.loads(resp.read())["items"]
        assert {i["vendor"] for i in integrations} == {"cityworks", "opengov"}
        assert {i["base_url"] for i in integrations} <= set(summary["simulators"].values())
        assert all(i["has_secret"] and "secret" not in i for i in integrations), "credentials are write-only"
        # Cityworks requests are geocoded (GEO-3) through the ArcGIS simulator's locator, not its bare address.
        locator = next(i["geocoder_url"] for i in integrations if i["vendor"] == "cityworks")
        found = get_json(f"{locator}/reverseGeocode?location={point['long']},{point['lat']}&f=json")
        assert found["address"]["Match_addr"], found
        # The citizen portal too: the demo citizen sees the six widgets, with live data from the city API.
        from harness.democity import DEMO_CITIZEN

        sign_in = urllib.request.Request(
            f"{summary['gateway']}/portal/v1/sessions",
            data=json.dumps({"email": DEMO_CITIZEN[0], "password": DEMO_CITIZEN[1]}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(sign_in, timeout=10) as resp:
            token = json.loads(resp.read())["token"]
        board = urllib.request.Request(
            f"{summary['gateway']}/portal/v1/dashboard", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(board, timeout=30) as resp:
            widgets = json.loads(resp.read())["widgets"]
        assert len(widgets) == 6 and {w["state"] for w in widgets} == {"ok"}, [
            (w["title"], w["state"]) for w in widgets
        ]
    from simulators.kit import city

    assert city.contains(summary["sample_point"]["long"], summary["sample_point"]["lat"])


def test_gateway_serves_in_the_foreground(tmp_path):
    database = f"sqlite:///{tmp_path / 'gw.db'}"
    with running("gateway", "--port", "0", "--database-url", database) as (_, line):
        url = line.removeprefix("listening on ").strip()
        discovery = get_json(f"{url}/open311/v2/discovery.json")
        assert discovery["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert (tmp_path / "gw.db").exists()


def test_unknown_options_are_refused_outside_the_suite_commands():
    result = subprocess.run([*CLI, "up", "--bogus"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2 and "unrecognized arguments: --bogus" in result.stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["captur", "cityworks"], "no command 'captur'; did you mean capture?"),
        (["capture", "city-ap"], "capture has no vendor 'city-ap'; did you mean city-api?"),
        (["certify", "cityworks", "--ulr", "http://127.0.0.1:9"], "certify has no option --ulr; did you mean --url?"),
        (["capture", "opengov", "--ouptut", "x"], "capture has no option --ouptut; did you mean --output?"),
    ],
)  # fmt: skip
def test_a_typo_is_named_before_argparse_judges_the_rest(args, said):
    """Not "the following arguments are required: --url" and a usage block: the typo that caused it."""
    result = subprocess.run([*CLI, *args], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2 and result.stderr.strip() == f"civic-harness: {said}", result.stderr


@pytest.mark.req("H-CON-1")
def test_conformance_workers_split_bundled_runs_and_keep_shared_state_to_one(monkeypatch):
    from harness.conformance_cli import MOST_WORKERS, workers

    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert workers("auto", [], []) == 2
    monkeypatch.setattr("os.cpu_count", lambda: 64)
    assert workers("auto", [], ["-x"]) == MOST_WORKERS
    assert workers("3", [], []) == 3
    # one server every worker would share, or a database each would need to create: one process
    assert workers("auto", ["cityworks=http://127.0.0.1:1"], []) == 1
    assert workers("auto", [], ["--gw-database-url=postgresql://127.0.0.1/test"]) == 1
    assert workers("auto", [], ["--gw-database-url", "postgresql://127.0.0.1/test"]) == 1
    assert workers("2", [], ["--gw-database-url=postgresql://127.0.0.1/test"]) == 2  # a database per worker
    assert "share one server's state" in workers("2", ["cityworks=http://127.0.0.1:1"], [])
    assert "at least 1" in workers("0", [], [])
    assert "a number or auto" in workers("many", [], [])


def test_conformance_refuses_workers_on_a_shared_target_before_running_anything():
    result = subprocess.run(
        [*CLI, "conformance", "--workers", "2", "--target", "cityworks=http://127.0.0.1:9"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "share one server's state" in result.stderr, result.stderr


def test_a_given_sqlite_database_becomes_one_file_per_worker(tmp_path):
    from conformance.gateway.conftest import worker_database

    with worker_database(f"sqlite:///{tmp_path / 'gw.db'}", "gw1") as url:
        assert url == f"sqlite:///{tmp_path / 'gw-gw1.db'}"


@pytest.mark.req("H-OBS-3")
def test_up_takes_the_gateways_log_settings_and_refuses_a_bad_one(monkeypatch, capsys):
    """`up` writes the gateway's structured lines as `gateway` does (CIVIC_HARNESS_LOG_FORMAT / _LOG_LEVEL); a
    value it cannot use is one sentence and exit 2, before anything starts."""
    from harness.cli import main

    monkeypatch.setenv("CIVIC_HARNESS_LOG_FORMAT", "jsn")
    assert main(["up"]) == 2
    err = capsys.readouterr().err
    assert "log_format is text or json, not 'jsn'" in err and "Traceback" not in err


@pytest.mark.req("H-SCN-2")
def test_sim_warns_when_the_scenario_has_nothing_for_it(tmp_path):
    """`sim opengov --scenario cityworks.yaml` serves the seeded data, and says so on stderr; a scenario with an
    opengov section, or only opengov timeline steps, plays without the warning."""
    wrong = tmp_path / "cityworks.yaml"
    wrong.write_text("version: 1\nname: mine\nvendors: {cityworks: {generate: {}}}\n")
    steps = tmp_path / "steps.yaml"
    steps.write_text("version: 1\nname: steps\ntimeline: [{vendor: opengov, at: 1h, expire_sessions: true}]\n")
    said = {}
    for scenario in (wrong, steps, "opengov-request-catalogue"):
        with running("sim", "opengov", "--scenario", str(scenario)) as (proc, line):
            assert line.startswith("listening on"), (line, proc.stderr)
        said[scenario] = proc.stderr.read()
    assert said[wrong] == "civic-harness: cityworks.yaml has no opengov section: serving the seeded data\n"
    assert said[steps] == said["opengov-request-catalogue"] == ""


def test_sim_options_name_themselves_and_sim_help_points_to_a_simulators_own():
    refused = subprocess.run([*CLI, "sim", "opengov", "--page-limit", "0"], cwd=ROOT, capture_output=True, text=True)
    assert (refused.returncode, refused.stderr) == (2, "civic-harness: --page-limit must be at least 1, got 0\n")
    helped = subprocess.run([*CLI, "sim", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert "civic-harness sim NAME --help" in " ".join(helped.stdout.split())


@pytest.mark.req("H-SCN-2", "H-SCN-7")
def test_up_names_a_directory_after_it_and_hands_each_vendors_zone_to_its_integration(tmp_path):
    """A city's directory of captured files plays as one scenario named after the directory (not after its first
    file), each integration gets its own vendor's zone, and a simulator the files give nothing plays its seeded
    data, said on stderr."""
    city = tmp_path / "my-city"
    city.mkdir()
    (city / "a-cityworks.yaml").write_text(
        "version: 1\nname: captured-cityworks\nvendors: {cityworks: {timezone: America/Denver, generate: {}}}\n"
    )
    (city / "b-opengov.yaml").write_text(
        "version: 1\nname: captured-opengov\nvendors: {opengov: {timezone: America/New_York, generate: {}}}\n"
    )
    with running("up", "--json", "--scenario", str(city)) as (proc, line):
        summary = json.loads(line)
        request = urllib.request.Request(
            f"{summary['gateway']}/admin/v1/integrations", headers={"Authorization": f"Bearer {summary['admin_token']}"}
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            zones = {i["vendor"]: i["timezone"] for i in json.loads(resp.read())["items"]}
        assert get_json(summary["simulators"]["opengov"] + "/_sim/scenario")["scenario"] == "my-city"
    assert summary["scenario"] == "my-city"
    assert zones == {"cityworks": "America/Denver", "opengov": "America/New_York"}
    warned = proc.stderr.read()
    for vendor in ("city-api", "arcgis"):
        assert f"civic-harness: my-city has no {vendor} section: serving the seeded data\n" in warned, warned
    assert "no cityworks section" not in warned and "no opengov section" not in warned
