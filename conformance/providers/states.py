"""Provider states (Pact's name for them): a check names the state of the vendor's data it needs — a scenario
from the library (contracts/scenarios/) — and the target simulator plays it for that check: loaded before
(`POST /_sim/scenario`), dropped after (`DELETE /_sim/scenario`, back to the seeded data). A real server has no
control plane, so a check that needs a state is skipped there, naming the state.

    @pytest.mark.provider_state("cityworks-hidden-catalogue")
    def test_...(cw, provider_state): ...   # provider_state: the Scenario being played
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from contracts.scenario import Scenario, ScenarioError, library_scenario

TIMEOUT_S = 60


def state_named(item: pytest.Item) -> str | None:
    mark = item.get_closest_marker("provider_state")
    return mark.args[0] if mark is not None and mark.args else None


@contextmanager
def playing(url: str, name: str, control: bool) -> Iterator[Scenario]:
    """The library scenario `name` played by the simulator at `url` for as long as the block runs."""
    if not control:
        pytest.skip(f"needs the provider state {name!r} (a library scenario a simulator plays); no /_sim/ here")
    try:
        scenario = library_scenario(name)
    except ScenarioError as exc:
        raise pytest.UsageError(f"provider state {name!r}: {exc}") from None
    resp = requests.post(f"{url}/_sim/scenario", json=dict(scenario.document), timeout=TIMEOUT_S)
    if resp.status_code == 404:
        pytest.skip(f"needs the provider state {name!r}; this simulator plays no scenarios")
    assert resp.status_code == 200, f"provider state {name!r} refused: {resp.text[:500]}"
    try:
        yield scenario
    finally:
        requests.delete(f"{url}/_sim/scenario", timeout=TIMEOUT_S)
