"""What every vendor profile answers; the defaults fit an API whose errors are HTTP statuses with a JSON body."""

from __future__ import annotations

from typing import Any

from ..exchange import NOT_JSON, Request, Response
from ..mutation import Mutation

# An error answered with another status: a neighbour a careless server could pick.
OTHER_STATUS = {400: 422, 401: 403, 403: 401, 404: 400, 409: 400, 422: 400, 429: 503}


class Vendor:
    name = ""  # the provider suite certify runs
    contract = ""  # contracts/<contract>.yaml
    case_insensitive = False  # does the server match paths in any casing (the proxy's operation matching)
    mount = ""  # a prefix before every contract path on the simulator
    catch_all: tuple[str, ...] = ()  # the requirement IDs a generated mutation of no mapped operation attacks
    by_family: dict[str, tuple[str, ...]] = {}  # operation family -> the requirement IDs its mutations attack

    # -- how the contract's operations pair up, and which a version serves ------------------------------------

    def family(self, operation_id: str) -> str:
        return operation_id

    def serves(self, versions: list[str] | None, version: str | None) -> bool:
        return True

    def requirements(self, family: str) -> tuple[str, ...]:
        return self.by_family.get(family, self.catch_all)

    # -- a trial's setting --------------------------------------------------------------------------------

    def default_version(self) -> str | None:
        return None

    def simulator_options(self, version: str | None) -> dict[str, Any]:
        return {"seed": 5}

    def certify_args(self, version: str | None, sim_url: str) -> list[str]:
        """The options certify needs against this simulator (`sim_url`: its own address, for what a site's
        administrator would arrange there, e.g. test accounts)."""
        return []

    def url_of(self, proxy_url: str) -> str:
        return proxy_url

    # -- the wire's dialect -------------------------------------------------------------------------------

    def is_error(self, resp: Response) -> bool:
        return resp.status >= 400

    def error_status(self, resp: Response) -> Response:
        return resp.with_status(OTHER_STATUS.get(resp.status, 500))

    def error_shape(self, resp: Response) -> Response:
        body = resp.json()
        text = str(body)[:200] if body is not NOT_JSON else resp.body[:200].decode("utf-8", "replace")
        return resp.with_json({"error": text}).with_header("Content-Type", "application/json")

    def as_success(self, req: Request, resp: Response, example: Any) -> Response:
        value = example if example is not None else {}
        return resp.with_status(200).with_json(value).with_header("Content-Type", "application/json")

    def strip(self, req: Request, where: str, name: str) -> Request:
        """The request without the parameter, as a server that ignores it would read it."""
        if where == "param":  # the query and a form body: a server that ignores it reads neither
            params, form = req.params(), req.form()
            if any(k == name for k, _ in params):
                req = req.with_params([(k, v) for k, v in params if k != name])
            if any(k == name for k, _ in form):
                req = req.with_form([(k, v) for k, v in form if k != name])
            return req
        if where == "json":
            body = req.json()
            if isinstance(body, dict) and name in body:
                return req.with_json({k: v for k, v in body.items() if k != name})
        return req

    def learn(self, req: Request, resp: Response, memo: dict[str, Any]) -> None:
        """Note what the conversation tells (credentials the server issued), for `authorize`."""

    def authorize(self, req: Request, memo: dict[str, Any], missing: bool) -> Request:
        """The request with valid credentials when it came without any (`missing`) or with wrong ones
        (not `missing`), as a server that does not check them would treat it; else unchanged."""
        return req

    # -- mutations written for this vendor -------------------------------------------------------------------

    def written(self, version: str | None) -> list[Mutation]:
        return []
