"""The connector for an integration row."""

from __future__ import annotations

from typing import Any

from ..connectors.cityworks import Cityworks
from ..connectors.http import Http, Rejected


def connector(http: Http, integration: dict[str, Any]) -> Cityworks:
    if integration["vendor"] == "cityworks":
        return Cityworks(
            http,
            integration["base_url"],
            integration["version"],
            integration["username"] or "",
            integration["secret"] or "",
            integration["login_url"],
        )
    raise Rejected(f"no connector for vendor {integration['vendor']!r} yet")


class Incomplete(Exception):
    """A job did its work but some of it could not be done (recorded as the run's errors, with its counts)."""

    def __init__(self, errors: list[str], counts: dict[str, int]) -> None:
        super().__init__("; ".join(errors))
        self.errors, self.counts = errors, counts
