"""Provider states (Pact's name for them): a check names the state of the vendor's data it needs — a scenario
from the library (contracts/scenarios/) — and the target simulator plays it for that check: loaded before
(`POST /_sim/scenario`), dropped after (`DELETE /_sim/scenario`, back to the seeded data). A real server has no
control plane, so a check that needs a state is skipped there, naming the state: a vendor's certificate never
fails for lacking /_sim/.

One fixture for every vendor suite: each suite's conftest makes its own from its target,

    provider_state = state_fixture("og", control=lambda og: f"{og.url}/_sim" if og.control else None)

and a check asks for it by name:

    @pytest.mark.provider_state("opengov-request-catalogue")
    def test_...(og, provider_state): ...   # provider_state: the Scenario being played
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests

from conformance.wanting import needs_state
from contracts.scenario import Scenario, ScenarioError, library_scenario

TIMEOUT_S = 60


def state_named(item: pytest.Item) -> str | None:
    mark = item.get_closest_marker("provider_state")
    return mark.args[0] if mark is not None and mark.args else None


@contextmanager
def playing(control: str | None, name: str) -> Iterator[Scenario]:
    """The library scenario `name` played by the simulator whose control plane is at `control` (its `/_sim`
    URL; None for a server without one) for as long as the block runs."""
    if control is None:
        pytest.skip(needs_state(name, " (a library scenario a simulator plays); no /_sim/ here"))
    try:
        scenario = library_scenario(name)
    except ScenarioError as exc:
        raise pytest.UsageError(f"provider state {name!r}: {exc}") from None
    resp = requests.post(f"{control}/scenario", json=dict(scenario.document), timeout=TIMEOUT_S)
    if resp.status_code == 404:
        pytest.skip(needs_state(name, "; this simulator plays no scenarios"))
    assert resp.status_code == 200, f"provider state {name!r} refused: {resp.text[:500]}"
    try:
        yield scenario
    finally:
        requests.delete(f"{control}/scenario", timeout=TIMEOUT_S)


def state_fixture(
    target: str,
    control: Callable[[Any], str | None],
    afresh: Callable[[pytest.FixtureRequest, Any], None] | None = None,
) -> Any:
    """A `provider_state` fixture for a suite whose target is the fixture `target`: `control` gives the
    target's control plane (`.../_sim`, or None on a real server); `afresh(request, target)` runs after the
    state is loaded and again after it is dropped — playing one starts the site afresh, so whatever the suite
    set up on the seeded site (a sign-in, test accounts) is set up again."""

    @pytest.fixture
    def provider_state(request: pytest.FixtureRequest) -> Iterator[Scenario]:
        name = state_named(request.node)
        if name is None:
            raise pytest.UsageError(f"{request.node.nodeid} asks for provider_state but names none (mark it)")
        found = request.getfixturevalue(target)
        with playing(control(found), name) as scenario:
            if afresh is not None:
                afresh(request, found)
            yield scenario
        if afresh is not None:
            afresh(request, found)

    return provider_state
