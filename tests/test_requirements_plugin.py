"""The conformance plugin: the req marker, unknown IDs refused, coverage per ID, the scorecard."""

from __future__ import annotations

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
    assert len(reqs) == 85


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
