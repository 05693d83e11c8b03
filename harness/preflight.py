"""Before a suite runs against a server: is it the API, and can we sign in? A wrong password, a wrong base
path, an answer that is not the API or a version the server does not speak ends the run in seconds with one
sentence and exit 2 — never as minutes of failed checks that read as if the vendor were non-conformant."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from contracts.widget_signing import sign
from gateway.connectors.cityworks import NEW_AUTH, OLD_AUTH, family
from simulators.cityworks.config import VERSIONS as CITYWORKS_VERSIONS

TIMEOUT_S = 5.0


class NotReady(Exception):
    """The one sentence that says why the target cannot be certified as given."""


@dataclass(frozen=True, slots=True)
class Target:
    name: str  # the provider suite: cityworks, opengov, arcgis or city-api
    url: str
    version: str | None = None
    username: str | None = None
    password: str | None = None
    service_path: str | None = None
    token: str | None = None
    key_id: str | None = None
    secret: str | None = None
    hidden_problems: str | None = None  # Cityworks: --hidden-problems as given (ProblemSids, comma-separated)
    hidden_templates: str | None = None  # Cityworks: --hidden-templates as given (WOTemplateIds)
    suite_options: bool = False  # name the suite's options (--cw-hidden-problems: conformance --target), not certify's


def check(target: Target) -> str:
    """What the target turned out to be (one line), or NotReady."""
    checks = {"cityworks": cityworks, "opengov": opengov, "arcgis": arcgis, "city-api": city_api, "gateway": gateway}
    try:
        return checks[target.name](target)
    except requests.RequestException as exc:
        raise NotReady(unreachable(target.url, exc)) from None


def unreachable(url: str, exc: requests.RequestException) -> str:
    """The sentence for a server that could not be read at all (certify and capture say the same)."""
    if isinstance(exc, requests.Timeout):
        return f"{url} did not answer within {TIMEOUT_S:.0f} s"
    return f"{url} is unreachable: {exc.__class__.__name__}"


def url_problem(url: str, option: str = "--url") -> str | None:
    """Why `url` cannot be a site root (None: it can): without a scheme, requests fails with a class name."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"{option} must be an http:// or https:// URL, got {url!r}"
    return None


def defaulted(what: str, where: str, default: str) -> str:
    """The warning for a credential not given: the simulators' default is tried (a real server refuses it)."""
    return f"no {what} given ({where}): trying {default!r}, the simulators' default"


def site_root_404(url: str, resp: requests.Response, where: str) -> str:
    kind = "an HTML 404" if _html_404(resp) else "HTTP 404"
    return f"{url} answers {kind}: is --url the site root ({where})?"


def cityworks_refusal(envelope: dict, user: str) -> str:
    """Cityworks' own words for a sign-in it refused (a wrong password, a locked user)."""
    items = envelope.get("ErrorMessages") or []
    said = envelope.get("Message") or next((i.get("DisplayText") for i in items if isinstance(i, dict)), None)
    return (
        f"Cityworks answered Status {envelope['Status']} to signing in as {user!r}: {said or 'no message'} "
        "(--username, and --password or CIVIC_HARNESS_CW_PASSWORD)"
    )


def _html_404(resp: requests.Response) -> bool:
    return resp.status_code == 404 and "html" in resp.headers.get("Content-Type", "")


def _json(resp: requests.Response) -> object | None:
    try:
        return resp.json()
    except ValueError:
        return None


def known_version(version: str | None) -> str:
    version = version or "23"
    if version not in CITYWORKS_VERSIONS:
        shown = ", ".join(v for v in CITYWORKS_VERSIONS if not v.startswith("15."))
        raise NotReady(f"Cityworks has no version {version!r}; versions: {shown} and 15.x (e.g. 15.8)")
    return version


def listed_ids(text: str | None, option: str, numbers: bool) -> list[str]:
    """The ids of a comma-separated option; NotReady naming the option when `numbers` and one is not a number."""
    ids = [part.strip() for part in (text or "").split(",") if part.strip()]
    words = [i for i in ids if numbers and not i.lstrip("-").isdigit()]
    if words:
        shown = ", ".join(repr(w) for w in words)
        what = "is not a ProblemSid" if len(words) == 1 else "are not ProblemSids"
        raise NotReady(f"{option}: {shown} {what} (numbers such as 12,15)")
    return ids


# What --hidden-problems and --hidden-templates name, read unfiltered: an id the site does not list at all is the
# user's typo, never a vendor's failure (the check of ForPublicOnly needs ids the site has).
HIDDEN = (
    ("hidden_problems", "--hidden-problems", "/Services/Ams/ServiceRequest/Problems", "ProblemSid", "problem type"),
    ("hidden_templates", "--hidden-templates", "/Services/Ams/WorkOrder/Templates", "WOTemplateId", "template"),
)


def cityworks(t: Target) -> str:
    version = known_version(t.version)
    spelt = "--cw-" if t.suite_options else "--"
    listed_ids(t.hidden_problems, f"{spelt}hidden-problems", numbers=True)  # before any call: a typo costs no sign-in
    base = t.url.rstrip("/")
    old = family(version) in ("2013", "2014")
    path = OLD_AUTH if old else NEW_AUTH
    user = t.username or "harness"
    credentials = {"data": json.dumps({"LoginName": user, "Password": t.password or "harness"})}
    resp = requests.post(base + path, data=credentials, timeout=TIMEOUT_S)
    if resp.status_code == 404:
        where = "the part before /Services" if not old else f"and does the site speak Cityworks {version}"
        raise NotReady(site_root_404(base + path, resp, where))
    envelope = _json(resp)
    if not isinstance(envelope, dict) or "Status" not in envelope:
        raise NotReady(
            f"{base}{path} does not answer like Cityworks (HTTP {resp.status_code}, "
            f"{resp.headers.get('Content-Type', 'no Content-Type')}): is --url the Cityworks site root?"
        )
    if envelope["Status"] != 0:
        raise NotReady(cityworks_refusal(envelope, user))
    token = (envelope.get("Value") or {}).get("Token") if isinstance(envelope.get("Value"), dict) else None
    if not token:
        raise NotReady(f"Cityworks signed {user!r} in but gave no token: is this Cityworks {version}?")
    # The token where this version sends it: a server of another version does not take it there. The probe
    # needs no licence (the signed-in user; 2013/2014 have no such call, so their problem types, where a
    # site without the SR licence says NotLicensed — which still means the token was taken).
    probe, headers = {"data": "{}"}, {}
    if family(version) == "23":
        headers["Authorization"] = f"cityworks {token}"
    else:
        probe["token"] = token
    path = "/Services/Ams/ServiceRequest/Problems" if old else "/Services/General/Authentication/User"
    resp = requests.post(base + path, data=probe, headers=headers, timeout=TIMEOUT_S)
    answer = _json(resp)
    items = answer.get("ErrorMessages") or [] if isinstance(answer, dict) else []
    unlicensed = any(isinstance(i, dict) and i.get("Name") == "NotLicensed" for i in items)
    if not isinstance(answer, dict) or (answer.get("Status") not in (0, 1) and not unlicensed):
        scheme = "an Authorization header" if family(version) == "23" else "the token form field"
        raise NotReady(
            f"Cityworks refused its own token sent in {scheme}, as Cityworks {version} sends it: "
            "does the site speak that version (--version)?"
        )
    for field, option, list_path, key, kind in HIDDEN:
        option = spelt + option.removeprefix("--")
        given = listed_ids(getattr(t, field), option, numbers=field == "hidden_problems")
        if given:
            _on_the_site(base + list_path, probe, headers, given, option, key, kind, numbers=field == "hidden_problems")
    return f"Cityworks {version}, signed in as {user!r}"


def _on_the_site(
    url: str,
    probe: dict[str, str],
    headers: dict[str, str],
    given: list[str],
    option: str,
    key: str,
    kind: str,
    numbers: bool,
) -> None:
    """NotReady naming the ids of `given` that the unfiltered list at `url` lacks (one read-only call). A list
    the site will not give (not licensed, an error, ids missing) decides nothing here: the checks judge it."""
    answer = _json(requests.post(url, data=probe, headers=headers, timeout=TIMEOUT_S))
    if not isinstance(answer, dict) or answer.get("Status") != 0 or not isinstance(answer.get("Value"), list):
        return
    items = answer["Value"]
    if not all(isinstance(item, dict) and key in item for item in items):
        return  # a list that does not name its ids is the vendor's to answer for, in the checks
    listed = {str(item[key]) for item in items}
    missing = [i for i in given if (str(int(i)) if numbers else i) not in listed]  # as the check compares them
    if missing:
        ids = ", ".join(missing)
        raise NotReady(
            f"{option}: the site has no {kind} {ids} (its unfiltered list of {len(listed)} does not name "
            f"{'it' if len(missing) == 1 else 'them'}): give ids of {kind}s the site has"
        )


def opengov(t: Target) -> str:
    base = t.url.rstrip("/")
    user = t.username or "harness"
    resp = requests.get(
        f"{base}/api/v1/classes/cgRequestsClass", params={"limit": "1"}, auth=(user, t.password or "harness"),
        timeout=TIMEOUT_S,
    )  # fmt: skip
    if resp.status_code in (401, 403):
        raise NotReady(opengov_refusal(resp.status_code, user))
    if resp.status_code == 404:
        raise NotReady(f"{base}/api/v1/classes answers HTTP 404: is --url the site root (the part before /api/v1)?")
    body = _json(resp)
    if not isinstance(body, dict) or "cgRequestsClass" not in body:
        raise NotReady(f"{base}/api/v1/classes/cgRequestsClass does not answer like OpenGov (HTTP {resp.status_code})")
    return f"OpenGov, signed in as {user!r}"


def opengov_refusal(status: int, user: str) -> str:
    return (
        f"OpenGov answered HTTP {status} to {user!r}: wrong user name or password "
        "(--username, and --password or CIVIC_HARNESS_OG_PASSWORD)"
    )


def arcgis(t: Target) -> str:
    path = t.service_path or "/arcgis/rest/services/World/GeocodeServer"
    url = t.url.rstrip("/") + "/" + path.strip("/")
    params = {"f": "json", **({"token": t.token} if t.token else {})}
    resp = requests.get(url, params=params, timeout=TIMEOUT_S)
    body = _json(resp)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        code = body["error"].get("code")
        hint = " (--token)" if code in (498, 499) else " (check --url and --service-path)"
        raise NotReady(f"the locator at {url} answered error {code}: {body['error'].get('message')}{hint}")
    if not isinstance(body, dict) or ("singleLineAddressField" not in body and "addressFields" not in body):
        raise NotReady(
            f"{url} does not answer like an ArcGIS GeocodeServer (HTTP {resp.status_code}): check --url and "
            "--service-path"
        )
    return f"an ArcGIS locator at {url}"


def gateway(t: Target) -> str:
    """A gateway under the gateway suite: the admin token works and it runs with the timings of a gateway
    under test (gateway.settings.UNDER_TEST), which it says at GET /admin/v1/settings."""
    base = t.url.rstrip("/")
    resp = requests.get(
        f"{base}/admin/v1/settings", headers={"Authorization": f"Bearer {t.token or ''}"}, timeout=TIMEOUT_S
    )
    if resp.status_code == 401:
        raise NotReady("the gateway refused the admin token: set CIVIC_HARNESS_GW_ADMIN_TOKEN to the gateway's")
    if resp.status_code == 404:
        discovery = requests.get(f"{base}/open311/v2/discovery.json", timeout=TIMEOUT_S)
        if discovery.status_code != 200:
            raise NotReady(
                f"{base} does not answer like an Open311 gateway (discovery.json: HTTP {discovery.status_code})"
            )
        return "a gateway whose settings cannot be read: it must run jobs only when asked and retry at once"
    body = _json(resp)
    missing = body.get("under_test", {}).get("missing") if isinstance(body, dict) else None
    if missing:
        raise NotReady(
            "the gateway runs with production timings, which the suite's checks cannot wait for: start it with "
            + ", ".join(missing)
            + ", or as `civic-harness gateway --under-test`"
        )
    return "a gateway under test"


def city_api(t: Target) -> str:
    base = t.url.rstrip("/")
    key_id = t.key_id or base.rsplit("/", 1)[-1]
    path = base.split("://", 1)[-1].partition("/")[2]
    target = "/" + path.strip("/") + "/v1/widget" if path else "/v1/widget"
    headers = sign(key_id, t.secret or "", "GET", target, b"", time.time())
    resp = requests.get(base + "/v1/widget", headers=headers, timeout=TIMEOUT_S)
    if resp.status_code == 401:
        raise NotReady(
            f"the city API refused the request signed as key {key_id!r}: wrong --secret (or "
            "CIVIC_HARNESS_WID_SECRET) or --key-id"
        )
    body = _json(resp)
    if resp.status_code == 404 or not isinstance(body, dict) or "id" not in body:
        raise NotReady(
            f"{base}/v1/widget does not answer like a city widget API (HTTP {resp.status_code}): check --url"
        )
    return f"the city widget {body.get('name') or body['id']!r}"
