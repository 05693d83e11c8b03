"""Scenarios: a city's vendor systems as a file (`scenario.schema.json`, version 1) — pure parsing and checking.

A scenario holds each vendor's configuration and records and a timeline of vendor-side events. This module
reads one (YAML or JSON text, a file, a directory of files, or a library name) into a frozen `Scenario`, or
refuses it with every problem named by its JSON path (`$.timeline[2].at: ...`). Applying it to a simulator is
the simulator kit's business (`simulators/kit/scenario.py`); reading the city from it is everyone's, which is
why it lives with the contracts: the suites and load profiles read the demo city here, not from a simulator.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

SCHEMA_PATH = Path(__file__).resolve().parent / "scenario.schema.json"
LIBRARY_DIR = Path(__file__).resolve().parent / "scenarios"
VERSION = 1
VENDORS = ("cityworks", "opengov", "city-api", "arcgis")
MAX_BYTES = 20_000_000
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


class ScenarioError(ValueError):
    """A scenario that cannot be used, with each problem as `<JSON path>: <what is wrong>`."""

    def __init__(self, problems: Sequence[str], source: str = "scenario") -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__(f"{source}: " + "; ".join(self.problems))


@dataclass(frozen=True, slots=True)
class City:
    name: str
    boundary: tuple[tuple[float, float], ...]  # closed ring, WGS84 (lon, lat)
    state: str = ""
    state_name: str = ""
    county: str = ""
    timezone: str = "UTC"
    postal_codes: tuple[str, ...] = ("00000",)
    sample_point: Mapping[str, float] | None = None  # {"lat", "long"}: a point inside, where reports are sent

    def geometry(self) -> dict[str, Any]:
        """The boundary as a GeoJSON Polygon (what a gateway's geography upload takes)."""
        return {"type": "Polygon", "coordinates": [[list(p) for p in self.boundary]]}

    def point(self) -> dict[str, float]:
        """The sample point ({"lat", "long"}); without one, the mean of the boundary's corners."""
        if self.sample_point is not None:
            return dict(self.sample_point)
        corners = self.boundary[:-1]
        return {
            "lat": round(sum(lat for _, lat in corners) / len(corners), 6),
            "long": round(sum(lon for lon, _ in corners) / len(corners), 6),
        }


@dataclass(frozen=True, slots=True)
class Step:
    """One timeline event. `index` is its place in the file (0-based), for `$.timeline[i]` and reports."""

    index: int
    vendor: str
    name: str
    at_s: float | None = None  # time since the scenario started
    created: Mapping[str, Any] | None = None  # or: the client created a record with these fields
    listed: Mapping[str, Any] | None = None  # or: the client read a page of a listing with these values
    page: int = 1  # with `listed`: its Nth such page (counted from the scenario's start)
    after_polls: int = 0
    poll: str | None = None
    after_s: float = 0.0
    action: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    fault: Mapping[str, Any] | None = None
    for_s: float | None = None
    expire_sessions: bool = False
    clock_jump_s: float | None = None
    clock_set: datetime | None = None  # naive: the vendor's local time

    @property
    def label(self) -> str:
        return f"timeline[{self.index}] {self.name!r}"

    def describe(self) -> str:
        """What the step does, for a report line."""
        if self.action:
            return f"action {self.action}"
        if self.fault is not None:
            return f"fault {dict(self.fault)}" + (f" for {self.for_s:g} s" if self.for_s is not None else "")
        if self.expire_sessions:
            return "sessions expire"
        if self.clock_set is not None:
            return f"clock set to {self.clock_set.isoformat()}"
        return f"clock jumps {self.clock_jump_s:+g} s"


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    version: int = VERSION
    description: str = ""
    seed: int | None = None
    requirements: tuple[str, ...] = ()
    city: City | None = None
    vendors: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    timeline: tuple[Step, ...] = ()
    source: str = ""  # where it was read from, for messages
    document: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)  # as the file holds it

    def section(self, vendor: str) -> Mapping[str, Any] | None:
        return self.vendors.get(vendor)

    def steps_for(self, vendor: str) -> tuple[Step, ...]:
        return tuple(s for s in self.timeline if s.vendor == vendor)

    def step(self, name: str) -> Step:
        for s in self.timeline:
            if s.name == name:
                return s
        raise KeyError(f"{self.name}: no timeline step named {name!r}")


@functools.cache
def _validator() -> Any:
    return jsonschema_rs.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def json_path(parts: Iterable[str | int]) -> str:
    out = "$"
    for part in parts:
        out += (
            f"[{part}]"
            if isinstance(part, int)
            else (f".{part}" if re.fullmatch(r"[A-Za-z_][\w-]*", part) else f"[{json.dumps(part)}]")
        )
    return out


def parse_duration(value: Any, *, signed: bool = False) -> float:
    """Seconds from a number or text such as `30s`, `2m`, `1h30m`, `500ms` (`-1h` when signed)."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or text such as 30s, 2m, 1h30m")
    if isinstance(value, (int, float)):
        if value < 0 and not signed:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if not isinstance(value, str):
        raise ValueError("a duration is a number of seconds or text such as 30s, 2m, 1h30m")
    text = value.strip()
    sign = -1.0 if signed and text.startswith("-") else 1.0
    text = text.removeprefix("-") if signed else text
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"{value!r} is not a duration (e.g. 30s, 2m, 1h30m, 500ms)")
    return sign * sum(float(n) * _UNIT_S[u] for n, u in parts)


def parse_text(text: str | bytes, source: str = "scenario") -> Any:
    """YAML (JSON is YAML) into plain data; unreadable text is a ScenarioError at `$`."""
    if len(text) > MAX_BYTES:
        raise ScenarioError([f"$: larger than {MAX_BYTES} bytes"], source)
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except RecursionError:
        raise ScenarioError(["$: nested too deeply"], source) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise ScenarioError([f"$: not YAML{where}: {getattr(exc, 'problem', None) or exc}"], source) from None


def check(document: Any, source: str = "scenario") -> Scenario:
    """A parsed document as a `Scenario`, or a ScenarioError naming every problem by its JSON path."""
    if not isinstance(document, dict):
        raise ScenarioError(["$: a scenario is a mapping (version, name, city, vendors, timeline)"], source)
    if "version" in document and document["version"] != VERSION:
        raise ScenarioError(
            [f"$.version: {document['version']!r} is not a version this reader knows ({VERSION})"], source
        )
    problems = _step_problems(document.get("timeline"))
    flagged = {p.split(":")[0] for p in problems}
    for error in _validator().iter_errors(document):
        where = json_path(error.instance_path)
        # A step's own checks above say what its oneOf/allOf would, in words.
        if where in flagged and error.schema_path and error.schema_path[-1] in ("oneOf", "allOf"):
            continue
        problems.append(f"{where}: {error.message}")
    problems += _city_problems(document.get("city"))
    problems += _city_api_problems(document.get("vendors"))
    if problems:
        raise ScenarioError(sorted(set(problems), key=problems.index), source)
    return Scenario(
        name=document["name"],
        description=document.get("description", ""),
        seed=document.get("seed"),
        requirements=tuple(document.get("requirements", ())),
        city=_city(document["city"]) if "city" in document else None,
        vendors={k: v for k, v in (document.get("vendors") or {}).items() if v is not None},
        timeline=tuple(_step(i, raw) for i, raw in enumerate(document.get("timeline") or ())),
        source=source,
        document=document,
    )


def _step_problems(timeline: Any) -> list[str]:
    """What the schema's step rules mean, said plainly: one trigger, one effect, durations that parse."""
    if not isinstance(timeline, list):
        return []
    problems = []
    names: dict[str, int] = {}
    for i, raw in enumerate(timeline):
        if not isinstance(raw, dict):
            continue
        where = f"$.timeline[{i}]"
        triggers = [k for k in ("at", "when") if k in raw]
        if len(triggers) != 1:
            problems.append(f"{where}: give exactly one of at (a time) and when (what the client did)")
        effects = [k for k in ("action", "fault", "expire_sessions", "clock") if k in raw]
        if len(effects) != 1:
            problems.append(f"{where}: give exactly one of action, fault, expire_sessions and clock")
        for key in ("at", "for"):
            if key in raw:
                try:
                    parse_duration(raw[key])
                except ValueError as exc:
                    problems.append(f"{where}.{key}: {exc}")
        after = raw.get("after")
        when = raw.get("when")
        if isinstance(when, dict) and len({"created", "listed"} & set(when)) != 1:
            problems.append(f"{where}.when: give exactly one of created (a record) and listed (a page of a listing)")
        elif isinstance(when, dict) and "page" in when and "listed" not in when:
            problems.append(f"{where}.when: page counts pages of a listing: give it with listed")
        if isinstance(when, dict) and "listed" in when and isinstance(after, dict) and {"polls", "poll"} & set(after):
            problems.append(f"{where}.after: a listed page is its own moment: give when.page, not after.polls")
        if isinstance(after, dict) and "seconds" in after:
            try:
                parse_duration(after["seconds"])
            except ValueError as exc:
                problems.append(f"{where}.after.seconds: {exc}")
        clock = raw.get("clock")
        if isinstance(clock, dict) and "jump" in clock:
            try:
                parse_duration(clock["jump"], signed=True)
            except ValueError as exc:
                problems.append(f"{where}.clock.jump: {exc}")
        if isinstance(clock, dict) and isinstance(clock.get("set"), str):
            try:
                datetime.fromisoformat(clock["set"].replace("Z", "+00:00"))
            except ValueError:
                problems.append(f"{where}.clock.set: {clock['set']!r} is not a date and time (2026-03-08T01:58:00)")
        name = raw.get("name")
        if isinstance(name, str):
            if name in names:
                problems.append(f"{where}.name: {name!r} is also the name of timeline[{names[name]}]")
            names.setdefault(name, i)
    return problems


def _city_problems(city: Any) -> list[str]:
    if not isinstance(city, dict) or not isinstance(city.get("boundary"), list) or len(city["boundary"]) < 4:
        return []
    ring = city["boundary"]
    if ring[0] != ring[-1]:
        return ["$.city.boundary: a closed ring: the last point repeats the first"]
    return []


def _city_api_problems(vendors: Any) -> list[str]:
    """What the city API section's schema cannot say: ids unique within each listing, link ids unique, and one
    engagement source (its listings or the city's own HTML, not both)."""
    section = vendors.get("city-api") if isinstance(vendors, dict) else None
    if not isinstance(section, dict):
        return []
    where = "$.vendors.city-api"
    problems = []
    listings = section.get("listings") if isinstance(section.get("listings"), dict) else {}
    for widget, listing in listings.items():
        problems += _duplicates(listing, "id", f"{where}.listings.{widget}")
    problems += _duplicates(section.get("links"), "link_id", f"{where}.links")
    problems += _duplicates(section.get("accounts"), "number", f"{where}.accounts")
    if "engagement_html" in section and listings.get("engagement"):
        problems.append(f"{where}.engagement_html: give the engagement widget's HTML or its listings, not both")
    return problems


def _duplicates(records: Any, key: str, where: str) -> list[str]:
    seen: dict[Any, int] = {}
    problems = []
    for i, record in enumerate(records if isinstance(records, list) else ()):
        value = record.get(key) if isinstance(record, dict) else None
        if value is None:
            continue
        if value in seen:
            problems.append(f"{where}[{i}].{key}: {value!r} is also {key} of [{seen[value]}]")
        seen.setdefault(value, i)
    return problems


def _city(raw: Mapping[str, Any]) -> City:
    return City(
        name=raw["name"],
        boundary=tuple((float(lon), float(lat)) for lon, lat in raw["boundary"]),
        state=raw.get("state", ""),
        state_name=raw.get("state_name", ""),
        county=raw.get("county", ""),
        timezone=raw.get("timezone", "UTC"),
        postal_codes=tuple(raw.get("postal_codes", ("00000",))),
        sample_point=dict(raw["sample_point"]) if "sample_point" in raw else None,
    )


def _step(index: int, raw: Mapping[str, Any]) -> Step:
    after = raw.get("after") or {}
    when = raw.get("when")
    return Step(
        index=index,
        vendor=raw["vendor"],
        name=raw.get("name", f"step {index + 1}"),
        at_s=parse_duration(raw["at"]) if "at" in raw else None,
        created=dict(when["created"]) if when and "created" in when else None,
        listed=dict(when["listed"]) if when and "listed" in when else None,
        page=when.get("page", 1) if when else 1,
        after_polls=after.get("polls", 0),
        poll=after.get("poll"),
        after_s=parse_duration(after["seconds"]) if "seconds" in after else 0.0,
        action=raw.get("action"),
        payload=dict(raw.get("payload") or {}),
        fault=dict(raw["fault"]) if "fault" in raw else None,
        for_s=parse_duration(raw["for"]) if "for" in raw else None,
        expire_sessions=bool(raw.get("expire_sessions", False)),
        clock_jump_s=parse_duration(raw["clock"]["jump"], signed=True) if "jump" in raw.get("clock", {}) else None,
        clock_set=datetime.fromisoformat(raw["clock"]["set"].replace("Z", "+00:00"))
        if "set" in raw.get("clock", {})
        else None,
    )


def loads(text: str | bytes, source: str = "scenario") -> Scenario:
    return check(parse_text(text, source), source)


def load(path: str | Path) -> Scenario:
    """A scenario file, a directory of them (merged: one vendor section per file at most), or a library name."""
    path = resolve(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
        if not files:
            raise ScenarioError([f"$: no .yaml, .yml or .json file in {path}"], str(path))
        return merge([load(p) for p in files], str(path), name=directory_name(path))
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise ScenarioError([f"$: cannot read {path}: {exc.strerror}"], str(path)) from None
    return loads(text, str(path))


def resolve(name: str | Path) -> Path:
    """A path as given, or a library scenario by name (`demo-city`)."""
    path = Path(name)
    if path.exists() or isinstance(name, Path) or "/" in str(name) or path.suffix:
        return path
    candidate = LIBRARY_DIR / f"{name}.yaml"
    if candidate.is_file():
        return candidate
    known = ", ".join(library()) or "none"
    raise ScenarioError([f"$: no file {name!r} and no library scenario of that name (library: {known})"], str(name))


def directory_name(path: Path) -> str | None:
    """A directory's name as a scenario name (`My City_2` -> `my-city-2`), or None when nothing of it fits."""
    slug = re.sub(r"[^a-z0-9]+", "-", path.resolve().name.lower()).strip("-")[:63].rstrip("-")
    return slug or None


def merge(parts: Sequence[Scenario], source: str, name: str | None = None) -> Scenario:
    """Several files as one city: vendor sections may not repeat; one city; timelines in file order. `name`: the
    merged scenario's (a directory's: each file's own name is its vendor's, e.g. captured-city-api); by default
    the first file's."""
    problems = []
    vendors: dict[str, Mapping[str, Any]] = {}
    owner: dict[str, str] = {}
    cities = [p.document["city"] for p in parts if p.city is not None]
    for part in parts:
        for vendor, section in part.vendors.items():
            if vendor in vendors:
                problems.append(f"$.vendors.{vendor}: in both {owner[vendor]} and {part.source}")
            vendors[vendor], owner[vendor] = section, part.source
    if any(c != cities[0] for c in cities):
        problems.append("$.city: the files describe different cities")
    if problems:
        raise ScenarioError(problems, source)
    steps: list[dict[str, Any]] = []
    for part in parts:
        steps += list(part.document.get("timeline") or ())
    document: dict[str, Any] = {
        "version": VERSION,
        "name": name or parts[0].name,
        "vendors": {k: dict(v) for k, v in vendors.items()},
        "timeline": steps,
    }
    seeds = {p.seed for p in parts if p.seed is not None}
    if seeds:
        document["seed"] = min(seeds)
    if cities:
        document["city"] = cities[0]
    return check(document, source)


def library() -> dict[str, Path]:
    """The scenarios that ship with civic-harness, by name."""
    return {p.stem: p for p in sorted(LIBRARY_DIR.glob("*.yaml"))}


@functools.cache
def library_scenario(name: str) -> Scenario:
    return load(LIBRARY_DIR / f"{name}.yaml")


def demo_city() -> City:
    """The demo city (Harnessville), as the library's demo-city scenario declares it."""
    city = library_scenario("demo-city").city
    assert city is not None, "the demo-city scenario declares its city"
    return city
