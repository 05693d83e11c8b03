"""Run `civic-harness certify` as a vendor would, against a bundled simulator started in this process."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.bundled import simulator_config
from harness.stack import ThreadedStack

ROOT = Path(__file__).resolve().parent.parent
VERDICT = re.compile(r"^([A-Z]+(?:-[A-Z]+)*-\d+)\s+(PASS|FAIL|SKIPPED|NOT COVERED)", re.M)


@contextmanager
def simulator(name: str, **options) -> Iterator[str]:
    with ThreadedStack({name: simulator_config(name, **options)}) as stack:
        yield stack.urls[name]


def certify(name: str, url: str, *args: str) -> tuple[int, str, dict[str, str]]:
    """(exit code, output, verdict per requirement ID)."""
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "certify", name, "--url", url, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return result.returncode, result.stdout + result.stderr, dict(VERDICT.findall(result.stdout))
