"""The dependency rules of docs/ARCHITECTURE.md, checked on the import graph of the first-party packages
(every import, those inside functions too; only `if TYPE_CHECKING:` imports are left out, as they never
run). A rule broken here is a layer leaking into another, found before it grows."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("contracts", "simulators", "gateway", "conformance", "harness", "loadtests")
SIM_VENDORS = ("cityworks", "opengov", "arcgis", "city_api")
GATEWAY_IO = ("gateway.api", "gateway.portal", "gateway.sync", "gateway.storage", "gateway.connectors")
IO_LIBRARIES = ("aiohttp", "sqlalchemy", "aiosqlite", "asyncpg", "requests")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: Path) -> Iterator[str]:
    """Every name an import statement of the file reaches (`from a import b` -> `a.b`), made absolute."""
    module = module_name(path)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: list[str] = []

    class Imports(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            test = node.test
            if getattr(test, "id", None) == "TYPE_CHECKING" or getattr(test, "attr", None) == "TYPE_CHECKING":
                for child in node.orelse:
                    self.visit(child)
                return
            self.generic_visit(node)

        def visit_Import(self, node: ast.Import) -> None:
            found.extend(alias.name for alias in node.names)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.extend(f"{target}.{alias.name}" for alias in node.names)

    Imports().visit(ast.parse(path.read_text(encoding="utf-8")))
    yield from found


@cache
def graph() -> dict[str, frozenset[str]]:
    """module -> the modules (first-party) and top-level libraries (third-party) it imports."""
    files = {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}

    def resolve(name: str) -> str:
        probe = name
        while probe and probe not in files:
            probe = probe.rpartition(".")[0]
        return probe or name.split(".")[0]

    return {m: frozenset(resolve(n) for n in imported_names(p)) - {m} for m, p in files.items()}


def within(module: str, *prefixes: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def breaking(importer: tuple[str, ...], rule) -> list[str]:  # type: ignore[no-untyped-def]
    """`importer -> imported` pairs where `rule(importer, imported)` says the import is not allowed."""
    return sorted(
        f"{m} -> {t}" for m, targets in graph().items() if within(m, *importer) for t in targets if rule(m, t)
    )


def test_no_import_cycle():
    edges = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges.get(v, ()):
            if w not in edges:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    assert cycles == []


FIRST_PARTY = PACKAGES


@pytest.mark.parametrize(
    ("layer", "rule", "why"),
    [
        (("contracts",), lambda m, t: within(t, *FIRST_PARTY) and not within(t, "contracts"), "contracts are data"),
        (
            ("simulators.kit",),
            lambda m, t: within(t, *FIRST_PARTY) and not within(t, "simulators.kit", "contracts"),
            "the kit knows no simulator",
        ),
        *[
            (
                (f"simulators.{vendor}",),
                lambda m, t, v=vendor: (
                    within(t, *FIRST_PARTY) and not within(t, f"simulators.{v}", "simulators.kit", "contracts")
                ),
                "a simulator imports the kit and nothing of another",
            )
            for vendor in SIM_VENDORS
        ],
        (
            ("gateway",),
            lambda m, t: within(t, "simulators", "conformance", "harness", "loadtests"),
            "the gateway knows vendors through its connectors and the contracts only",
        ),
        (
            ("gateway.domain",),
            lambda m, t: within(t, *IO_LIBRARIES, *GATEWAY_IO, "gateway.vendors", "gateway.app", "gateway.appkeys"),
            "domain rules take values and return values: no I/O",
        ),
        (
            ("gateway.sync",),
            lambda m, t: within(t, "gateway.api", "gateway.portal", "gateway.app", "gateway.appkeys", "aiohttp"),
            "jobs take a context, not the web application, and know no API or portal",
        ),
        (
            ("gateway.vendors",),
            lambda m, t: within(t, "gateway.api", "gateway.portal", "gateway.sync", "gateway.storage"),
            "a vendor side speaks to its vendor through a connector; what the gateway stores is the jobs' business",
        ),
        (
            ("conformance",),
            lambda m, t: within(t, "gateway", "simulators"),
            "the suites reach implementations over HTTP only (the demo city is a library scenario in contracts/)",
        ),
        (
            ("loadtests",),
            lambda m, t: within(t, "gateway", "simulators"),
            "load profiles reach what they load over HTTP (the demo city is a library scenario in contracts/)",
        ),
        (
            PACKAGES,
            lambda m, t: within(t, "harness") and not within(m, "harness", "conformance", "loadtests"),
            "harness sits on top: only conformance and loadtests use it (for Stack)",
        ),
    ],
    ids=lambda x: x if isinstance(x, str) else None,
)
def test_dependency_rule(layer, rule, why):
    assert breaking(layer, rule) == [], why
