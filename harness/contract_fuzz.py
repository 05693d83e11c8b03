"""schemathesis with every check against a running gateway, one API at a time:

    python -m harness.contract_fuzz [admin|open311|portal ...] [--max-time S] [--seed N] [-- ST-OPTIONS]

Starts the reference gateway on loopback with a seeded city (a geography, an agency, a category, two
published widgets calling this stack's own city API, a citizen), then runs `st run --checks all` once per
API against contracts/gateway.yaml with contracts/schemathesis.toml (auth per security scheme, the
per-operation settings) and prints one line of figures per API. Exit status: 0 when every run found nothing.
tests/gateway/test_contract.py uses the same seeded gateway for its bounded CI run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "contracts" / "gateway.yaml"
CONFIG = ROOT / "contracts" / "schemathesis.toml"
ADMIN_TOKEN = "fuzz-admin-token-0123456789"
API_KEY = "fuzz-api-key-0001"
CITIZEN = {"email": "fuzz@example.org", "password": "fuzzing-password"}
# the operations' endpoints (/healthz, /readyz, /metrics) ride with the admin API's run: no gateway more to start
APIS = {"admin": "^/(admin/|healthz$|readyz$|metrics$)", "open311": "^/open311/", "portal": "^/portal/"}


@dataclass(frozen=True)
class Seeded:
    url: str
    admin_token: str
    api_key: str
    citizen_token: str


def seed_city(url: str, admin_token: str, city_api: str) -> str:
    """What the fuzzer needs to reach past "no such thing": returns a citizen's bearer token."""
    from shapely.geometry import mapping

    from simulators.kit import city

    auth = {"Authorization": f"Bearer {admin_token}"}
    files = {"file": ("city.geojson", json.dumps(mapping(city.BOUNDARY)))}
    geography = requests.post(f"{url}/admin/v1/geographies", data={"name": "City"}, files=files, headers=auth)
    geography.raise_for_status()
    agency = requests.post(
        f"{url}/admin/v1/agencies", json={"name": "Works", "geography_id": geography.json()["id"]}, headers=auth
    )
    agency.raise_for_status()
    requests.post(
        f"{url}/admin/v1/categories",
        json={"code": "POT", "name": "Pothole", "agency_ids": [agency.json()["id"]]},
        headers=auth,
    ).raise_for_status()
    for domain in ("programs", "utilities"):  # a linking widget and one without, both published
        body = {"name": domain, "endpoint": f"{city_api}/{domain}", "key_id": domain, "published": True}
        if domain == "utilities":
            kind = {"name": "Utility account", "kind": "account"}
            body["link_account_id"] = requests.post(f"{url}/admin/v1/link-accounts", json=kind, headers=auth).json()[
                "id"
            ]
        requests.post(
            f"{url}/admin/v1/widgets", json={**body, "secret": "harness-widget-secret"}, headers=auth
        ).raise_for_status()
    from conformance.gateway.client import CONFIRMATION_CODE

    assert requests.post(f"{url}/portal/v1/citizens", json=CITIZEN).status_code == 202
    mail = requests.get(f"{url}/admin/v1/mail", params={"to": CITIZEN["email"]}, headers=auth).json()["items"]
    code = CONFIRMATION_CODE.search(mail[0]["body"]).group(1)  # type: ignore[union-attr]
    confirmed = requests.post(f"{url}/portal/v1/citizens/confirm", json={"code": code})
    confirmed.raise_for_status()
    return str(confirmed.json()["token"])


@contextlib.contextmanager
def seeded_gateway(database_url: str, **options: object) -> Iterator[Seeded]:
    from gateway.settings import Settings
    from harness.bundled import simulator_config
    from harness.stack import ThreadedStack

    settings = Settings(
        database_url=database_url,
        admin_token=ADMIN_TOKEN,
        api_keys=(API_KEY,),
        scheduler_tick_s=0,
        widget_allow_only=True,  # a fuzzed endpoint is never called: only the stack's own city API is
        sign_in_refusal_delay_s=0,  # fuzzed sign-ins fail by the hundred: answered at once (the delay has its test)
        **options,  # type: ignore[arg-type]
    )
    sims = {"city-api": simulator_config("city-api", seed=3)}
    with ThreadedStack(sims, gateway=settings) as stack:
        url = stack.urls["gateway"]
        yield Seeded(url, ADMIN_TOKEN, API_KEY, seed_city(url, ADMIN_TOKEN, stack.urls["city-api"]))


def st_command(seeded: Seeded, api: str, extra: list[str]) -> list[str]:
    st = Path(sys.executable).with_name("st")
    return [
        str(st),
        f"--config-file={CONFIG}",
        "run",
        str(CONTRACT),
        f"--url={seeded.url}",
        f"--include-path-regex={APIS[api]}",
        "--checks=all",
        "--no-color",
        *extra,
    ]


def st_env(seeded: Seeded) -> dict[str, str]:
    return {
        **os.environ,
        "FUZZ_ADMIN_TOKEN": seeded.admin_token,
        "FUZZ_CITIZEN_TOKEN": seeded.citizen_token,
        "FUZZ_API_KEY": seeded.api_key,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.contract_fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("apis", nargs="*", default=[], help="admin, open311 and/or portal (default: all three)")
    parser.add_argument("--max-time", type=int, default=180, help="seconds per API (default 180)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--workers", default="1")
    args, extra = parser.parse_known_args(argv)
    unknown = set(args.apis) - set(APIS)
    if unknown:
        parser.error(f"no API {', '.join(sorted(unknown))}; the APIs: {', '.join(APIS)}")
    extra = [a for a in extra if a != "--"]
    if args.seed is not None:
        extra.append(f"--seed={args.seed}")
    failed = 0
    with tempfile.TemporaryDirectory(prefix="civic-fuzz-") as scratch:
        for api in args.apis or list(APIS):
            # A fresh gateway per API: one API's fuzzing does not leave 10,000 rows for the next to page.
            with seeded_gateway(f"sqlite:///{Path(scratch) / f'{api}.db'}") as seeded:
                command = st_command(
                    seeded,
                    api,
                    [f"--max-time={args.max_time}", f"--workers={args.workers}", *extra],
                )
                started = time.monotonic()
                done = subprocess.run(command, env=st_env(seeded), capture_output=True, text=True, check=False)
                took = time.monotonic() - started
            sys.stdout.write(done.stdout)
            sys.stderr.write(done.stderr)
            cases = re.search(r"^Test cases:\n\s*(.+)$", done.stdout, re.MULTILINE)
            verdict = re.findall(r"^=+ (.+) =+$", done.stdout, re.MULTILINE)
            figures = f"{cases.group(1) if cases else '?'}; {verdict[-1] if verdict else '?'}"
            print(f"== {api}: exit {done.returncode}, {took:.0f} s: {figures}", flush=True)
            failed |= done.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
