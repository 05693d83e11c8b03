"""Progress for the long commands (load, campaign): a bar on a terminal, a line every few seconds in a log."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from harness import progress
from harness.progress import Shown, seconds


@pytest.mark.parametrize(
    ("span", "expected"),
    [("90", 90.0), ("30s", 30.0), ("2m", 120.0), ("1h30m", 5400.0), ("1m30s", 90.0), ("soon", None), ("", None)],
)
def test_locust_timespans_read_as_seconds(span, expected):
    assert seconds(span) == expected


def test_on_a_terminal_a_bar_with_the_detail(monkeypatch):
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    with Shown("civic-harness load", 60.0, console) as shown:
        assert shown.terminal and shown.every_s == progress.TERMINAL_EVERY_S
        shown.update(30.0, "30 s, 1,200 requests (40/s), 0 failed")
    text = out.getvalue()
    assert "civic-harness load" in text and "50%" in text and "1,200 requests" in text
    assert "━" in text, "a drawn bar, not a line"


def test_in_a_log_a_plain_line_every_few_seconds(monkeypatch, capsys):
    clock = iter([100.0, 101.0, 105.0, 106.0])
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    with Shown("campaign", 500, Console(file=io.StringIO(), force_terminal=False)) as shown:
        assert not shown.terminal and shown.every_s == progress.LOG_EVERY_S
        for n in range(4):
            shown.update(n, f"{n} reports")
    assert capsys.readouterr().out.splitlines() == ["campaign: 0 reports", "campaign: 2 reports"]
