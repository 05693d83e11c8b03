"""The connector for an integration row: the one place that reads its URL and credentials."""

from __future__ import annotations

from typing import Any

from ..connectors.cityworks import Cityworks
from ..connectors.http import Http, Rejected
from ..connectors.opengov import Opengov


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
    raise Rejected(f"no Cityworks connector for vendor {integration['vendor']!r}")


def opengov_connector(http: Http, integration: dict[str, Any]) -> Opengov:
    if integration["vendor"] == "opengov":
        return Opengov(http, integration["base_url"], integration["username"] or "", integration["secret"] or "")
    raise Rejected(f"no OpenGov connector for vendor {integration['vendor']!r}")


class Incomplete(Exception):
    """A job did its work but some of it could not be done (recorded as the run's errors, with its counts)."""

    def __init__(self, errors: list[str], counts: dict[str, int]) -> None:
        super().__init__("; ".join(errors))
        self.errors, self.counts = errors, counts
