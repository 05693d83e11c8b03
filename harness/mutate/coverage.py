"""The pytest plugin a trial loads into certify's run (`-p harness.mutate.coverage`): it tells the trial's
proxy which check is running, so the baseline learns which checks call which operations, and it keeps only
the checks a mutation's operations could reach (`SELECT`), as mutation tools select tests by coverage."""

from __future__ import annotations

import pytest

from .tap import Tap

TAP: Tap | None = None
SELECT: frozenset[str] | None = None  # node ids to run; None: every check


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if TAP is not None:
        TAP.check = item.nodeid


def pytest_runtest_teardown(item: pytest.Item) -> None:
    if TAP is not None:
        TAP.check = None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if SELECT is None:
        return
    kept = [i for i in items if i.nodeid in SELECT]
    dropped = [i for i in items if i.nodeid not in SELECT]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
