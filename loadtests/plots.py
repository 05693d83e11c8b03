"""The gateway's time series as one self-contained HTML page: inline SVG charts, no script, no stylesheet or
font from anywhere else, so it opens from a CI artefact, offline, under any Content-Security-Policy.

`page(report)` takes what `gateway_series.report` returns: per chart the lines, the thresholds that apply
to it as dashed lines, and the run's events (a kill: a vertical line; vendor faults on: a shaded window)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from .gateway_series import FIGURES

W, PLOT_H = 560, 184  # the SVG's own coordinates (it scales to the width it is given); the plot's height
LEFT, RIGHT, BOTTOM = 50, 14, 34
LEGEND_ROW = 16
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
Point = tuple[float, float | None]

CSS = """
body { font: 15px/1.4 system-ui, sans-serif; margin: 0 auto; padding: 12px; max-width: 1400px; color: #222; }
h1 { font-size: 1.3em; margin: 0.2em 0; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 520px), 1fr)); gap: 14px; }
figure { margin: 0; border: 1px solid #ddd; border-radius: 6px; padding: 6px; min-width: 0; }
svg { width: 100%; height: auto; display: block; }
svg text { font: 13px system-ui, sans-serif; fill: #333; }
.table { overflow-x: auto; }
table { border-collapse: collapse; margin: 10px 0; width: 100%; }
td, th { border-bottom: 1px solid #eee; padding: 4px 6px; text-align: left; }
td:first-child { overflow-wrap: anywhere; }
td:nth-child(3), td:nth-child(4) { white-space: nowrap; }
@media (max-width: 600px) { .what { display: none; } }
.broken { color: #b00020; font-weight: 600; }
.held { color: #1b7f3a; }
"""


def _nice(top: float) -> float:
    """A round axis top at or above `top`."""
    if top <= 0:
        return 1.0
    step = 10 ** math.floor(math.log10(top))
    for m in (1, 2, 2.5, 5, 10):
        if m * step >= top:
            return m * step
    return 10 * step


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v / 1000:g}k"
    return f"{v:.3g}"


def chart(
    title: str,
    unit: str,
    lines: Sequence[tuple[str, Sequence[Point]]],
    t_max: float,
    thresholds: Sequence[tuple[str, float]] = (),
    events: Sequence[Mapping[str, Any]] = (),
    empty: str = "nothing to show",
) -> str:
    values = [v for _, pts in lines for _, v in pts if v is not None] + [v for _, v in thresholds]
    top = _nice(max(values, default=0.0) * 1.08)
    t_max = max(t_max, 1e-9)
    slots = _legend(lines)
    top_y = 26 + LEGEND_ROW * (max((row for row, _, _ in slots), default=-1) + 1)
    pw, ph = W - LEFT - RIGHT, PLOT_H
    height = top_y + ph + BOTTOM

    def x(t: float) -> float:
        return LEFT + pw * min(max(t / t_max, 0.0), 1.0)

    def y(v: float) -> float:
        return top_y + ph * (1 - min(v / top, 1.0))

    out = [
        f'<svg viewBox="0 0 {W} {height}" role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="{LEFT}" y="16" font-weight="600">{escape(title)}{f" ({escape(unit)})" if unit else ""}</text>',
    ]
    for e in events:  # under the lines
        if e.get("end") is not None:
            x0, x1 = x(e["t"]), x(e["end"])
            out.append(f'<rect x="{x0:.1f}" y="{top_y}" width="{max(x1 - x0, 1):.1f}" height="{ph}" fill="#f4a261" '
                       f'fill-opacity="0.15"><title>{escape(e["label"])}</title></rect>')  # fmt: skip
        else:
            xe = x(e["t"])
            out.append(f'<line x1="{xe:.1f}" y1="{top_y}" x2="{xe:.1f}" y2="{top_y + ph}" stroke="#555" '
                       f'stroke-width="1.5"><title>{escape(e["label"])}</title></line>')  # fmt: skip
            out.append(f'<text x="{xe + 3:.1f}" y="{top_y + 12}" font-size="12">{escape(e["label"])}</text>')
    for i in range(6):  # y grid and labels: fifths of a round top are round
        v = top * i / 5
        yy = y(v)
        out.append(f'<line x1="{LEFT}" y1="{yy:.1f}" x2="{W - RIGHT}" y2="{yy:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{LEFT - 6}" y="{yy + 4:.1f}" text-anchor="end">{_fmt(v)}</text>')
    step = _nice(t_max / 6)
    t = 0.0
    while t <= t_max + 1e-9:  # x ticks in seconds
        xt = x(t)
        out.append(f'<line x1="{xt:.1f}" y1="{top_y + ph}" x2="{xt:.1f}" y2="{top_y + ph + 4}" stroke="#999"/>')
        out.append(f'<text x="{xt:.1f}" y="{top_y + ph + 17}" text-anchor="middle">{_fmt(t)}</text>')
        t += step
    out.append(f'<text x="{W - RIGHT}" y="{height - 3}" text-anchor="end" font-size="11">seconds into the run</text>')
    out.append(f'<rect x="{LEFT}" y="{top_y}" width="{pw}" height="{ph}" fill="none" stroke="#bbb"/>')
    for (label, value), colour in zip(thresholds, ("#b00020", "#6a0dad"), strict=False):
        yy = y(value)
        out.append(f'<line x1="{LEFT}" y1="{yy:.1f}" x2="{W - RIGHT}" y2="{yy:.1f}" stroke="{colour}" '
                   f'stroke-dasharray="6 4" stroke-width="1.5"/>')  # fmt: skip
        out.append(f'<text x="{W - RIGHT - 4}" y="{yy - 4:.1f}" text-anchor="end" fill="{colour}">'
                   f"{escape(label)} ≤ {_fmt(value)}</text>")  # fmt: skip
    for (label, points), colour, (row, legend_x, _) in zip(lines, COLOURS * 4, slots, strict=False):
        for segment in _segments(points):
            if len(segment) == 1:
                (t0, v0) = segment[0]
                out.append(f'<circle cx="{x(t0):.1f}" cy="{y(v0):.1f}" r="2" fill="{colour}"/>')
            else:
                coords = " ".join(f"{x(t0):.1f},{y(v0):.1f}" for t0, v0 in segment)
                out.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="1.8"/>')
        ly = 26 + LEGEND_ROW * row
        out.append(f'<rect x="{legend_x}" y="{ly}" width="12" height="4" fill="{colour}"/>')
        out.append(f'<text x="{legend_x + 16}" y="{ly + 7}" fill="{colour}">{escape(label)}</text>')
    if not values:
        out.append(f'<text x="{LEFT + pw / 2}" y="{top_y + ph / 2}" text-anchor="middle">{escape(empty)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _legend(lines: Sequence[tuple[str, Sequence[Point]]]) -> list[tuple[int, float, str]]:
    """(row, x, label) of each line's legend entry, wrapped to the chart's width."""
    out, row, x = [], 0, float(LEFT)
    for label, _ in lines:
        width = 7.5 * len(label) + 30
        if x > LEFT and x + width > W - RIGHT:
            row, x = row + 1, float(LEFT)
        out.append((row, x, label))
        x += width
    return out


def _segments(points: Sequence[Point]) -> list[list[tuple[float, float]]]:
    """The line broken where a value is missing (no report reached the vendor in that window)."""
    out: list[list[tuple[float, float]]] = [[]]
    for t, v in points:
        if v is None:
            if out[-1]:
                out.append([])
        else:
            out[-1].append((t, v))
    return [s for s in out if s]


def _when(event: Mapping[str, Any]) -> str:
    end = event.get("end")
    return f"{event['t']:.1f} s" + (f" to {end:.1f} s" if end is not None else "")


def page(report: Mapping[str, Any]) -> str:
    s = report["series"]
    limits: Mapping[str, float] = report["thresholds"]
    events = report["events"]
    everything = [p for v in s.values() for p in (v if isinstance(v, list) else [q for w in v.values() for q in w])]
    t_max = max((t for t, _ in everything), default=1.0)
    for e in events:
        t_max = max(t_max, e["t"], e.get("end") or 0.0)

    def limit(*names: str) -> list[tuple[str, float]]:
        return [(n, limits[n]) for n in names if n in limits]

    charts = [
        chart("Reports taken per second", "1/s", [("submissions/s", s["submissions_per_s"])], t_max, events=events),
        chart(
            "Outbox depth",
            "rows",
            [("pending", s["outbox_pending"]), ("dead", s["outbox_dead"])],
            t_max,
            limit("outbox_pending_max", "outbox_dead_max"),
            events,
        ),
        chart(
            "Oldest pending outbox row", "s", [("age", s["outbox_oldest_s"])], t_max, limit("outbox_oldest_max"), events
        ),
        chart(
            "Report-to-vendor latency",
            "s",
            [("p50", s["lag_p50_s"]), ("p95", s["lag_p95_s"])],
            t_max,
            limit("outbox_lag_p50", "outbox_lag_p95"),
            events,
        ),
        chart(
            "Vendor errors by kind",
            "calls/s",
            sorted(s["vendor_errors_per_s"].items()),
            t_max,
            events=events,
            empty="no vendor call failed",
        ),
    ]
    rows = []
    for name, value in report["figures"].items():
        unit, what = FIGURES.get(name, ("1/s", "reports taken per second, over the run"))
        shown = "—" if value is None else f"{value:.3g}{' ' + unit if unit else ''}"
        if name in limits:
            ok = value is not None and value <= limits[name]
            word = "held" if ok else "broken"
            verdict = f'<span class="{word}">{word} (≤ {limits[name]:g})</span>'
        else:
            verdict = ""
        rows.append(
            f'<tr><td>{escape(name)}</td><td class="what">{escape(what)}</td><td>{shown}</td><td>{verdict}</td></tr>'
        )
    broken = "".join(f'<li class="broken">{escape(b)}</li>' for b in report["broken"])
    marks = "".join(f"<li>{escape(e['label'])}: {_when(e)}</li>" for e in events)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(report["title"])}</title>
<style>{CSS}</style></head>
<body>
<h1>{escape(report["title"])}</h1>
<p>The gateway's /metrics, sampled every {report["interval_s"]:g} s ({report["samples"]} samples).
{"Every gateway threshold held." if not report["broken"] else "Broken:"}</p>
{f"<ul>{broken}</ul>" if broken else ""}
<div class="charts">{"".join(f"<figure>{c}</figure>" for c in charts)}</div>
<div class="table"><table>
<thead><tr><th>figure</th><th class="what">what</th><th>this run</th><th>threshold</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table></div>
{f"<h2>Marked on the time axis</h2><ul>{marks}</ul>" if marks else ""}
</body></html>
"""
