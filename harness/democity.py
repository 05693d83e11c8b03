"""The demo city `up` serves: Harnessville's boundary as the geography, agencies with integrations to the
bundled simulators, categories and questions, set up through the gateway's own admin API as a city
administrator would.

Its public services come from the vendors, as a city's do: each integration's categories are synced
(CW-CAT-1, OG-CAT-1) and four of them offered to the public — Pothole and Streetlight Out from Cityworks,
Graffiti and Missed Trash Pickup from OpenGov — the rest kept from the public, so no service appears twice.
The integrations poll on a schedule, so a report reaches its vendor within seconds (the scheduler's tick) and
a worker's closing comes back at the next status poll, with nothing run by hand."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aiohttp

from conformance.gateway.client import sign_up
from contracts.scenario import City, demo_city
from simulators.arcgis import ArcgisConfig

from .sim_control import SimControl

DEMO_API_KEY = "harness-demo-key"
# (key, the vendor's name for the category, group, vendor): the services the demo offers the public
CATEGORIES = [
    ("POT", "Pothole", "Streets", "cityworks"),
    ("SL", "Streetlight Out", "Streets", "cityworks"),
    ("GRAF", "Graffiti", "Parks", "opengov"),
    ("TRASH", "Missed Trash Pickup", "Sanitation", "opengov"),
]
# How often each integration's jobs run (the gateway's minimum is 60 s); delivery runs every scheduler tick.
INTERVALS = {"status_poll": 60, "category_sync": 3600, "question_sync": 3600}


CITY_API_SECRET = "harness-widget-secret"  # the city API simulator's default signing secret
DEMO_ACCOUNT = ("UT-DEMO-0001", "123456")
DEMO_CITIZEN = ("demo@harnessville.example", "harness-demo-citizen")
WIDGETS = [  # domain, name, settings beyond the defaults
    ("property-taxes", "Property taxes", {"property_dependent": True, "icon": {"library": "home"}}),
    (
        "utilities",
        "Utilities",
        {"icon": {"library": "droplet"}, "notifications": True,
         "layout": {"template": "table", "key_width": 40, "value_width": 60, "dashboard_items": 3},
         "texts": {"no_account": "Link your utility account to see your bills.",
                   "link_instructions": "Your account number and PIN are on your bill."}},
    ),
    ("programs", "Programs and recreation", {"fixed": True, "icon": {"library": "ticket"}}),
    ("jobs", "Job opportunities", {"icon": {"library": "briefcase"}, "layout": {"template": "row"}}),
    ("volunteer", "Volunteer opportunities", {"icon": {"library": "hand-heart"}}),
    ("engagement", "Get involved", {"type": "html", "icon": {"library": "megaphone"}}),
]  # fmt: skip


class SeedError(RuntimeError):
    pass


async def _call(http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> Any:
    async with http.request(method, url, **kwargs) as resp:
        body = await resp.json() if resp.status != 204 else None
        if resp.status not in (200, 201):
            raise SeedError(f"{method} {url} answered {resp.status}: {body}")
        return body


def _locator(simulators: Mapping[str, str]) -> str | None:
    """The ArcGIS simulator's locator (its default World GeocodeServer), not its bare address."""
    return f"{simulators['arcgis']}{ArcgisConfig().service_path}" if "arcgis" in simulators else None


async def seed_demo_city(
    gateway: str,
    admin_token: str,
    simulators: Mapping[str, str],
    importer: bool = False,
    routed: bool = True,
    city: City | None = None,
    timezones: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Returns what was made, by name. `importer`: the Cityworks agency imports requests entered there.
    `routed=False`: the four services are made by hand and go to no vendor (the load profiles measure the
    gateway alone; nothing is delivered behind their backs). `city`: a scenario's city (default: the demo city)
    as the geography. `timezones`: the zone a vendor writes its local dates in, by vendor (a scenario's Cityworks
    site zone, its OpenGov server's), set on its integration."""
    zones = dict(timezones or {})
    city = city or demo_city()
    admin = f"{gateway}/admin/v1"
    headers = {"Authorization": f"Bearer {admin_token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        form = aiohttp.FormData()
        form.add_field("name", city.name)
        boundary = {"type": "Polygon", "coordinates": [[list(p) for p in city.boundary]]}
        form.add_field("file", json.dumps(boundary).encode(), filename=f"{city.name}.geojson")
        geography = await _call(http, "POST", f"{admin}/geographies", data=form)
        integrations: dict[str, Any] = {}
        if "cityworks" in simulators:
            integrations["cityworks"] = await _call(
                http,
                "POST",
                f"{admin}/integrations",
                json={
                    "name": "Cityworks (simulator)",
                    "vendor": "cityworks",
                    "version": "23",
                    "base_url": simulators["cityworks"],
                    "username": "harness",
                    "secret": "harness",
                    "geocoder_url": _locator(simulators),
                    "intervals": INTERVALS if routed else {},
                    **({"timezone": zones["cityworks"]} if zones.get("cityworks") else {}),
                },
            )
        if "opengov" in simulators:
            integrations["opengov"] = await _call(
                http,
                "POST",
                f"{admin}/integrations",
                json={
                    "name": "OpenGov EAM (simulator)",
                    "vendor": "opengov",
                    "version": "v1",
                    "base_url": simulators["opengov"],
                    "username": "harness",
                    "secret": "harness",
                    "intervals": INTERVALS if routed else {},
                    **({"timezone": zones["opengov"]} if zones.get("opengov") else {}),
                },
            )
        agencies = {}
        for vendor, name in (("cityworks", "Public Works"), ("opengov", "Parks and Sanitation")):
            agencies[vendor] = await _call(
                http,
                "POST",
                f"{admin}/agencies",
                json={
                    "name": name,
                    "geography_id": geography["id"],
                    "integration_id": integrations[vendor]["id"] if vendor in integrations else None,
                    "importer_enabled": importer and vendor in integrations,
                },
            )
        if routed:
            categories = await _vendor_categories(http, admin, integrations)
        else:
            categories = {}
        for key, name, group, vendor in CATEGORIES:
            if key in categories:
                categories[key] = await _call(
                    http, "PATCH", f"{admin}/categories/{categories[key]['id']}", json={"group": group, "public": True}
                )
            else:  # no such vendor here: the service is the city's own
                body = {"code": key, "name": name, "group": group, "agency_ids": [agencies[vendor]["id"]]}
                categories[key] = await _call(http, "POST", f"{admin}/categories", json=body)
        await _call(
            http,
            "POST",
            f"{admin}/categories/{categories['POT']['id']}/questions",
            json={
                "code": "size",
                "text": "How big is it?",
                "datatype": "singlevaluelist",
                "required": True,
                "choices": [{"key": "small", "name": "Smaller than a plate"}, {"key": "large", "name": "Larger"}],
            },
        )
        await _call(
            http,
            "POST",
            f"{admin}/categories/{categories['GRAF']['id']}/questions",
            json={
                "code": "phone",
                "text": "Your phone number, if we may call you",
                "datatype": "string",
                "public": False,
                "integration_key": "PrimaryPhoneField",
            },
        )
        widgets = (
            await _seed_widgets(http, admin, gateway, simulators["city-api"], admin_token)
            if "city-api" in simulators
            else {}
        )
    return {
        "geography": geography,
        "integrations": integrations,
        "agencies": agencies,
        "categories": categories,
        "widgets": widgets,
    }


async def _vendor_categories(
    http: aiohttp.ClientSession, admin: str, integrations: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """Each integration's categories synced from its vendor (and Cityworks' questions); the demo's four kept
    public by key, every other kept from the public."""
    for vendor, integration in integrations.items():
        jobs = ("category_sync", "question_sync") if vendor == "cityworks" else ("category_sync",)
        for job in jobs:
            run = await _call(http, "POST", f"{admin}/jobs/{job}/run", json={"integration_id": integration["id"]})
            if run["status"] != "ok":
                raise SeedError(f"{job} for {vendor} failed: {run['errors']}")
    wanted = {(vendor, name): key for key, name, _, vendor in CATEGORIES}
    by_integration = {i["id"]: vendor for vendor, i in integrations.items()}
    chosen: dict[str, dict[str, Any]] = {}
    for category in (await _call(http, "GET", f"{admin}/categories"))["items"]:
        key = wanted.get((by_integration.get(category.get("integration_id")), category["name"]))
        if key is not None and key not in chosen:
            chosen[key] = category
        elif category["public"]:
            await _call(http, "PATCH", f"{admin}/categories/{category['id']}", json={"public": False})
    return chosen


async def _seed_widgets(
    http: aiohttp.ClientSession, admin: str, gateway: str, city_api: str, admin_token: str
) -> dict[str, Any]:
    """The six widget domains of the city API simulator, published, with a demo citizen whose utility account
    is linked and whose address is City Hall's parcel."""
    sim = SimControl(http, city_api)
    usage = [["2025-07", 5200], ["2025-08", 5600], ["2025-09", 4700], ["2025-10", 4100], ["2025-11", 3800]]
    made = await sim.action(
        "create-account",
        account_number=DEMO_ACCOUNT[0],
        verification=DEMO_ACCOUNT[1],
        holder="Demo Citizen",
        usage=usage,
    )
    # a bill history for the demo's utility widget: two paid, the latest open
    for _ in range(2):
        await sim.action("issue-bill", account_number=DEMO_ACCOUNT[0])
    await sim.action("record-payment", account_number=DEMO_ACCOUNT[0])
    await sim.action("issue-bill", account_number=DEMO_ACCOUNT[0])
    parcel = made["parcel_id"]
    await _call(
        http,
        "POST",
        f"{admin}/addresses",
        json={"addresses": [{"property_id": parcel, "line": "1 Civic Center Plaza"}]},
    )
    await _call(http, "PUT", f"{admin}/address-setup", json={"complete": True})
    link = await _call(http, "POST", f"{admin}/link-accounts", json={"name": "Utility account", "kind": "account"})
    widgets = {}
    for domain, name, extra in WIDGETS:
        body = {
            "name": name,
            "endpoint": f"{city_api}/{domain}",
            "key_id": domain,
            "secret": CITY_API_SECRET,
            "published": True,
            **extra,
        }
        if domain == "utilities":
            body["link_account_id"] = link["id"]
        widgets[domain] = await _call(http, "POST", f"{admin}/widgets", json=body)
    # POST /portal/v1/citizens, then the code mailed to the address (the admin mail catcher), confirmed
    citizen = await sign_up(
        http, gateway, admin_token, {"email": DEMO_CITIZEN[0], "password": DEMO_CITIZEN[1], "name": "Demo Citizen"}
    )
    portal = {"Authorization": f"Bearer {citizen['token']}"}
    await _call(http, "PATCH", f"{gateway}/portal/v1/me", json={"property_id": parcel}, headers=portal)
    await _call(
        http,
        "POST",
        f"{gateway}/portal/v1/widgets/{widgets['utilities']['id']}/links",
        json={"account_number": DEMO_ACCOUNT[0], "verification": DEMO_ACCOUNT[1]},
        headers=portal,
    )
    return widgets
