"""A small simulator that exists only to test the kit over real HTTP (not a vendor API)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aiohttp import web

from simulators.kit import Action, ActionError, Dialect, Seeder, SimulatorSpec, backend


def error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


class ItemStore:
    seed_sizes: Mapping[str, int] = {"items": 20}

    def __init__(self) -> None:
        self.items: dict[int, dict[str, Any]] = {}
        self.next_id = 1

    def add(self, title: str, tags: list[str]) -> dict[str, Any]:
        item = {"id": self.next_id, "title": title, "tags": tags}
        self.items[self.next_id] = item
        self.next_id += 1
        return item

    def counts(self) -> Mapping[str, int]:
        return {"items": len(self.items)}

    def snapshot(self) -> Any:
        return list(self.items.values())


async def list_items(request: web.Request) -> web.Response:
    store: ItemStore = backend(request)
    limit, offset = int(request.query.get("limit", 10)), int(request.query.get("offset", 0))
    items = list(store.items.values())
    return web.json_response({"items": items[offset : offset + limit], "total": len(items)})


async def create_item(request: web.Request) -> web.Response:
    store: ItemStore = backend(request)
    body = await request.json()
    return web.json_response(store.add(body["title"], body.get("tags", [])), status=201)


async def get_item(request: web.Request) -> web.Response:
    store: ItemStore = backend(request)
    item = store.items.get(int(request.match_info["item_id"]))
    return web.json_response(item) if item else error(404, "not_found", "no such item")


async def login(request: web.Request) -> web.Response:
    data = json.loads((await request.post())["data"])
    return web.json_response({"token": f"tok-{data['LoginName']}"})


async def upload(request: web.Request) -> web.Response:
    form = await request.post()
    content = form["file"].file.read()
    return web.json_response({"size": len(content), "sha256": hashlib.sha256(content).hexdigest()})


async def broken(request: web.Request) -> web.Response:
    return web.json_response({"wrong": True})


ROUTES = [
    web.get("/api/items", list_items),
    web.post("/api/items", create_item),
    web.get("/api/items/{item_id}", get_item),
    web.post("/api/login", login),
    web.post("/api/upload", upload),
    web.get("/api/broken", broken),
]


def rename(store: ItemStore, payload: dict[str, Any]) -> dict[str, Any]:
    item = store.items.get(payload["id"])
    if item is None:
        raise ActionError(404, "not_found", f"no item {payload['id']}")
    item["title"] = payload["title"]
    return item


def seed_items(state: ItemStore, seed: int, sizes: Mapping[str, int]) -> None:
    seeder = Seeder(seed)
    for _ in range(sizes["items"]):
        state.add(seeder.pick("catch_phrase"), [seeder.pick("word")])


SPEC = SimulatorSpec(
    name="kit-test",
    contract=Path(__file__).with_name("contract.yaml"),
    dialect=Dialect(error=error),
    new_backend=lambda config: ItemStore(),
    seed=seed_items,
    routes=ROUTES,
    actions=(
        Action(
            "rename-item",
            rename,
            schema={
                "type": "object",
                "required": ["id", "title"],
                "additionalProperties": False,
                "properties": {"id": {"type": "integer"}, "title": {"type": "string", "minLength": 1}},
            },
            description="Rename an item, as an operator would in the vendor's UI.",
        ),
    ),
    description="test-only simulator for the kit",
)
