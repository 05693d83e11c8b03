"""`civic-harness mutate` (issue 29): mutations as pure functions over exchanges, the catalogues generated from
the contracts, the mutating proxy in front of a real simulator, the score and its declared survivors, and — in
the slow phase — a bounded sample per vendor that fails when a written mutation survives."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests

from harness.cli import main as cli
from harness.mutate import score
from harness.mutate.catalogue import catalogue
from harness.mutate.exchange import Request, Response
from harness.mutate.mutation import drop_key, map_key, reverse_lists, wrong_value
from harness.mutate.proxy import behind_proxy
from harness.mutate.runner import Plan, reach, select
from harness.mutate.tap import Tap
from harness.mutate.vendors import vendor
from harness.mutate.vendors.cityworks import data_of

from .certify_runner import ROOT, simulator

FORM = (("Content-Type", "application/x-www-form-urlencoded"),)


def form_call(path: str, body: str, *headers: tuple[str, str], operation: str | None = None) -> Request:
    return Request("POST", path, "", (*FORM, *headers), body.encode(), operation)


# -- pure rewrites ------------------------------------------------------------------------------------------


def test_json_rewrites_reach_every_depth_and_leave_the_rest():
    value = {"a": 1, "rows": [{"a": 2, "b": [3, 4]}, {"c": None}]}
    assert drop_key(value, "a") == {"rows": [{"b": [3, 4]}, {"c": None}]}
    assert map_key(value, "b", len) == {"a": 1, "rows": [{"a": 2, "b": 2}, {"c": None}]}
    assert reverse_lists(value) == {"a": 1, "rows": [{"c": None}, {"a": 2, "b": [4, 3]}]}
    assert value == {"a": 1, "rows": [{"a": 2, "b": [3, 4]}, {"c": None}]}  # pure: the input is untouched


@pytest.mark.parametrize(
    "types, wrong",
    [(["integer"], "mutated"), (["string", "null"], 7), (["number"], "mutated"), (["string", "integer"], True)],
)
def test_a_wrong_value_is_of_a_type_the_contract_excludes(types, wrong):
    assert wrong_value(types) == wrong


def test_cityworks_strips_a_member_of_data_wherever_the_client_put_it():
    cw = vendor("cityworks")
    call = form_call("/Services/Ams/ServiceRequest/Create", "data=%7B%22ProblemSid%22%3A2%2C%22X%22%3A1%7D&token=t")
    stripped = cw.strip(call, "data", "x")  # Json.NET binds members in any casing
    assert data_of(stripped) == ("form", {"ProblemSid": 2}) and ("token", "t") in stripped.form()
    query = Request("GET", "/p", "data=%7B%22X%22%3A1%7D", (), b"")
    assert data_of(cw.strip(query, "data", "X")) == ("query", {})


def test_cityworks_mends_credentials_only_as_the_mutation_says():
    cw, memo = vendor("cityworks"), {"version": "23"}
    auth = Request("POST", "/Services/General/Authentication/Authenticate", "", FORM, b"")
    issued = Response(200, (), json.dumps({"Status": 0, "Value": {"Token": "good"}}).encode())
    cw.learn(auth, issued, memo)
    bare = form_call("/Services/Ams/ServiceRequest/Problems", "data=%7B%7D")
    wrong = bare.with_header("Authorization", "cityworks forged")
    assert cw.authorize(bare, memo, missing=True).header("Authorization") == "cityworks good"
    assert cw.authorize(bare, memo, missing=False) == bare  # nothing to mend: it has no credentials
    assert cw.authorize(wrong, memo, missing=False).header("Authorization") == "cityworks good"
    assert cw.authorize(wrong, memo, missing=True) == wrong


def test_the_written_cityworks_mutations_change_what_they_say():
    written = {m.id: m for m in vendor("cityworks").written("23")}
    ok = Response(200, (), json.dumps({"Status": 0, "Value": [3, 5, 8]}).encode())
    assert written["written:search-loses-last-id"].response(None, ok, {}).json()["Value"] == [3, 5]
    comments = {"Status": 0, "Value": [{"CommentId": 1}, {"CommentId": 2}]}
    newest = written["written:comments-newest-first"].response(None, ok.with_json(comments), {})
    assert [c["CommentId"] for c in newest.json()["Value"]] == [2, 1]
    dated = ok.with_json({"Status": 0, "Value": {"DateTimeInit": "2026-11-23T17:05:00"}})
    assert written["written:dates-us-format"].response(None, dated, {}).json()["Value"] == {
        "DateTimeInit": "11/23/2026 5:05:00 PM"
    }
    photo = Response(200, (("Content-Type", "image/jpeg"),), b"\x00\x01\x02\x03")
    changed = written["written:attachment-one-byte"].response(None, photo, {}).body
    assert len(changed) == 4 and sum(a != b for a, b in zip(changed, photo.body, strict=True)) == 1
    param = form_call("/p", "data=%7B%7D&token=abc")
    moved = written["written:token-parameter-on-23"].request(param, {})
    assert moved.header("Authorization") == "cityworks abc" and "token" not in dict(moved.form())


# -- catalogues ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cityworks", "opengov", "arcgis", "city-api"])
def test_every_catalogue_has_unique_ids_and_every_kind_it_can(name):
    v = vendor(name)
    mutations = catalogue(v, v.default_version())
    ids = [m.id for m in mutations]
    assert len(ids) == len(set(ids))
    kinds = {i.split(":")[0] for i in ids}
    assert {"ignore", "error-status", "error-shape", "error-as-success", "no-auth", "wrong-auth", "written"} <= kinds
    assert all(m.requirements for m in mutations), "every mutation names the requirement IDs it attacks"
    assert not [i for i in ids if i.startswith("ignore:") and i.rsplit(":", 1)[1].lower() == "token"]


def test_the_opengov_catalogue_holds_the_known_survivor_and_the_contracts_fields():
    ids = {m.id for m in catalogue(vendor("opengov"), None)}
    assert {"ignore:listRecords:fields", "drop:listRecords:_metadata", "retype:listRecords:Oid"} <= ids
    assert "reorder:listRecords" in ids  # "filtered, sorted and paged": an order the contract documents


def test_a_cityworks_catalogue_follows_its_versions_auth_path():
    new = {m.id.split(":")[1] for m in catalogue(vendor("cityworks"), "23")}
    old = {m.id.split(":")[1] for m in catalogue(vendor("cityworks"), "2013")}
    assert "General_Authentication_Authenticate" in new and "Authentication_Authenticate" not in new
    assert "Authentication_Authenticate" in old and "General_Authentication_User" not in old
    assert "written:header-before-23" in {m.id for m in vendor("cityworks").written("2013")}


def test_a_sample_keeps_every_written_mutation_and_is_the_same_for_a_seed():
    mutations = catalogue(vendor("arcgis"), None)
    one = select(mutations, Plan("arcgis", None, sample=5, seed=1))
    assert [m.id for m in one] == [m.id for m in select(mutations, Plan("arcgis", None, sample=5, seed=1))]
    assert sum(m.source == "generated" for m in one) == 5
    assert {m.id for m in one if m.source == "written"} == {m.id for m in mutations if m.source == "written"}


def test_a_mutation_runs_only_the_checks_that_call_its_operations():
    calls = {"": {"listRecords": 1}, "t::a": {"listRecords": 2}, "t::b": {"user": 1}}
    by_op = {m.id: m for m in catalogue(vendor("opengov"), None)}
    assert reach(by_op["ignore:listRecords:fields"], calls) == ["t::a"]
    assert reach(by_op["drop:discover:Library"], calls) == []  # no check calls discover: not reached
    assert reach(by_op["written:signout-keeps-session"], calls) is None  # a simulator defect: every check


# -- the score ----------------------------------------------------------------------------------------------


def test_the_score_leaves_out_declared_survivors_and_counts_the_rest(tmp_path):
    (tmp_path / "unobservable.toml").write_text(
        '[[mutation]]\nid = "ignore:listRecords:bypass*"\nwhy = "a role the test user lacks"\n'
    )
    entries = score.declared(tmp_path / "unobservable.toml")
    by_id = {m.id: m for m in catalogue(vendor("opengov"), None)}
    outcomes = {
        "ignore:listRecords:bypassRoleBasedFiltering": "survived",
        "ignore:listRecords:fields": "killed",
        "drop:discover:Library": "not reached",
        "written:fields-ignored": "preflight",
    }
    run = {
        "vendor": "opengov",
        "version": None,
        "duration_s": 1.0,
        "jobs": 2,
        "sample": None,
        "mutations": [(by_id[i], {"outcome": o}) for i, o in outcomes.items()],
    }
    report = score.model(run, entries, date="2026-12-06T10:00:00+00:00", harness="t", command="c")
    assert report["totals"]["all"]["score"] == 66.7  # 2 of 3: the declared one is left out
    assert report["totals"]["written"]["score"] == 100.0
    assert [r["id"] for r in report["survivors"]] == ["drop:discover:Library"]
    assert report["unobservable"][0]["why"] == "a role the test user lacks"
    only_2013 = [{"id": "ignore:*:CallerCity", "why": "no CustomerCall", "versions": ["2013", "15"]}]
    assert score.why_unobservable("ignore:x:CallerCity", only_2013, "2013") == "no CustomerCall"
    assert score.why_unobservable("ignore:x:CallerCity", only_2013, "15.4") == "no CustomerCall"
    assert score.why_unobservable("ignore:x:CallerCity", only_2013, "23") is None
    assert {r["id"]: r["score"] for r in report["requirements"]}["OG-API-7"] == 0.0
    (tmp_path / "bad.toml").write_text('[[mutation]]\nid = "x"\n')
    with pytest.raises(ValueError, match="needs an id and a why"):
        score.declared(tmp_path / "bad.toml")


def test_every_suites_declared_survivors_name_mutations_of_its_catalogue():
    for name in ("cityworks", "opengov", "arcgis", "city-api"):
        path = ROOT / "conformance" / "providers" / name.replace("-", "_") / "unobservable.toml"
        ids = {(m.id, version) for version in _versions(name) for m in catalogue(vendor(name), version)}
        for entry in score.declared(path):
            named = any(score.why_unobservable(i, [entry], version) for i, version in ids)
            assert named, f"{path.name}: {entry['id']} names nothing"


def _versions(name: str) -> list[str | None]:
    return ["2013", "2014", "2015", "15.4", "23"] if name == "cityworks" else [None]


# -- the proxy ----------------------------------------------------------------------------------------------


@pytest.mark.req("H-CON-3")
def test_the_mutating_proxy_changes_only_its_operation_and_records_the_exchange():
    og = vendor("opengov")
    mutation = next(m for m in catalogue(og, None) if m.id == "drop:listRecords:Oid")
    tap = Tap(og, mutation)
    auth = ("harness", "harness")
    with simulator("opengov", seed=5) as sim, behind_proxy(sim, tap=tap) as url:
        assert requests.get(f"{url}/_sim/", timeout=10).status_code == 404  # a real server has no control plane
        rows = requests.get(f"{url}/api/v1/classes/cgRequestsClass", params={"limit": 2}, auth=auth, timeout=10)
        user = requests.get(f"{url}/api/v1/user", auth=auth, timeout=10)
        direct = requests.get(f"{sim}/api/v1/classes/cgRequestsClass", params={"limit": 2}, auth=auth, timeout=10)
    assert rows.status_code == 200 and all("Oid" not in r for r in rows.json()["cgRequestsClass"])
    assert all("Oid" in r for r in direct.json()["cgRequestsClass"])
    assert user.status_code == 200 and user.json()["UserName"]
    assert tap.changed == 1 and tap.changes[0]["operation"] == "listRecords"
    assert '"Oid"' in tap.changes[0]["answer_before"] and '"Oid"' not in tap.changes[0]["answer_after"]
    assert tap.calls[""] == {"listRecords": 1, "user": 1}


@pytest.mark.req("H-CON-3")
def test_a_trial_kills_the_fields_survivor_with_the_fields_check(tmp_path):
    """The known survivor of issue 29 — a server that ignores `fields` — fails certify opengov, by its check."""
    check = "providers/opengov/test_records.py::test_fields_chooses_the_fields_that_come_back"
    spec = {
        "vendor": "opengov",
        "version": None,
        "mutation": "written:fields-ignored",
        "select": [check],
        "certify": ["--examples", "1"],
        "out": str(tmp_path / "out.json"),
        "log": str(tmp_path / "trial.log"),
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    subprocess.run(
        [sys.executable, "-m", "harness.mutate.trial", str(tmp_path / "spec.json")], cwd=ROOT, timeout=300, check=True
    )
    result = json.loads((tmp_path / "out.json").read_text())
    assert result["outcome"] == "killed", (tmp_path / "trial.log").read_text()[-3000:]
    assert result["killed_by"]["requirements"] == ["OG-API-1"]
    assert [c["id"] for c in result["killed_by"]["checks"]] == [check]
    assert result["changed"] >= 1 and "fields=IssueField" in result["changes"][0]["call"]


# -- a bounded sample per vendor (CI's slow phase) ------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.req("H-CON-3")
@pytest.mark.parametrize("name", ["cityworks", "opengov", "arcgis", "city-api"])
def test_a_sample_per_vendor_kills_every_written_mutation(name, tmp_path):
    report = tmp_path / "mutate.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "mutate",
            name,
            "--sample",
            "3",
            "--seed",
            "1",
            "--examples",
            "1",
            "--jobs",
            "2",
            "--json",
            str(report),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    model = json.loads(report.read_text())
    written = model["totals"]["written"]
    assert written["mutations"] >= 4 and written["score"] == 100.0
    assert model["totals"]["generated"]["mutations"] == 3 and not model["void"]


def test_a_mutation_run_refuses_an_unknown_suite(capsys):
    assert cli(["mutate", "sharepoint"]) == 2
    assert "no provider suite 'sharepoint'" in capsys.readouterr().err


def test_calls_are_named_by_their_operation_under_the_widgets_mount():
    tap = Tap(vendor("city-api"))
    assert tap.operation("GET", "/utilities/v1/content") == "getContent"
    assert tap.operation("GET", "/nowhere") is None


# -- what certify says of its own power ---------------------------------------------------------------------


@pytest.mark.req("H-CON-3")
def test_the_report_lists_checks_skipped_for_want_of_input_and_the_suites_power():
    from conformance import power, report
    from conformance.wanting import wanting

    reason = wanting("a test account to link", "--account NUMBER:VERIFICATION", "--wid-account")
    checks = {
        "providers/city_api/test_changes.py::t": report.Check(
            "t", "providers/city_api", "skipped", 0, ["WID-API-5"], reason
        ),
        "providers/city_api/test_signing.py::u": report.Check(
            "u", "providers/city_api", "skipped", 0, ["WID-API-1"], "no"
        ),
    }
    record = {
        "suite": "city-api",
        "version": None,
        "date": "2026-12-06T10:00:00+00:00",
        "harness": "0.1",
        "sample": None,
        "totals": {s: {"score": 97.5, "mutations": 40} for s in ("all", "generated", "written")},
        "survivors": ["x"],
    }
    model = report.model([], checks, seed=0, command="c", started="s", duration_s=1.0, power=[record])
    assert model["wanting"] == [{"check": "t", "requirements": ["WID-API-5"], "message": reason}]
    assert "give certify --account NUMBER:VERIFICATION" in reason
    line = power.describe(record)
    assert line.startswith("city-api: 97.5 % of 40 mutations killed") and "recorded 2026-12-06" in line


@pytest.mark.slow
@pytest.mark.req("H-CON-3", "H-CON-1")
def test_certify_says_which_checks_want_test_accounts_and_how_to_run_them():
    from .certify_runner import certify

    with simulator("city-api", seed=5) as sim, behind_proxy(sim) as url:
        code, output, verdicts = certify("city-api", f"{url}/utilities", "--secret", "harness-widget-secret")
    assert code == 0, output[-3000:]
    assert "skipped for want of input" in output
    assert "a test account to link; give certify --account NUMBER:VERIFICATION" in output
    assert verdicts["WID-API-5"] == "SKIPPED"
    assert "the suite's power" in output


def test_the_recorded_power_is_the_certified_versions_when_there_is_one(tmp_path, monkeypatch):
    from conformance import power

    suite = tmp_path / "providers" / "cityworks"
    suite.mkdir(parents=True)
    for name, version in (("mutation-score.json", "23"), ("mutation-score-2013.json", "2013")):
        (suite / name).write_text(json.dumps({"suite": "cityworks", "version": version, "totals": {}}))
    monkeypatch.setattr(power, "ROOT", tmp_path)
    assert power.recorded("providers/cityworks", "2013")["version"] == "2013"
    assert power.recorded("providers/cityworks", "15.4")["version"] == "23"  # none for 15.4: the suite's own
    assert power.recorded("providers/opengov") is None


@pytest.mark.req("H-CON-3")
def test_a_survivors_exchange_never_shows_a_credential():
    """The report lists the exchange a mutation changed: a token in the query, a password inside Cityworks'
    `data` form member and a token in a JSON answer are masked, as the simulators' journal masks them."""
    from harness.mutate.exchange import Request, Response
    from harness.mutate.tap import describe

    form = (("Content-Type", "application/x-www-form-urlencoded"),)
    original = Request(
        "POST", "/Services/Ams/WorkOrder/Templates", "token=eyJSECRETTOKEN&data=%7B%7D", form,
        b"data=%7B%22LoginName%22%3A%22svc%22%2C%22Password%22%3A%22hunter2hunter2%22%7D",
    )  # fmt: skip
    sent = Request(original.method, original.path, "token=eyJSECRETTOKEN", form, b"data=%7B%7D")
    answer = Response(200, (("Content-Type", "application/json"),), b'{"Status":0,"Value":{"Token":"eyJANSWERTOKEN"}}')
    shown = json.dumps(describe("check", original, sent, answer, Response(200, answer.headers, b'{"Status":0}')))
    for secret in ("eyJSECRETTOKEN", "hunter2hunter2", "eyJANSWERTOKEN"):
        assert secret not in shown, (secret, shown)
    assert "WorkOrder/Templates" in shown and "LoginName" in shown, shown


def test_a_survivor_that_changed_nothing_reads_never_triggered(capsys):
    """A survivor whose operation was called but never in the case it alters is a different gap from one no
    check reaches: the summary names which."""
    from harness.commands.mutate import print_summary

    tally = {"score": 50.0, "killed": 1, "preflight": 0, "survived": 1, "not reached": 1, "unobservable": 0,
             "void": 0, "mutations": 3}  # fmt: skip
    survivor = {"changes": [], "operations": ["Validate"], "description": "answers an error as success"}
    report = {
        "suite": "cityworks", "duration_s": 1, "void": [],
        "totals": {"all": tally, "generated": tally, "written": tally},
        "survivors": [
            {**survivor, "id": "error-as-success:Validate", "outcome": "survived"},
            {**survivor, "id": "no-auth:Validate", "outcome": "not reached"},
        ],
    }  # fmt: skip
    print_summary(report)
    lines = [line for line in capsys.readouterr().out.splitlines() if "SURVIVED" in line]
    assert "never triggered" in lines[0] and "no check calls Validate" in lines[1], lines


@pytest.mark.req("H-CON-3")
def test_the_mutation_report_reads_on_a_phone_and_a_desktop(tmp_path):
    """Chromium at 1280 and 390 px: nothing wider than the window, no console error; on a phone each number of
    the per-requirement table keeps its column's name (the header row is hidden there)."""
    import shutil

    from conformance.writers import html

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("CI installs Chromium: .ci/run")
        pytest.skip("Chromium is not installed")
    from playwright.sync_api import sync_playwright

    tally = {"score": 50.0, "mutations": 2, "killed": 1, "preflight": 0, "survived": 1, "not reached": 0,
             "unobservable": 0, "void": 0}  # fmt: skip
    change = {"call": "POST /Services/Ams/ServiceRequest/Create" + "/x" * 60, "check": "test_x", "answer": "y" * 300}
    survivor = {"id": "drop:Ams_ServiceRequest_Create:Value", "source": "generated", "requirements": ["CW-SUB-1"],
                "outcome": "survived", "description": "drops Value", "operations": ["Create"], "changes": [change],
                "changed": 1, "killed_by": {"requirements": [], "checks": []}, "errors": [],
                "duration_s": 1.0}  # fmt: skip
    report = {
        "suite": "cityworks", "version": "23", "date": "d", "harness": "0.1.0", "duration_s": 1, "jobs": 2,
        "sample": None, "command": "civic-harness mutate cityworks --jobs 2 --json " + "/tmp/" + "r" * 80,
        "totals": {"all": tally, "generated": tally, "written": tally},
        "requirements": [{"id": "CW-SUB-1", **tally}], "survivors": [survivor], "unobservable": [], "void": [],
        "mutations": [survivor],
    }  # fmt: skip
    page_file = tmp_path / "mutation.html"
    html.write_mutation(page_file, report)
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for width in (1280, 390):
            page = browser.new_page(viewport={"width": width, "height": 800})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(page_file.resolve().as_uri())
            assert page.evaluate("document.documentElement.scrollWidth") <= width, f"wider than {width} px"
            label = page.evaluate(
                "getComputedStyle(document.querySelector('td[data-label=\"killed\"]'), '::before').content"
            )
            assert (label == '"killed: "') == (width == 390), f"{width} px: the killed column reads {label}"
        browser.close()
    assert errors == []
