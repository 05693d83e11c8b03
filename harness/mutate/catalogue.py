"""A vendor's mutation catalogue: generated from its contract, operation by operation, then its written ones.

Generated, for each operation family (GET/POST twins and path variants together) the version serves:
- `drop:<op>:<field>`      a field every success answer carries (required in each branch) is left out
- `retype:<op>:<field>`    that field comes back as another JSON type
- `ignore:<op>:<param>`    a documented query or body parameter is ignored (stripped before the server sees it)
- `reorder:<op>`           a list whose order the operation documents comes back reversed
- `error-status:<op>`      an error answered with another status
- `error-shape:<op>`       an error answered in another shape
- `error-as-success:<op>`  a documented error answered as success (the success example, else empty)
- `no-auth:<op>`           a call without credentials is served
- `wrong-auth:<op>`        a call with wrong credentials is served
Credentials (`token`) are left to the auth mutations rather than ignored as parameters.
"""

from __future__ import annotations

from typing import Any

from contracts import load_contract

from .contract_facts import Facts, Reader
from .exchange import NOT_JSON, Request, Response
from .mutation import GENERATED, Mutation, drop_key, map_key, reverse_lists, wrong_value
from .vendors import Vendor

CREDENTIALS = frozenset({"token", "password"})


def catalogue(v: Vendor, version: str | None) -> list[Mutation]:
    families = Reader(load_contract(v.contract)).families(v.family)
    out: list[Mutation] = []
    for facts in families.values():
        if v.serves(facts.versions, version):
            out += generated(v, facts)
    return out + v.written(version)


def generated(v: Vendor, f: Facts) -> list[Mutation]:
    ops, ids, name = frozenset(f.operations), v.requirements(f.family), f.family
    out: list[Mutation] = []

    def add(kind: str, detail: str | None, what: str, **fns: Any) -> None:
        mid = f"{kind}:{name}" + (f":{detail}" if detail else "")
        out.append(Mutation(mid, GENERATED, ops, what, ids, **fns))

    for field, types in f.required.items():
        add("drop", field, f"{name} answers without `{field}`", response=_on_success(v, _drop(field)))
        if types:
            add(
                "retype",
                field,
                f"{name} answers `{field}` as another type",
                response=_on_success(v, _retype(field, types)),
            )
    for where, param in f.params:
        if param.lower() not in CREDENTIALS:
            add("ignore", param, f"{name} ignores its {where} parameter `{param}`", request=_strip(v, where, param))
    if f.ordered:
        add("reorder", None, f"{name} answers its list in reverse order", response=_on_success(v, reverse_lists))
    add("error-status", None, f"{name} answers an error with another status", response=_on_error(v, v.error_status))
    add("error-shape", None, f"{name} answers an error in another shape", response=_on_error(v, v.error_shape))
    success = _error_as_success(v, f.success_example)
    add("error-as-success", None, f"{name} answers an error as success", response=success)
    if f.secured:
        add("no-auth", None, f"{name} serves a call without credentials", request=_auth(v, missing=True))
        add("wrong-auth", None, f"{name} serves a call with wrong credentials", request=_auth(v, missing=False))
    return out


def _on_success(v: Vendor, change: Any) -> Any:
    def response(req: Request, resp: Response, memo: dict[str, Any]) -> Response:
        body = resp.json()
        if resp.status >= 300 or body is NOT_JSON or v.is_error(resp):
            return resp
        return resp.with_json(change(body))

    return response


def _on_error(v: Vendor, change: Any) -> Any:
    def response(req: Request, resp: Response, memo: dict[str, Any]) -> Response:
        return change(resp) if v.is_error(resp) else resp

    return response


def _error_as_success(v: Vendor, example: Any) -> Any:
    def response(req: Request, resp: Response, memo: dict[str, Any]) -> Response:
        return v.as_success(req, resp, example) if v.is_error(resp) else resp

    return response


def _drop(field: str) -> Any:
    return lambda body: drop_key(body, field)


def _retype(field: str, types: list[str]) -> Any:
    bad = wrong_value(types)
    return lambda body: map_key(body, field, lambda _: bad)


def _strip(v: Vendor, where: str, param: str) -> Any:
    return lambda req, memo: v.strip(req, where, param)


def _auth(v: Vendor, missing: bool) -> Any:
    return lambda req, memo: v.authorize(req, memo, missing)
