"""Where the suites live, so the CLI, CI and a vendor's own pytest run find the same ones."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent
PROVIDERS = ROOT / "providers"
GATEWAY = ROOT / "gateway"


def _has_checks(path: Path) -> bool:
    return path.is_dir() and any(path.glob("test_*.py"))


def provider_suites() -> dict[str, Path]:
    """Built provider suites by name (`cityworks`, `opengov`, ...)."""
    return {p.name.replace("_", "-"): p for p in sorted(PROVIDERS.iterdir()) if _has_checks(p)}


def all_suites() -> dict[str, Path]:
    suites = provider_suites()
    if _has_checks(GATEWAY):
        suites["gateway"] = GATEWAY
    return suites


def select(names: list[str] | None) -> dict[str, Path]:
    """`providers`, `gateway` or suite names; none means every built suite."""
    available = all_suites()
    if not names:
        return available
    chosen: dict[str, Path] = {}
    for name in names:
        if name == "providers":
            chosen.update(provider_suites())
        elif name in available:
            chosen[name] = available[name]
        else:
            raise LookupError(f"no suite {name!r}; built: {', '.join(available) or 'none'}")
    return chosen
