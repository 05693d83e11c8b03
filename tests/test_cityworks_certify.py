"""The Cityworks provider suite, run as a vendor runs it (`civic-harness certify`): green against the
simulator in every version family and licence set, red, naming the right IDs, against wrong modes."""

from __future__ import annotations

import pytest
import requests

from .certify_runner import certify, simulator


@pytest.mark.slow
@pytest.mark.req("H-CON-1", "CW-VER-1")
@pytest.mark.parametrize("version", ["2013", "2014", "2015", "15.8", "23"])
def test_the_suite_passes_against_every_version_family(version):
    # The generated calls at the full budget once (23); the other families differ in auth and envelope, which
    # the behaviour checks cover in full, so their generated calls run at a smaller budget.
    budget = () if version == "23" else ("--examples", "4")  # the fuzz in full once, on 23
    with simulator("cityworks", version=version, seed=3) as url:
        code, output, verdicts = certify("cityworks", url, "--version", version, *budget)
    assert code == 0, output[-3000:]
    assert verdicts["CW-VER-1"] == verdicts["CW-VER-2"] == verdicts["CW-SUB-2"] == "PASS"
    assert "FAIL" not in verdicts.values()


@pytest.mark.req("CW-MODE-1")
@pytest.mark.parametrize("licences", ["sr", "wo"])
def test_the_suite_passes_against_a_single_licence_site(licences):
    with simulator("cityworks", version="23", licences=frozenset({licences})) as url:
        code, output, verdicts = certify(
            "cityworks", url, "--licences", licences, "-k", "licences or auth or catalogue"
        )
    assert code == 0, output[-3000:]
    assert verdicts["CW-MODE-1"] == "PASS"


@pytest.mark.req("H-CON-1")
@pytest.mark.parametrize(
    "options, certify_args, select, failing",
    [
        ({"defects": frozenset({"ignore-public-flag"})}, [], "catalogue", "CW-CAT-1"),
        ({"defects": frozenset({"reorder-comments"})}, [], "comments", "CW-API-2"),
        ({"defects": frozenset({"corrupt-attachments"})}, [], "byte_for_byte", "CW-SUB-2"),
        ({"defects": frozenset({"accept-any-token"})}, [], "auth", "CW-VER-2"),
        (
            {"defects": frozenset({"ignore-licences"}), "licences": frozenset({"sr"})},
            ["--licences", "sr"],
            "licences",
            "CW-MODE-1",
        ),
        ({"legacy_envelope": True}, [], "envelope", "CW-VER-1"),
        ({"legacy_envelope": True}, [], "by_the_contract and Problems", "CW-API-5"),
        ({"accept_token_param_on_23": True}, [], "scheme", "CW-VER-2"),
        ({"defects": frozenset({"drop-customer-calls"})}, [], "callers", "CW-API-6"),
    ],
    ids=[
        "public-flag",
        "comment-order",
        "attachments",
        "any-token",
        "licences",
        "envelope",
        "envelope-schemathesis",
        "token-param-on-23",
        "customer-calls",
    ],
)
def test_the_suite_fails_with_the_right_ids_against_wrong_modes(options, certify_args, select, failing):
    with simulator("cityworks", version="23", **options) as url:
        code, output, verdicts = certify("cityworks", url, *certify_args, "-k", select)
    assert code == 1, output[-3000:]
    assert verdicts[failing] == "FAIL", output[-3000:]


@pytest.mark.req("H-CON-1", "H-SIM-2")
def test_the_suite_fails_when_the_server_errors():
    with simulator("cityworks", version="23") as url:
        fault = {"kind": "error", "status": 500, "path": "/Services/Ams/ServiceRequest/QA"}
        assert requests.post(f"{url}/_sim/faults", json=fault, timeout=10).status_code == 201
        code, output, verdicts = certify("cityworks", url, "-k", "catalogue")
    assert code == 1 and verdicts["CW-QA-1"] == "FAIL", output[-3000:]
    assert verdicts["CW-CAT-1"] == "PASS"  # only the broken operation's requirement fails


def test_an_unreachable_target_is_a_usage_error():
    code, output, _ = certify("cityworks", "http://127.0.0.1:9")
    assert code == 2 and "unreachable" in output
