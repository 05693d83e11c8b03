"""The demo city `up` serves: Harnessville's boundary as the geography, agencies with integrations to the
bundled simulators, categories and questions, set up through the gateway's own admin API as a city
administrator would. (Categories are created here; syncing them from the vendors is the sync jobs' work.)"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aiohttp
from shapely.geometry import mapping

from simulators.kit import city

DEMO_API_KEY = "harness-demo-key"
CATEGORIES = [
    ("POT", "Pothole", "Streets", "cityworks"),
    ("SL", "Streetlight out", "Streets", "cityworks"),
    ("GRAF", "Graffiti", "Parks", "opengov"),
    ("TRASH", "Missed trash pickup", "Sanitation", "opengov"),
]


class SeedError(RuntimeError):
    pass


async def _call(http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> Any:
    async with http.request(method, url, **kwargs) as resp:
        body = await resp.json()
        if resp.status not in (200, 201):
            raise SeedError(f"{method} {url} answered {resp.status}: {body}")
        return body


async def seed_demo_city(gateway: str, admin_token: str, simulators: Mapping[str, str]) -> dict[str, Any]:
    """Returns what was made, by name."""
    admin = f"{gateway}/admin/v1"
    headers = {"Authorization": f"Bearer {admin_token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        form = aiohttp.FormData()
        form.add_field("name", city.NAME)
        form.add_field("file", json.dumps(mapping(city.BOUNDARY)).encode(), filename=f"{city.NAME}.geojson")
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
                    "geocoder_url": simulators.get("arcgis"),
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
                },
            )
        categories = {}
        for code, name, group, vendor in CATEGORIES:
            categories[code] = await _call(
                http,
                "POST",
                f"{admin}/categories",
                json={"code": code, "name": name, "group": group, "agency_ids": [agencies[vendor]["id"]]},
            )
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
    return {"geography": geography, "integrations": integrations, "agencies": agencies, "categories": categories}
