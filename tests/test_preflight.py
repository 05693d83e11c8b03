"""Pre-flight (harness/preflight.py): a target that cannot be signed in to, is not the API, or does not speak
the version asked ends `certify` and `conformance --target` in one sentence with exit 2, before any check runs
— never as a run of failed checks that reads as if the vendor were non-conformant."""

from __future__ import annotations

import subprocess
import sys

import pytest

from harness import preflight
from harness.bundled import simulator_config
from harness.stack import ThreadedStack

from .certify_runner import ROOT, certify

SIMS = ("cityworks", "opengov", "arcgis", "city-api")


@pytest.fixture(scope="module")
def urls():
    with ThreadedStack({name: simulator_config(name) for name in SIMS}) as stack:
        yield stack.urls


def refusal(target: preflight.Target) -> str:
    with pytest.raises(preflight.NotReady) as caught:
        preflight.check(target)
    return str(caught.value)


@pytest.mark.req("H-CON-1")
def test_each_provider_is_recognised_and_signed_in_to(urls):
    assert preflight.check(preflight.Target("cityworks", urls["cityworks"])) == "Cityworks 23, signed in as 'harness'"
    assert preflight.check(preflight.Target("opengov", urls["opengov"] + "/")).startswith("OpenGov, signed in")
    assert preflight.check(preflight.Target("arcgis", urls["arcgis"])).startswith("an ArcGIS locator")
    widget = preflight.Target("city-api", urls["city-api"] + "/utilities", secret="harness-widget-secret")
    assert preflight.check(widget) == "the city widget 'Utility account'"


@pytest.mark.req("H-CON-1")
@pytest.mark.parametrize(
    ("target", "said"),
    [
        (dict(name="cityworks", password="wrong"), "Cityworks answered Status 3 to signing in as 'harness'"),
        (dict(name="cityworks", path="/cityworks"), "answers an HTML 404: is --url the site root"),
        (dict(name="cityworks", version="24"), "Cityworks has no version '24'"),
        (dict(name="cityworks", version="2014"), "does the site speak Cityworks 2014"),
        (dict(name="cityworks", version="15.4"), "does the site speak that version (--version)"),
        (dict(name="opengov", password="wrong"), "OpenGov answered HTTP 401 to 'harness'"),
        (dict(name="opengov", path="/eam"), "is --url the site root (the part before /api/v1)"),
        (dict(name="arcgis", service_path="/arcgis/rest/services/Nope/GeocodeServer"), "check --url and --service"),
        (dict(name="city-api", path="/utilities", secret="not-the-secret"), "refused the request signed as key"),
        (dict(name="city-api", path="/nowhere", secret="harness-widget-secret"), "does not answer like a city"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_a_target_that_is_not_ready_gets_one_sentence(urls, target, said):
    name, path = target.pop("name"), target.pop("path", "")
    assert said in refusal(preflight.Target(name, urls[name] + path, **target))


@pytest.mark.req("H-CON-1")
def test_certify_and_conformance_stop_before_any_check(urls):
    code, output, verdicts = certify("cityworks", urls["cityworks"], "--password", "wrong")
    assert code == 2 and verdicts == {}
    assert "Cityworks answered Status 3" in output and "passed" not in output and "Traceback" not in output
    assert "wrong" not in output.replace("wrong user", ""), "the password is never echoed"
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "conformance", "--target", f"opengov={urls['opengov']}/eam"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip() == (
        f"civic-harness: --target opengov: {urls['opengov']}/eam/api/v1/classes answers HTTP 404: is --url the site "
        "root (the part before /api/v1)?"
    )


CLI = [sys.executable, "-m", "harness.cli"]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.req("H-CON-1")
def test_options_say_what_they_mean():
    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("civic-harness ")
    typo = run_cli("certify", "cityworks", "--url", "http://127.0.0.1:9", "--usernme", "svc")
    assert typo.returncode == 2
    assert typo.stderr.strip() == "civic-harness: certify has no option --usernme; did you mean --username?"
    assert "did you mean --seed?" in run_cli("sim", "opengov", "--seeed", "3").stderr
    from harness.cli import build_parser, did_you_mean

    for handed_on in ("--cw-password", "--og-requester-class", "--junitxml"):  # the suites' and pytest's own
        argv = ["certify", "cityworks", "--url", "u", handed_on, "x"]
        args, rest = build_parser(argv).parse_known_args(argv)
        assert did_you_mean(args.parsers["certify"], "certify", rest) is None, handed_on
    certify = build_parser(["certify"]).parse_known_args(["certify", "x", "--url", "u"])[0].parsers["certify"]
    password = next(a.help for a in certify._actions if "--password" in a.option_strings)
    assert "CIVIC_HARNESS_CW_PASSWORD" in password and "CIVIC_HARNESS_OG_PASSWORD" in password  # walk #15
    helped = run_cli("certify", "--help").stdout
    assert "exit codes:" in helped and "--og-requester-class" in helped and "--seed" in helped


@pytest.mark.req("H-CON-1")
@pytest.mark.parametrize("spelling", ["--licences", "--licence", "--licenses", "--license"])
def test_every_spelling_of_licences_is_taken(urls, spelling):
    from harness.cli import build_parser

    for argv in (["sim", "cityworks", spelling, "sr"], ["certify", "cityworks", "--url", "u", spelling, "sr"]):
        args, rest = build_parser(argv).parse_known_args(argv)
        assert rest == [] and (getattr(args, "licence", None) or args.licences) in ("sr", frozenset({"sr"}))


@pytest.mark.req("H-CON-1")
def test_a_missing_password_is_said_not_silently_defaulted(urls):
    code, output, _ = certify("cityworks", urls["cityworks"], "--password", "wrong")
    assert code == 2 and "no password given" not in output
    result = run_cli("certify", "opengov", "--url", urls["opengov"] + "/eam")
    assert "no password given (--password or CIVIC_HARNESS_OG_PASSWORD): trying 'harness'" in result.stderr


@pytest.mark.req("H-CON-1", "CW-CAT-1")
@pytest.mark.parametrize(
    ("given", "said"),
    [
        (("--hidden-problems", "SIDEWALK"), "--hidden-problems: 'SIDEWALK' is not a ProblemSid (numbers such as 12"),
        (("--hidden-problems", "12,abc,x"), "--hidden-problems: 'abc', 'x' are not ProblemSids"),
        (("--hidden-problems", "987654"), "--hidden-problems: the site has no problem type 987654 (its unfiltered"),
        (("--hidden-templates", "999"), "--hidden-templates: the site has no template 999 (its unfiltered list"),
        (("--hidden-templates", "103,abc"), "--hidden-templates: the site has no template abc (its unfiltered list"),
    ],
    ids=["word", "words", "unknown-problem", "unknown-template", "template-word"],
)
def test_hidden_ids_the_site_lacks_are_the_users_mistake_not_the_vendors(urls, given, said):
    """walk #4: a typo in --hidden-problems/--hidden-templates once failed CW-CAT-1 (exit 1); it is a usage
    error, said in one sentence before any check runs."""
    code, output, verdicts = certify("cityworks", urls["cityworks"], *given)
    assert code == 2 and verdicts == {}, output[-2000:]
    assert said in output and "Traceback" not in output and "UsageError" not in output
    assert "--cw-hidden" not in output  # the option the user typed, not the suite's


@pytest.mark.req("H-CON-1")
def test_hidden_ids_the_site_has_pass_the_preflight(urls):
    base = urls["cityworks"]
    sids = [p["ProblemSid"] for p in _cityworks_list(base, "/Services/Ams/ServiceRequest/Problems")[:2]]
    templates = [t["WOTemplateId"] for t in _cityworks_list(base, "/Services/Ams/WorkOrder/Templates")[:1]]
    target = preflight.Target(
        "cityworks", base, hidden_problems=",".join(map(str, sids)), hidden_templates=str(templates[0])
    )
    assert preflight.check(target).startswith("Cityworks 23")


def _cityworks_list(base: str, path: str) -> list[dict]:
    from conformance.providers.cityworks.client import CityworksClient

    return CityworksClient(base, "23", "harness", "harness").call(path, {}).value


@pytest.mark.req("H-CON-1", "CW-CAT-1")
def test_conformance_names_the_suites_hidden_option_as_the_user_spelt_it(urls):
    for given, said in (
        (
            "--cw-hidden-problems=SIDEWALK",
            "--cw-hidden-problems: 'SIDEWALK' is not a ProblemSid (numbers such as 12,15)",
        ),
        ("--cw-hidden-templates=999", "--cw-hidden-templates: the site has no template 999"),
    ):
        result = run_cli("conformance", "--target", f"cityworks={urls['cityworks']}", given)
        assert result.returncode == 2, result.stdout + result.stderr
        assert result.stderr.startswith(f"civic-harness: --target cityworks: {said}"), result.stderr
