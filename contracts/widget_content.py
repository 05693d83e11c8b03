"""Is a city's answer valid widget content? The contract's schema plus the rules a schema cannot say
(one chart value per label, table cells shaped as their column's type). Each problem comes with its JSON
path, so a vendor (or the portal's Test API) sees exactly what to fix."""

from __future__ import annotations

import functools
import re
from typing import Any

import jsonschema_rs

from . import load_contract

CELL_SHAPES = {
    "text": lambda v: isinstance(v, str),
    "date": lambda v: isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) is not None,
    "money": lambda v: isinstance(v, dict) and {"amount", "currency"} <= set(v),
    "status": lambda v: isinstance(v, dict) and {"code", "label", "tone"} <= set(v),
    "link": lambda v: isinstance(v, dict) and {"url", "label"} <= set(v),
}


@functools.cache
def _validator(schema_name: str) -> Any:
    contract = load_contract("city-widget")
    return jsonschema_rs.Draft202012Validator(
        {"$ref": f"#/components/schemas/{schema_name}", "components": contract["components"]}
    )


def _path(parts: Any) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def schema_problems(schema_name: str, value: Any) -> list[tuple[str, str]]:
    """(JSON path, message) for each way `value` breaks the contract's schema `schema_name`."""
    return [(_path(e.instance_path), e.message) for e in _validator(schema_name).iter_errors(value)]


def content_problems(value: Any, view: str | None = None) -> list[tuple[str, str]]:
    problems = schema_problems("Content", value)
    if problems or not isinstance(value, dict):
        return problems
    if view is not None and value.get("view") != view:
        problems.append(("$.view", f"asked for the {view} view, got {value.get('view')!r}"))
    for b, block in enumerate(value.get("blocks", [])):
        where = f"$.blocks[{b}]"
        if block["type"] == "chart":
            for s, series in enumerate(block["series"]):
                if len(series["values"]) != len(block["labels"]):
                    problems.append(
                        (
                            f"{where}.series[{s}].values",
                            f"{len(series['values'])} values for {len(block['labels'])} labels",
                        )
                    )
        else:
            columns = {c["key"]: c["type"] for c in block["columns"]}
            for r, row in enumerate(block["rows"]):
                for key, cell in row.items():
                    if key not in columns:
                        problems.append((f"{where}.rows[{r}].{key}", "no column has this key"))
                    elif cell is not None and not CELL_SHAPES[columns[key]](cell):
                        problems.append((f"{where}.rows[{r}].{key}", f"not a {columns[key]} value"))
    return problems
