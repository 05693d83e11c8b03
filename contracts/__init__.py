"""The OpenAPI 3.1 contracts: data read by simulators, gateway and conformance suites alike.

Each file is parsed once per process; callers get the same (read-only by convention) document.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

CONTRACTS_DIR = Path(__file__).resolve().parent


class ContractNotFound(LookupError):
    pass


def contract_path(name: str | Path) -> Path:
    """`"cityworks"`, `"cityworks.yaml"` or a path to any OpenAPI file."""
    if isinstance(name, Path) or "/" in str(name):
        path = Path(name)
    else:
        stem = str(name).removesuffix(".yaml")
        path = CONTRACTS_DIR / f"{stem}.yaml"
    if not path.is_file():
        raise ContractNotFound(f"no contract {name!r} (looked for {path})")
    return path


@functools.cache
def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def load_contract(name: str | Path) -> dict[str, Any]:
    return _load(contract_path(name).resolve())


def deref(document: dict[str, Any], node: Any) -> Any:
    """`node` with its local `$ref`s followed (at this node only; JSON Pointer escapes read)."""
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"only local $refs are supported, got {ref!r}")
        target: Any = document
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def bundled_contracts() -> list[Path]:
    return sorted(CONTRACTS_DIR.glob("*.yaml"))
