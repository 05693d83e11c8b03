"""Deterministic seed data for the six widget domains, all inside the demo city: properties with tax bills,
utility accounts with bills and usage, programs, jobs, volunteer and engagement opportunities."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from simulators.kit import Seeder
from simulators.kit import city as demo_city
from simulators.kit.seeding import EPOCH

if TYPE_CHECKING:
    from .state import CityState

TODAY = EPOCH.date()  # the simulator's "today" for seeded data, so content (and its ETag) is reproducible
TAX_RATE = Decimal("0.01135")
STREET_TYPES = ("St", "Ave", "Rd", "Blvd", "Dr", "Ln", "Ct", "Way")
PLACES = (
    "Harnessville Community Center",
    "Pullen Park",
    "Lake Johnson Pool",
    "Eastside Library",
    "Riverside Recreation Center",
    "City Hall Annex",
    "Greenway Pavilion",
)
PROGRAMS = (
    ("Youth Soccer", "Sports"),
    ("Adult Swim Lessons", "Aquatics"),
    ("Pottery Basics", "Arts"),
    ("Senior Yoga", "Fitness"),
    ("Summer Day Camp", "Camps"),
    ("Tennis Clinic", "Sports"),
    ("Coding for Teens", "Education"),
    ("Nature Walk", "Outdoors"),
    ("Watercolor Workshop", "Arts"),
    ("Toddler Storytime", "Education"),
)
DEPARTMENTS = ("Public Works", "Parks and Recreation", "Utilities", "Finance", "Police", "Fire", "Planning")
VOLUNTEER = (
    "Greenway Cleanup",
    "Library Reading Buddy",
    "Park Tree Planting",
    "Food Pantry Shift",
    "Adopt-a-Street",
    "Senior Center Companion",
    "Festival Crew",
)
ENGAGEMENT = (
    ("City Council meeting", "meeting"),
    ("Budget survey", "survey"),
    ("Transit plan workshop", "workshop"),
    ("Parks master plan open house", "meeting"),
    ("Downtown parking survey", "survey"),
)


def money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def seed_state(state: CityState, seed: int, sizes: Mapping[str, int]) -> None:
    s = Seeder(seed)
    rng = s.rng
    streets = [f"{s.faker.last_name()} {STREET_TYPES[i % len(STREET_TYPES)]}" for i in range(60)]
    # City Hall's parcel sits on the demo city's sample point, the address the geocoder gives there.
    points = [(demo_city.SAMPLE_POINT["long"], demo_city.SAMPLE_POINT["lat"])]
    points += demo_city.random_points(rng, max(0, sizes["properties"] - 1))
    for n, (lon, lat) in enumerate(points[: sizes["properties"]]):
        address = "1 Civic Center Plaza" if n == 0 else f"{rng.randrange(1, 9999)} {streets[rng.randrange(60)]}"
        parcel = f"{1700 + n // 1000:04d}-{rng.randrange(10, 99)}-{n % 1000:04d}"
        assessed = Decimal(rng.randrange(90_000, 900_000))
        values = []
        for year in range(TODAY.year - 5, TODAY.year):
            values.append((year, assessed))
            assessed = (assessed * Decimal(1 + rng.uniform(0.0, 0.08))).quantize(Decimal(1))
        bills = []
        for year, value in values:
            amount = (value * TAX_RATE).quantize(Decimal("0.01"))
            last = year == TODAY.year - 1
            paid = amount if not last or rng.random() < 0.6 else Decimal(0)
            bills.append({"year": year, "amount": money(amount), "paid": money(paid), "due": f"{year + 1}-01-05"})
        state.add_property(
            {
                "parcel_id": parcel,
                "address": address,
                "postal": demo_city.POSTAL_CODES[n % len(demo_city.POSTAL_CODES)],
                "lon": lon,
                "lat": lat,
                "assessed": [[y, money(v)] for y, v in values],
                "bills": bills,
            }
        )

    parcels = list(state.properties)
    for n in range(sizes["accounts"]):
        parcel = parcels[rng.randrange(len(parcels))] if parcels else None
        bills, usage = [], []
        for m in range(12):
            first = date(TODAY.year - 1, m + 1, 1)
            gallons = rng.randrange(1500, 9000)
            amount = Decimal("18.50") + Decimal(gallons) * Decimal("0.0062")
            usage.append([first.strftime("%Y-%m"), gallons])
            due = (first + timedelta(days=45)).isoformat()
            paid = m < 11 or rng.random() < 0.5
            bills.append({"period": first.strftime("%Y-%m"), "amount": money(amount), "due": due, "paid": paid})
        state.add_account(
            {
                "number": f"UT-{1_000_000 + n * 7 + rng.randrange(7)}",
                "pin": f"{rng.randrange(1_000_000):06d}",
                "holder": f"{s.pick('first_name')} {s.pick('last_name')}",
                "parcel_id": parcel,
                "autopay": rng.random() < 0.3,
                "bills": bills,
                "usage": usage,
            }
        )

    for n in range(sizes["programs"]):
        name, kind = PROGRAMS[n % len(PROGRAMS)]
        start = TODAY + timedelta(days=rng.randrange(7, 120))
        state.listings["programs"].append(
            {
                "id": f"P{n + 1:04d}",
                "title": name if n < len(PROGRAMS) else f"{name} ({n // len(PROGRAMS) + 1})",
                "kind": kind,
                "place": PLACES[rng.randrange(len(PLACES))],
                "start": start.isoformat(),
                "end": (start + timedelta(weeks=rng.randrange(1, 10))).isoformat(),
                "fee": money(Decimal(rng.choice((0, 15, 25, 40, 60, 85)))),
                "spots": rng.randrange(0, 30),
            }
        )
    for n in range(sizes["jobs"]):
        low = rng.randrange(38, 95) * 1000
        state.listings["jobs"].append(
            {
                "id": f"J{n + 1:04d}",
                "title": s.pick("job")[:80],
                "department": DEPARTMENTS[rng.randrange(len(DEPARTMENTS))],
                "salary": f"${low:,} - ${int(low * 1.35):,}",
                "closes": (TODAY + timedelta(days=rng.randrange(5, 60))).isoformat(),
            }
        )
    for n in range(sizes["volunteer"]):
        state.listings["volunteer"].append(
            {
                "id": f"V{n + 1:04d}",
                "title": VOLUNTEER[n % len(VOLUNTEER)],
                "place": PLACES[rng.randrange(len(PLACES))],
                "date": (TODAY + timedelta(days=rng.randrange(3, 90))).isoformat(),
                "hours": rng.choice((2, 3, 4)),
            }
        )
    for n in range(sizes["engagement"]):
        title, kind = ENGAGEMENT[n % len(ENGAGEMENT)]
        state.listings["engagement"].append(
            {
                "id": f"E{n + 1:04d}",
                "title": title,
                "kind": kind,
                "place": PLACES[rng.randrange(len(PLACES))],
                "date": (TODAY + timedelta(days=rng.randrange(3, 60))).isoformat(),
            }
        )


def public_url(kind: str, item_id: str) -> str:
    return f"https://harnessville.example/{kind}/{item_id}"


Record = dict[str, Any]
