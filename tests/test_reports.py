"""The reports of a conformance run (H-CON-2): a vendor certifies a city widget endpoint that accepts bad
signatures; `certify` exits 1 and writes JUnit XML, JSON and the HTML scorecard, each naming the failing ID
with its evidence; the scorecard renders in Chromium without a console error, the failing ID visible."""

from __future__ import annotations

import json
import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance import report, requirements, writers
from conformance.scorecard import verdicts
from harness.conformance_cli import replay_command

from .certify_runner import certify, simulator

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SECRET = "harness-widget-secret"


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("reports")
    paths = {kind: out / f"r.{kind}" for kind in ("xml", "json", "html")}
    with simulator("city-api", defects=frozenset({"accept-bad-signature"})) as url:
        code, output, verdicts = certify(
            "city-api",
            f"{url}/utilities",
            f"--secret={SECRET}",
            "-k",
            "signing",
            "--junit",
            str(paths["xml"]),
            "--json",
            str(paths["json"]),
            "--html",
            str(paths["html"]),
        )
    return {"code": code, "output": output, "verdicts": verdicts, **paths}


@pytest.mark.req("H-CON-2")
def test_a_failing_certification_exits_1_and_names_the_id(reports):
    assert reports["code"] == 1, reports["output"][-3000:]
    assert reports["verdicts"]["WID-API-1"] == "FAIL"
    assert SECRET not in reports["output"], "the secret is never echoed"


@pytest.mark.req("H-CON-2")
def test_the_json_report_holds_verdicts_checks_and_evidence(reports):
    report = json.loads(Path(reports["json"]).read_text())
    assert report["format"] == "civic-harness-report/1"
    by_id = {r["id"]: r for r in report["requirements"]}
    assert by_id["WID-API-1"]["status"] == "fail" and by_id["WID-API-1"]["seed_text"]
    assert report["totals"]["fail"] >= 1 and report["totals"]["checks_failed"] >= 1
    failed = [c for c in report["checks"] if c["outcome"] == "failed"]
    assert failed and all("WID-API-1" in c["requirements"] for c in failed)
    assert all(c["message"] and c["details"] for c in failed)
    excerpts = [e for c in failed for e in c["evidence"]]
    assert excerpts and all(e["simulator"] == "city-api" and e["path"].startswith("/utilities/") for e in excerpts)
    assert SECRET not in json.dumps(report), "the journal excerpts and the command are masked"
    assert "--secret=***" in report["command"]
    passed = [c for c in report["checks"] if c["outcome"] == "passed"]
    assert passed and all(c["evidence"] == [] for c in passed)


@pytest.mark.req("H-CON-2")
def test_the_junit_report_has_one_testcase_per_check_with_its_ids(reports):
    root = ET.parse(reports["xml"]).getroot()
    cases = root.findall(".//testcase")
    report = json.loads(Path(reports["json"]).read_text())
    assert len(cases) == len(report["checks"])
    failing = [c for c in cases if c.find("failure") is not None]
    assert failing
    for case in failing:
        ids = {p.get("value") for p in case.findall("./properties/property") if p.get("name") == "requirement"}
        assert "WID-API-1" in ids


@pytest.mark.req("H-CON-2")
def test_the_html_scorecard_renders_in_chromium_with_the_failing_ids_visible(reports):
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("CI installs Chromium: .ci/run")
        pytest.skip("Chromium is not installed")
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(Path(reports["html"]).resolve().as_uri())
        assert "WID-API-1" in page.inner_text("#failing")
        row = page.locator("#WID-API-1")
        assert row.locator("td.status").inner_text().strip() == "FAIL"
        assert row.locator("details[open] summary").count() >= 1, "a failure's evidence is shown open"
        assert "pass" in page.inner_text("#total-pass")
        browser.close()
    assert errors == []


def test_the_replay_command_hides_secrets():
    shown = replay_command(["certify", "x", "--password", "hunter2", "--secret=s3cret", "--token", "t", "--url", "u"])
    assert "hunter2" not in shown and "s3cret" not in shown and " t " not in f"{shown} "
    assert shown.startswith("civic-harness certify x --password '***'") or "--password ***" in shown


@pytest.mark.req("H-CON-2")
def test_gaps_are_listed_as_gaps_never_as_passes():
    catalogue = requirements.load()
    covered = {"t::a": ["AGY-1"], "t::b": ["AGY-2"]}
    results = verdicts(catalogue, covered, {"t::a": "passed", "t::b": "failed"})
    checks = {
        "t::a": report.Check("t::a", "t", "passed", requirements=["AGY-1"]),
        "t::b": report.Check("t::b", "t", "failed", requirements=["AGY-2"], message="boom", details="E boom"),
    }
    model = report.model(
        results, checks, seed=7, command="civic-harness conformance --seed 7", started="x", duration_s=1
    )
    assert model["totals"]["pass"] == 1 and model["totals"]["fail"] == 1
    assert model["totals"]["not_covered"] == len(catalogue) - 2
    html = writers.html.render(model)
    assert html.count('class="status not-covered"') == len(catalogue) - 2
    assert 'href="#AGY-2"' in html and "boom" in html and "seed 7" in html


def test_evidence_reads_an_in_process_journal_without_http():
    """A simulator served by the check's own event loop cannot answer HTTP when the evidence is read; its
    journal is read in-process, and forgotten with the check."""
    from conformance import evidence

    evidence.watch("http://127.0.0.1:9", journal=_Journal([200] * 6), name="cityworks")
    try:
        found = evidence.collect(per_simulator=2)
        assert [(e["simulator"], e["path"]) for e in found] == [("cityworks", "/x/5?a=1"), ("cityworks", "/x/6?a=1")]
    finally:
        evidence.forget_function_scoped()
    assert evidence.collect() == []


class _Journal:
    def __init__(self, statuses: list[int | None]) -> None:
        self.statuses = statuses

    def select(self, *, source: str, since: int | None = None, limit: int | None = None) -> list[int]:
        assert source == "client"
        return list(range(1, len(self.statuses) + 1))

    def render(self, n: int) -> dict:
        return {"id": n, "method": "GET", "path": f"/x/{n}", "query": {"a": "1"}, "status": self.statuses[n - 1]}


def test_evidence_shows_the_failing_checks_own_calls_what_went_wrong_first():
    """The scorecard showed the simulator's newest exchanges, often the previous check's: the evidence is the
    failing check's own calls (journaled after its mark), refused or unanswered ones first."""
    from conformance import evidence

    evidence.watch("http://127.0.0.1:9", journal=_Journal([200, 200, 200, 500, 200, None, 201]), name="opengov")
    try:
        found = evidence.collect(since={"http://127.0.0.1:9": 3})
        assert [(e["path"], e["status"], e["wrong"]) for e in found] == [
            ("/x/6?a=1", "no answer", True),
            ("/x/4?a=1", 500, True),
            ("/x/7?a=1", 201, False),
            ("/x/5?a=1", 200, False),
        ]
        assert all(e["own"] for e in found)
        # a simulator first watched during the check (no mark): all its calls are the check's, at most six shown
        found = evidence.collect(since={})
        assert len(found) == 6 and [e["status"] for e in found[:2]] == ["no answer", 500], found
        # a check that made no call: the newest exchanges, marked as not its own
        found = evidence.collect(since={"http://127.0.0.1:9": 7}, per_simulator=2)
        assert [(e["path"], e["own"]) for e in found] == [("/x/6?a=1", False), ("/x/7?a=1", False)]
    finally:
        evidence.forget_function_scoped()


@pytest.mark.req("H-CON-2", "H-SCN-6")
def test_the_reports_name_the_provider_states_a_target_could_not_play_and_where_records_carry_the_tag():
    """walk #6 and #15: every format names the unplayed state with the in-scope IDs its checks held; the run
    tag is promised with the fields of the suites that wrote, never of ones that tag nothing."""
    from conformance import writes
    from conformance.wanting import needs_state, state_of

    catalogue = requirements.load()
    reason = needs_state("opengov-request-catalogue", " (a library scenario a simulator plays); no /_sim/ here")
    assert state_of(reason) == "opengov-request-catalogue" and state_of("needs the simulator control plane") is None
    covered = {"t::a": ["OG-API-1", "H-SCN-6"], "t::b": ["WID-10", "WID-2"], "t::c": ["OG-API-2"]}
    outcomes = {"t::a": "skipped", "t::b": "skipped", "t::c": "passed"}
    shown = [v for v in verdicts(catalogue, covered, outcomes) if v.checks and not v.requirement.id.startswith("H-")]
    checks = {
        "t::a": report.Check("t::a", "providers/opengov", "skipped", requirements=covered["t::a"], message=reason),
        "t::b": report.Check("t::b", "providers/opengov", "skipped", requirements=covered["t::b"], message=reason),
        "t::c": report.Check("t::c", "providers/opengov", "passed", requirements=covered["t::c"]),
    }
    city_links = [{"operation": "city-api POST /v1/links", "calls": 1, "ids": ["lnk_1"]}]
    assert writes.tag_fields(city_links) is None and writes.tag_fields(None) is None
    og = [{"operation": "opengov POST /api/v1/classes/cgRequestsClass", "calls": 1, "ids": ["7"]}]
    model = report.model(
        shown, checks, seed=0, command="c", started="s", duration_s=1, writes=og, run_tag="civic-harness-x",
        tagged=writes.tag_fields(og),
    )  # fmt: skip
    assert [s["requirements"] for s in model["provider_states"]] == [["OG-API-1"], ["WID-10", "WID-2"]]

    class Terminal:
        def __init__(self) -> None:
            self.lines: list[str] = []

        def section(self, title: str, **_: object) -> None:
            self.lines.append(f"== {title}")

        def line(self, text: str = "", **_: object) -> None:
            self.lines.append(text)

    tw = Terminal()
    writers.terminal.write(tw, model)
    assert "needs a simulator (provider states): opengov-request-catalogue — OG-API-1, WID-2, WID-10" in tw.lines
    assert "every record it created carries the tag civic-harness-x (OpenGov: IntegrationID): search for it to " \
        "find them" in tw.lines  # fmt: skip
    html = writers.html.render(model)
    assert "<code>opengov-request-catalogue</code>: OG-API-1, WID-10, WID-2" in html
    assert "(OpenGov: IntegrationID)" in html and "Cityworks: OtherSystemId" not in html
    linked = report.model(shown, checks, seed=0, command="c", started="s", duration_s=1, writes=city_links,
                          run_tag="civic-harness-x", tagged=None)  # fmt: skip
    tw = Terminal()
    writers.terminal.write(tw, linked)
    assert not [line for line in tw.lines if "carries the tag" in line]
    assert "carries the tag" not in writers.html.render(linked)


@pytest.mark.req("H-CON-2")
def test_the_scorecard_fits_a_phone_with_long_call_paths(tmp_path):
    """The written-to-the-target list names calls such as `opengov POST /api/v1/attachments/cgRequestsClass/611/
    cgRequests_cgAttachmentsClass`, one unbroken word: at 390 px it must wrap, not widen the page."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("CI installs Chromium: .ci/run")
        pytest.skip("Chromium is not installed")
    from playwright.sync_api import sync_playwright

    long = "opengov POST /api/v1/attachments/cgRequestsClass/611/cgRequests_cgAttachmentsClass/upload"
    writes = [{"operation": long, "calls": 1, "ids": ["611"]}]
    command = "civic-harness certify opengov --url http://127.0.0.1:36463/" + "x" * 40
    model = report.model([], {}, seed=0, command=command, started="s", duration_s=1, writes=writes,
                         run_tag="civic-harness-x", tagged=None)  # fmt: skip
    page_file = tmp_path / "card.html"
    page_file.write_text(writers.html.render(model))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 390, "height": 800})
        page.goto(page_file.resolve().as_uri())
        assert long.split()[-1] in page.inner_text("body")
        width = page.evaluate("document.documentElement.scrollWidth")
        browser.close()
    assert width <= 390, f"the page is {width} px wide on a 390 px phone"
