"""The pytest plugin behind every suite: `@pytest.mark.req("ID")`, coverage listing, the scorecard.

Registered through the `pytest11` entry point, so any pytest run in an environment with civic-harness
installed knows the marker. Unknown IDs stop the run at collection: a typo must never read as coverage.

Under pytest-xdist (`-n N`) the workers collect and run the checks and the controller writes the scorecard:
everything it needs travels on the test reports (the IDs and suite as user properties, the simulators'
journal excerpts of a failed check as `civic_evidence`), never in this process's own state alone.
"""

from __future__ import annotations

import shlex
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import Phase

from . import evidence, frontdoor, power, report, requirements, writers, writes
from .report import suite_of
from .scorecard import Verdict, verdicts
from .targets import target_urls
from .writes import Writes

PLUGIN_NAME = "civic-harness-requirements"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("civic-harness", "requirement coverage (civic-harness)")
    group.addoption(
        "--req-coverage",
        action="store_true",
        help="list, per requirement ID, the collected checks that cover it, and run nothing",
    )
    group.addoption("--scorecard", action="store_true", help="print the per-requirement scorecard at the end")
    group.addoption("--report-json", metavar="FILE", help="write the run's report as JSON (civic-harness-report/1)")
    group.addoption("--report-html", metavar="FILE", help="write the self-contained HTML scorecard")
    group.addoption("--report-command", default=None, help="the command that replays this run, as the reports show it")
    group.addoption(
        "--scorecard-scope",
        choices=("all", "covered"),
        default="all",
        help="all requirement IDs (gaps shown as not covered), or only those the selected checks cover",
    )
    group.addoption(
        "--scorecard-exclude",
        action="append",
        default=[],
        metavar="PREFIX",
        help="leave requirement IDs starting with PREFIX off the scorecard (certify: H-SIM-, the simulators' own)",
    )
    targets = parser.getgroup("civic-harness-targets", "what the conformance suites certify (civic-harness)")
    targets.addoption(
        "--target",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="certify this server instead of the bundled NAME (cityworks, opengov, arcgis, city-api, gateway)",
    )
    targets.addoption("--harness-seed", type=int, default=0, help="seed for the bundled stack")
    targets.addoption(
        "--front-door",
        default=None,
        metavar="none|iis[:name=bytes,...]",
        help="the web server limits in front of the target's API, as IIS names them (contracts/front_door.py); a "
        "generated call beyond them that gets the web server's HTML refusal is reported, not judged (default: iis "
        "for cityworks and opengov, else none)",
    )
    targets.addoption(
        "--contract-examples",
        type=int,
        default=None,
        metavar="N",
        help="generated calls per operation and mode in the schemathesis checks (default: each suite's own)",
    )
    targets.addoption(
        "--contract-no-shrink",
        action="store_true",
        help="report a failing generated call as drawn instead of shrinking it first (shrinking a call of tens "
        "of KB against a slow server can take minutes per check)",
    )
    targets.addoption("--cw-version", default="23", help="Cityworks version the target speaks (2013 ... 23)")
    targets.addoption(
        "--cw-licences", default="sr,wo", help="Cityworks APIs the target is licensed for: sr, wo or sr,wo"
    )
    targets.addoption("--cw-user", default="harness", help="Cityworks login name")
    targets.addoption(
        "--cw-hidden-problems",
        default="",
        metavar="SID,...",
        help="problem types the Cityworks target keeps from the public (ProblemSids): on a server without the "
        "simulator's control plane this is how the suite knows what ForPublicOnly must leave out",
    )
    targets.addoption(
        "--cw-hidden-templates",
        default="",
        metavar="ID,...",
        help="work-order templates the Cityworks target keeps from the public (WOTemplateIds): on a server without "
        "the simulator's control plane this is how the suite knows what ForPublicOnly must leave out",
    )
    targets.addoption(
        "--geo-service-path",
        default="/arcgis/rest/services/World/GeocodeServer",
        help="the locator path on the ArcGIS target (a city server: /server/rest/services/Folder/Name/GeocodeServer)",
    )
    targets.addoption("--geo-token", default=None, help="token for an ArcGIS target that requires one")
    targets.addoption(
        "--geo-point", default=None, help="lon,lat where the target has an address (default: the demo city)"
    )
    targets.addoption(
        "--geo-far-point", default="-30.0,-45.0", help="lon,lat with no address near (default: the South Atlantic)"
    )
    targets.addoption("--og-user", default="harness", help="OpenGov EAM login name")
    targets.addoption(
        "--og-password", default=None, help="OpenGov EAM password (better: CIVIC_HARNESS_OG_PASSWORD; never echoed)"
    )
    targets.addoption("--og-requester-class", default="cgRequestersClass", help="the requester class on the target")
    targets.addoption("--og-comment-class", default="cgRequests_cgCommentsClass", help="the comment child class")
    targets.addoption(
        "--wid-secret",
        default=None,
        help="the widget's signing secret (better: CIVIC_HARNESS_WID_SECRET; never echoed)",
    )
    targets.addoption(
        "--wid-key-id", default=None, help="the key id the widget expects (default: its last path segment)"
    )
    targets.addoption(
        "--wid-account",
        action="append",
        default=[],
        help="NUMBER:VERIFICATION of a test account to link; give two to check citizens are kept apart "
        "(better: CIVIC_HARNESS_WID_ACCOUNT, comma-separated)",
    )
    targets.addoption("--wid-property", default=None, help="a parcel id the widget knows (property-dependent widgets)")
    targets.addoption("--wid-address", default=None, help="an address the widget knows (property-dependent widgets)")
    targets.addoption(
        "--gw-database-url", default=None, help="database of the bundled gateway (default: a fresh SQLite file)"
    )
    targets.addoption(
        "--gw-api-key", default=None, help="an Open311 api_key of the target gateway (or CIVIC_HARNESS_GW_API_KEY)"
    )
    targets.addoption(
        "--read-only",
        action="store_true",
        help="write nothing to a --target: a check that would create or change a record there is skipped",
    )
    targets.addoption(
        "--cw-password",
        default=None,
        help="Cityworks password (better: the CIVIC_HARNESS_CW_PASSWORD environment variable; never echoed)",
    )


PROGRESS_EVERY_S = 15.0
WRITES = pytest.StashKey[Writes]()  # what the run wrote to its --target(s)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "req(*ids): the requirement IDs (docs/REQUIREMENTS.md) this check proves")
    config.addinivalue_line(
        "markers",
        "provider_state(name): the library scenario (contracts/scenarios/) the target simulator plays for this "
        "check, set up before it and dropped after (conformance/providers/states.py)",
    )
    if config.getoption("req_coverage") and hasattr(config.option, "dist"):
        config.option.dist = "no"  # listing coverage runs nothing: xdist's workers would list nothing
    config.pluginmanager.register(RequirementTracker(config), PLUGIN_NAME)
    writes.run_id()  # named before xdist starts its workers, which inherit it: one tag for the whole run
    targets = target_urls(config)
    if targets and not config.getoption("req_coverage"):
        config.stash[WRITES] = Writes(targets, read_only=config.getoption("read_only"))
        config.add_cleanup(writes.install(config.stash[WRITES]))


@pytest.fixture
def front_door(request: pytest.FixtureRequest, record_property: Any) -> Iterator[frontdoor.FrontDoor]:
    """The certified deployment's front-door limits for this check's suite; the refusals it saw are put on
    the check's record at teardown (shown by the scorecard and the reports, never judged)."""
    suite = suite_of(request.node.nodeid).rsplit("/", 1)[-1]
    door = frontdoor.FrontDoor(frontdoor.limits_for(request.config, suite))
    yield door
    door.report(record_property)


def contract_settings(config: pytest.Config, examples: int) -> dict[str, Any]:
    """Hypothesis settings of a schemathesis check: how many calls it generates per operation and mode
    (`--contract-examples`, else the suite's `examples`), and whether a failing call is shrunk first."""
    chosen = config.getoption("contract_examples", None)
    if chosen is not None and chosen < 1:
        raise pytest.UsageError("--contract-examples must be at least 1")
    out: dict[str, Any] = {"max_examples": chosen or examples}
    if config.getoption("contract_no_shrink", False):
        out["phases"] = [p for p in Phase if p not in (Phase.shrink, Phase.explain)]
    return out


def requirement_ids(item: pytest.Item) -> list[str]:
    ids: list[str] = []
    for mark in item.iter_markers("req"):
        if not mark.args:
            raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.req needs at least one requirement ID")
        ids += [str(a) for a in mark.args]
    return list(dict.fromkeys(ids))


MAX_FINDINGS = 50  # warnings kept per check: enough to read, bounded for a check making thousands of calls


def refused_calls(violations: list[dict[str, Any]]) -> str:
    lines = [f"{v['simulator']}: {v['method']} {v['path']}: {v['location']}: {v['message']}" for v in violations]
    more = f"\nE     ... and {len(lines) - 10} more" if len(lines) > 10 else ""
    # "E " lines, as pytest writes a failure: the report's one-line message is the first of them.
    head = f"E   the gateway sent {len(violations)} call(s) the real vendor would refuse (the simulators journal them):"
    return "\n".join([head, *(f"E     {line}" for line in lines[:10])]) + more


class RequirementTracker:
    """Which checks cover which IDs, and how each check ended."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.catalogue = requirements.load()
        self.covers: dict[str, list[str]] = {}
        self.outcomes: dict[str, str] = {}
        self.checks: dict[str, report.Check] = {}
        self.started, self.clock = datetime.now(UTC), time.monotonic()
        self.marks: dict[str, int] = {}  # the watched journals' newest entries when the current check began
        self.model: dict[str, Any] | None = None  # the report, once the session has finished
        self.last_progress = time.monotonic()

    def unknown_ids(self, items: list[pytest.Item]) -> list[str]:
        """`nodeid: ID, ...` for each check naming an ID the catalogue lacks."""
        unknown: list[str] = []
        for item in items:
            bad = [rid for rid in requirement_ids(item) if rid not in self.catalogue]
            if bad:
                unknown.append(f"{item.nodeid}: {', '.join(bad)}")
        return unknown

    def refusal(self, unknown: list[str]) -> str:
        return f"unknown requirement IDs (not in {requirements.catalogue_path().name}):\n  " + "\n  ".join(unknown)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_make_collect_report(self, collector: pytest.Collector) -> Any:
        """On an xdist worker a UsageError never reaches the user (the worker just dies): the collector
        holding the bad IDs fails instead, which the controller shows and which stops the run."""
        outcome = yield
        rep = outcome.get_result()
        if not hasattr(self.config, "workerinput") or not rep.passed:
            return
        try:
            unknown = self.unknown_ids([i for i in rep.result if isinstance(i, pytest.Item)])
        except pytest.UsageError as exc:
            unknown = [str(exc)]
        if unknown:
            rep.outcome, rep.longrepr, rep.result = "failed", self.refusal(unknown), []

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        unknown = self.unknown_ids(session.items)
        if unknown:
            raise pytest.UsageError(self.refusal(unknown))
        for item in session.items:
            ids = requirement_ids(item)
            if ids:
                self.covers[item.nodeid] = ids
                # JUnit XML (pytest's --junitxml) shows these as the testcase's properties
                item.user_properties += [("requirement", rid) for rid in ids]
            item.user_properties.append(("suite", suite_of(item.nodeid)))
            self.checks[item.nodeid] = report.Check(item.nodeid, suite_of(item.nodeid), "not run", requirements=ids)

    def pytest_runtestloop(self, session: pytest.Session) -> Any:
        if not self.config.getoption("req_coverage"):
            return None
        tw = self.config.get_terminal_writer()
        by_id: dict[str, list[str]] = {rid: [] for rid in self.catalogue}
        for test, ids in self.covers.items():
            for rid in ids:
                by_id[rid].append(test)
        tw.line()
        for rid, tests in by_id.items():
            tw.line(
                f"{rid:<10} {len(tests):>3} check(s)" if tests else f"{rid:<10}   - NOT COVERED",
                red=not tests,
            )
            for test in tests:
                tw.line(f"           {test}")
        gaps = sum(1 for t in by_id.values() if not t)
        tw.line(f"\n{len(by_id) - gaps} of {len(by_id)} requirement IDs covered; {gaps} gaps")
        return True  # run nothing

    @pytest.hookimpl(tryfirst=True)  # before the check's fixtures start (and watch) their simulators
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        evidence.forget_function_scoped()
        self.marks = evidence.marks()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Any:
        outcome = yield
        rep = outcome.get_result()
        if rep.when == "call":
            violations, warnings = evidence.findings(self.marks)
            rep.civic_warnings = warnings[:MAX_FINDINGS]
            # A gateway must never send what the real vendor refuses, whatever the check looked at; provider
            # suites send refusable calls on purpose.
            if violations and rep.passed and suite_of(item.nodeid) == "gateway":
                rep.outcome, rep.longrepr = "failed", refused_calls(violations)
        if rep.failed and rep.when in ("setup", "call"):
            # read the simulators' journals now: the fixtures stop them at teardown. Kept on the report,
            # which xdist carries to the controller with its extra attributes.
            rep.civic_evidence = evidence.collect(self.marks)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.nodeid not in self.checks:  # collected by an xdist worker: what it knew rides on the report
            self._learn(report)
        previous = self.outcomes.get(report.nodeid)
        if report.failed:
            self.outcomes[report.nodeid] = "failed"
        elif report.skipped and previous != "failed":
            self.outcomes[report.nodeid] = "skipped"
        elif report.when == "call" and report.passed and previous is None:
            self.outcomes[report.nodeid] = "passed"
        self._note(report)
        if report.when == "teardown":
            self._progress()

    def _progress(self) -> None:
        """In a log (not a terminal, where pytest's own line moves), a line every PROGRESS_EVERY_S: a CI job
        that prints nothing for minutes reads as hung, and pytest's dots come a file at a time."""
        now = time.monotonic()
        if now - self.last_progress < PROGRESS_EVERY_S or sys.stdout.isatty() or not self.config.getoption("scorecard"):
            return  # a conformance run's log only (the CLI asks for the scorecard), not every pytest session
        self.last_progress = now
        done = len(self.outcomes)
        failed = sum(1 for o in self.outcomes.values() if o == "failed")
        self.config.get_terminal_writer().line(
            f"\n[civic-harness] {now - self.clock:.0f} s: {done} checks done, {failed} failed", flush=True
        )

    def _learn(self, rep: pytest.TestReport) -> None:
        props = [tuple(p) for p in rep.user_properties]
        ids = list(dict.fromkeys(str(v) for k, v in props if k == "requirement"))
        suite = next((str(v) for k, v in props if k == "suite"), suite_of(rep.nodeid))
        if ids:
            self.covers[rep.nodeid] = ids
        self.checks[rep.nodeid] = report.Check(rep.nodeid, suite, "not run", requirements=ids)

    def _note(self, rep: pytest.TestReport) -> None:
        check = self.checks.setdefault(rep.nodeid, report.Check(rep.nodeid, suite_of(rep.nodeid), "not run"))
        check.duration_s = round(check.duration_s + rep.duration, 3)
        check.outcome = self.outcomes.get(rep.nodeid, check.outcome)
        if rep.failed or (rep.skipped and check.message is None):
            text = rep.longreprtext or ""
            if rep.skipped and isinstance(rep.longrepr, tuple):
                text = str(rep.longrepr[2])
            check.message = report.first_line(text) if rep.failed else text.removeprefix("Skipped: ")[:300]
        for key, value in rep.user_properties:
            if key == frontdoor.PROPERTY and value not in check.notes:
                check.notes.append(str(value))
        if rep.failed:
            text = rep.longreprtext or ""
            check.details = text[-report.MAX_DETAIL :]
            check.example = check.example or report.falsifying_example(text)
            check.evidence = getattr(rep, "civic_evidence", None) or check.evidence
        check.warnings = getattr(rep, "civic_warnings", None) or check.warnings

    def verdicts(self) -> list[Verdict]:
        return verdicts(self.catalogue, self.covers, self.outcomes)

    def report_model(self) -> dict[str, Any]:
        """The one model every report format is written from (conformance/writers/)."""
        results = self.verdicts()
        scope = self.config.getoption("scorecard_scope")
        if scope == "covered":
            results = [v for v in results if v.checks]
        excluded = tuple(self.config.getoption("scorecard_exclude"))
        results = [v for v in results if not (excluded and v.requirement.id.startswith(excluded))]
        command = self.config.getoption("report_command") or shlex.join(["pytest", *sys.argv[1:]])
        written = self.config.stash.get(WRITES, None)
        suites = sorted({c.suite for c in self.checks.values() if c.suite.startswith("providers/")})
        return report.model(
            results,
            self.checks,
            writes=written.summary() if written is not None else None,
            power=[p for p in (power.recorded(s, self._vendor_version(s)) for s in suites) if p is not None],
            run_tag=writes.run_tag(),
            tagged=writes.tag_fields(written.summary()) if written is not None else None,
            seed=self.config.getoption("harness_seed", None),
            command=command,
            started=self.started.isoformat(timespec="seconds"),
            duration_s=time.monotonic() - self.clock,
            scope=scope,
        )

    def _vendor_version(self, suite: str) -> str | None:
        """The version a provider suite certified (Cityworks' --cw-version), for its recorded mutation score."""
        return self.config.getoption("cw_version", None) if suite == "providers/cityworks" else None

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        json_path, html_path = self.config.getoption("report_json"), self.config.getoption("report_html")
        if not (json_path or html_path) or self.config.getoption("req_coverage"):
            return
        self.model = self.report_model()
        if json_path:
            writers.json_file.write(json_path, self.model)
        if html_path:
            writers.html.write(html_path, self.model)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.config.getoption("scorecard") or self.config.getoption("req_coverage"):
            return
        writers.terminal.write(terminalreporter, self.model or self.report_model())
