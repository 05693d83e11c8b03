"""The conformance plugin: the req marker, unknown IDs refused, coverage per ID, the scorecard."""

from __future__ import annotations

import json

import pytest

from conformance import requirements
from conformance.scorecard import FAIL, NOT_COVERED, PASS, SKIPPED, verdicts

TOTAL = len(requirements.load())
SUITE = """
import pytest

@pytest.mark.req("CW-QA-2")
def test_private_question():
    assert True

@pytest.mark.req("CW-QA-2", "CW-QA-4")
def test_required_and_private():
    assert {broken}

@pytest.mark.req("AGY-1")
@pytest.mark.skip(reason="not here")
def test_skipped():
    pass
"""


def test_the_catalogue_is_the_repository_copy_with_every_section():
    reqs = requirements.load()
    assert requirements.catalogue_path().parts[-2:] == ("docs", "REQUIREMENTS.md")
    assert {"AGY-1", "CW-QA-2", "OG-RQR-4", "WID-9", "H-SIM-3", "H-LOAD-1"} <= set(reqs)
    assert (
        "e-mail" in reqs["CW-QA-2"].seed_text
        and "smartphone" in reqs["CW-QA-2"].interpretation
        and reqs["CW-QA-2"].section == "Cityworks (seed 002)"
    )
    assert {"CW-API-1", "CW-API-5"} <= set(reqs) and reqs["CW-API-5"].section.startswith("Vendor APIs")
    assert {"WID-API-1", "WID-API-7"} <= set(reqs) and reqs["WID-API-1"].section.startswith("Vendor APIs")
    assert {"H-REL-1", "H-REL-4"} <= set(reqs)
    assert len(reqs) == 119


def test_unknown_requirement_ids_stop_the_run(pytester):
    pytester.makepyfile('import pytest\n@pytest.mark.req("CW-QA-99")\ndef test_x():\n    pass\n')
    result = pytester.runpytest("-p", "no:asyncio")
    assert result.ret == 4  # usage error
    result.stderr.fnmatch_lines(["*unknown requirement IDs*", "*test_x: CW-QA-99*"])


def test_a_req_marker_without_ids_is_refused(pytester):
    pytester.makepyfile("import pytest\n@pytest.mark.req\ndef test_x():\n    pass\n")
    assert pytester.runpytest("-p", "no:asyncio").ret == 4


def test_coverage_lists_the_checks_per_id_and_runs_nothing(pytester):
    pytester.makepyfile(SUITE.format(broken="False"))
    result = pytester.runpytest("-p", "no:asyncio", "--req-coverage")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "CW-QA-2      2 check(s)",
            "*test_private_question",
            "*test_required_and_private",
            "WID-1        - NOT COVERED",
            f"3 of {TOTAL} requirement IDs covered; {TOTAL - 3} gaps",
        ]
    )
    assert "passed" not in result.stdout.str()


def test_scorecard_shows_pass_fail_skip_and_gaps(pytester):
    pytester.makepyfile(SUITE.format(broken="False"))
    result = pytester.runpytest("-p", "no:asyncio", "--scorecard")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*requirement scorecard*",
            "AGY-1      SKIPPED*",
            "CW-QA-2    FAIL*2 check(s) in *",
            "CW-QA-4    FAIL*",
            f"0 pass, 2 fail, 1 skipped, {TOTAL - 3} not covered (gaps, not passes) of {TOTAL} requirement IDs",
        ]
    )
    pytester.makepyfile(SUITE.format(broken="True"))
    result = pytester.runpytest("-p", "no:asyncio", "--scorecard")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["CW-QA-2    PASS*", f"2 pass, 0 fail, 1 skipped, {TOTAL - 3} not covered*"])


def test_verdict_rules():
    cat = {rid: requirements.load()[rid] for rid in ("AGY-1", "AGY-2", "AGY-3", "AGY-4")}
    covers = {"a": ["AGY-1"], "b": ["AGY-1", "AGY-2"], "c": ["AGY-3"]}
    result = {v.requirement.id: v.status for v in verdicts(cat, covers, {"a": "passed", "b": "failed", "c": "skipped"})}
    assert result == {"AGY-1": FAIL, "AGY-2": FAIL, "AGY-3": SKIPPED, "AGY-4": NOT_COVERED}
    result = {v.requirement.id: v.status for v in verdicts(cat, covers, {"a": "passed", "b": "passed"})}
    assert result["AGY-1"] == PASS and result["AGY-3"] == NOT_COVERED  # "c" never ran


EVIDENCE_SUITE = """
import pytest
from conformance import evidence

class Journal:
    def select(self, *, source, since=None, limit=None):
        return [1]

    def render(self, n):
        return {"method": "POST", "path": "/Services/Ams/ServiceRequest/Create", "status": 500, "body": None}

@pytest.fixture
def watched():
    evidence.watch("http://127.0.0.1:9", journal=Journal(), name="cityworks")

@pytest.mark.req("CW-QA-4")
def test_broken_with_a_journal(watched):
    assert False
"""


def scorecard_lines(result) -> list[str]:
    lines = result.stdout.str().splitlines()
    start = next(i for i, line in enumerate(lines) if "requirement scorecard" in line)
    return [line for line in lines[start + 1 :] if line[:3] in ("AGY", "CW-") or "not covered (gaps" in line]


def test_the_scorecard_is_the_same_when_xdist_workers_run_the_checks(pytester):
    """Under `-n 2` the workers collect and run the checks and the controller writes the scorecard: the IDs
    travel on the reports (before, every ID read as not covered although every check had run)."""
    pytester.makepyfile(SUITE.format(broken="False"))
    serial = pytester.runpytest_subprocess("-p", "no:asyncio", "--scorecard")
    parallel = pytester.runpytest_subprocess("-p", "no:asyncio", "--scorecard", "-n", "2")
    assert "2 workers" in parallel.stdout.str() or "gw1" in parallel.stdout.str(), parallel.stdout.str()
    assert (serial.ret, parallel.ret) == (1, 1)
    assert scorecard_lines(parallel) == scorecard_lines(serial)
    parallel.stdout.fnmatch_lines(["CW-QA-2    FAIL*2 check(s)*", "0 pass, 2 fail, 1 skipped*"])


def test_a_failed_checks_evidence_reaches_the_report_from_an_xdist_worker(pytester):
    pytester.makepyfile(EVIDENCE_SUITE)
    out = pytester.path / "r.json"
    result = pytester.runpytest_subprocess("-p", "no:asyncio", "-n", "2", f"--report-json={out}")
    assert result.ret == 1
    (check,) = [c for c in json.loads(out.read_text())["checks"] if c["outcome"] == "failed"]
    assert check["requirements"] == ["CW-QA-4"]
    assert [(e["simulator"], e["path"]) for e in check["evidence"]] == [
        ("cityworks", "/Services/Ams/ServiceRequest/Create")
    ]


def test_coverage_listing_ignores_xdist_and_still_lists(pytester):
    pytester.makepyfile(SUITE.format(broken="False"))
    result = pytester.runpytest_subprocess("-p", "no:asyncio", "--req-coverage", "-n", "2")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["CW-QA-2      2 check(s)", f"3 of {TOTAL} requirement IDs covered*"])


@pytest.mark.parametrize(
    "marker, message",
    [('@pytest.mark.req("CW-QA-99")', "unknown requirement IDs"), ("@pytest.mark.req", "needs at least one")],
)
def test_bad_ids_stop_an_xdist_run_too_and_say_why(pytester, marker, message):
    """A worker's UsageError would be lost (the worker dies, the controller only says no worker is left)."""
    pytester.makepyfile(f"import pytest\n{marker}\ndef test_x():\n    pass\n\ndef test_y():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:asyncio", "-n", "2")
    assert result.ret != 0
    output = result.stdout.str() + result.stderr.str()
    assert message in output and "test_x" in output, output
    assert "passed" not in result.stdout.str()


WIRE_CHECKS = """
import json
import pytest
import requests
from conformance import evidence
from harness.bundled import simulator_config
from harness.stack import ThreadedStack

LOGIN = json.dumps({{"LoginName": "harness", "Password": "harness"}})
AUTH = "/Services/General/Authentication/Authenticate"


@pytest.fixture
def cityworks():
    with ThreadedStack({{"cityworks": simulator_config("cityworks")}}) as stack:
        yield evidence.watch(stack.urls["cityworks"])


@pytest.mark.req("{rid}")
def test_sends_what_the_vendor_refuses(cityworks):
    assert requests.post(cityworks + AUTH, timeout=10).json()["Status"] == 1


@pytest.mark.req("{rid}")
def test_sends_what_the_vendor_accepts_undocumented(cityworks):
    assert requests.post(cityworks + AUTH, params={{"data": LOGIN}}, timeout=10).json()["Status"] == 0


@pytest.mark.req("{rid}")
def test_sends_the_documented_shape(cityworks):
    assert requests.post(cityworks + AUTH, data={{"data": LOGIN}}, timeout=10).json()["Status"] == 0
"""


@pytest.mark.req("H-SIM-4", "H-CON-2")
@pytest.mark.parametrize("suite, rid", [("gateway", "CW-VER-2"), ("providers/cityworks", "CW-API-1")])
def test_journal_violations_fail_a_gateway_check_and_warnings_reach_the_scorecard(pytester, suite, rid):
    """A gateway check that passed its own asserts fails when the vendor would have refused one of its calls; a
    provider suite sends refusable calls on purpose. Warnings are listed per check either way."""
    folder = pytester.mkdir("conformance").joinpath(*suite.split("/"))
    folder.mkdir(parents=True)
    folder.joinpath("test_wire.py").write_text(WIRE_CHECKS.format(rid=rid))
    out = pytester.path / "report.json"
    result = pytester.runpytest_subprocess("-p", "no:asyncio", f"--report-json={out}", "--scorecard")
    checks = {c["id"].rsplit("::", 1)[1]: c for c in json.loads(out.read_text())["checks"]}
    refused, undocumented, documented = (
        checks["test_sends_what_the_vendor_refuses"],
        checks["test_sends_what_the_vendor_accepts_undocumented"],
        checks["test_sends_the_documented_shape"],
    )
    if suite == "gateway":
        assert result.ret == 1 and refused["outcome"] == "failed"
        assert "the gateway sent 1 call(s) the real vendor would refuse" in refused["message"]
        assert "InvalidField" in json.dumps(refused["evidence"]) or refused["evidence"]
    else:
        assert result.ret == 0 and refused["outcome"] == "passed"
    assert undocumented["outcome"] == "passed" and documented["outcome"] == "passed"
    assert [w["location"] for w in undocumented["warnings"]] == ["query.data"]
    assert documented["warnings"] == [] and refused["warnings"] == []
    result.stdout.fnmatch_lines(["*1 wire warning(s) in 1 check(s)*"])
