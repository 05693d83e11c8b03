"""ArcGIS reverseGeocode (the World Geocoder or a customer's GeocodeServer URL)."""

from __future__ import annotations

from .http import Http, Rejected


class Geocoder:
    def __init__(self, http: Http, service_url: str) -> None:
        self.http, self.url = http, service_url.rstrip("/")

    async def reverse(self, lon: float, lat: float) -> str:
        """The address at the point; Rejected when the locator has none (its `error` object, HTTP 200)."""
        async with self.http.observed("arcgis", "reverseGeocode"):
            reply = await self.http.request(
                "GET",
                f"{self.url}/reverseGeocode",
                idempotent=True,
                params={"location": f"{lon},{lat}", "f": "json", "outSR": "4326"},
            )
            body = reply.json()
            if not isinstance(body, dict) or "error" in body or reply.status >= 400:
                error = body.get("error", {}) if isinstance(body, dict) else {}
                details = "; ".join(str(d) for d in error.get("details") or [])
                raise Rejected(f"geocoder: {error.get('message') or f'HTTP {reply.status}'} {details}".strip())
            address = body.get("address") or {}
            text = address.get("Match_addr") or address.get("LongLabel") or address.get("Address")
            if not text:
                raise Rejected("geocoder answered without an address")
            return str(text)[:500]
