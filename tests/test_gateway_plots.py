"""The gateway's time series for load runs and campaigns (H-OBS-4): figures read the way Prometheus reads a
histogram and a counter that restarts, thresholds on them decide, and the page renders in Chromium at a
desktop's and a phone's width with no console error and nothing wider than the window."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from loadtests.gateway_series import Event, Sample, figures, judge, parse_exposition, quantile, report
from loadtests.plots import page
from loadtests.sampler import write
from loadtests.thresholds import Thresholds

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BOUNDS = ("0.5", "1.0", "5.0", "+Inf")


def sample(t: float, submitted: float, lag: tuple[float, ...], ok: float = 0, timeouts: float = 0) -> Sample:
    """A scrape: `lag` the cumulative counts of the report-to-vendor buckets (BOUNDS)."""
    vendor = {"ok": ok, "uncertain:timeout": timeouts}
    return Sample(
        t,
        submitted,
        pending=t % 7,
        dead=0,
        oldest_s=t / 10,
        lag_buckets=dict(zip(BOUNDS, lag, strict=True)),
        vendor=vendor,
    )


def test_a_histogram_quantile_is_prometheus_own():
    # 10 observations: 4 at most 0.5 s, 4 more at most 1 s, 2 more at most 5 s
    buckets = dict(zip(BOUNDS, (4, 8, 10, 10), strict=True))
    assert quantile(0.5, buckets) == pytest.approx(0.5 + 0.5 * (5 - 4) / 4)
    assert quantile(0.95, buckets) == pytest.approx(1.0 + 4.0 * (9.5 - 8) / 2)
    assert quantile(0.99, dict(zip(BOUNDS, (0, 0, 1, 2), strict=True))) == 5.0  # past the highest bound: that bound
    assert quantile(0.5, dict(zip(BOUNDS, (0, 0, 0, 0), strict=True))) is None


@pytest.mark.req("H-OBS-4")
def test_figures_ride_out_a_gateway_restart_and_thresholds_decide():
    samples = [
        sample(0, 0, (0, 0, 0, 0), ok=0),
        sample(1, 10, (2, 4, 4, 4), ok=10, timeouts=1),
        sample(2, 20, (4, 8, 8, 8), ok=20, timeouts=2),
        sample(3, 5, (1, 1, 2, 2), ok=5, timeouts=0),  # killed and started again: every counter from zero
    ]
    found = figures(samples)
    assert found["submissions_per_s"] == pytest.approx((10 + 10 + 5) / 3)
    assert found["vendor_error_ratio"] == pytest.approx(2 / (20 + 2 + 5))
    assert found["outbox_lag_p50"] == pytest.approx(quantile(0.5, dict(zip(BOUNDS, (5, 9, 10, 10), strict=True))))
    assert found["outbox_oldest_max"] == pytest.approx(0.3)
    assert judge({"outbox_lag_p95": 10.0, "outbox_oldest_max": 1.0}, found) == []
    assert judge({"outbox_lag_p95": 0.1}, found) == [f"outbox_lag_p95: {found['outbox_lag_p95']:.3g} s > 0.1 s"]
    nothing = figures([sample(0, 0, (0, 0, 0, 0)), sample(1, 3, (0, 0, 0, 0))])
    assert judge({"outbox_lag_p95": 5.0}, nothing)[0].startswith("outbox_lag_p95: not measured")


def test_gateway_thresholds_are_read_from_toml_and_options(tmp_path):
    limits = tmp_path / "limits.toml"
    limits.write_text("fail_ratio = 0.01\n[gateway]\noutbox_lag_p95 = 5\noutbox_oldest_max = 30\n")
    thresholds = Thresholds.load(limits)
    thresholds.add_gateway_option("outbox_lag_p95=2.5")
    assert thresholds.gateway == {"outbox_lag_p95": 2.5, "outbox_oldest_max": 30.0}
    with pytest.raises(ValueError, match="no gateway figure 'outbox_lag'"):
        thresholds.add_gateway_option("outbox_lag=1")
    with pytest.raises(ValueError, match="NAME=VALUE"):
        thresholds.add_gateway_option("outbox_lag_p95")


def test_an_exposition_is_read_for_what_the_plots_need():
    text = (
        "# TYPE civic_gateway_http_request_duration_seconds histogram\n"
        'civic_gateway_http_request_duration_seconds_count{route="/open311/v2/requests.{fmt}",method="POST",'
        'status="201"} 7\n'
        'civic_gateway_http_request_duration_seconds_count{route="/open311/v2/requests.{fmt}",method="GET",'
        'status="200"} 99\n'
        "# TYPE civic_gateway_outbox_rows gauge\n"
        'civic_gateway_outbox_rows{state="pending",kind="create_request"} 3\n'
        'civic_gateway_outbox_rows{state="pending",kind="add_attachment"} 2\n'
        'civic_gateway_outbox_rows{state="dead",kind="add_comment"} 1\n'
        "# TYPE civic_gateway_vendor_calls counter\n"
        'civic_gateway_vendor_calls_total{vendor="cityworks",operation="A/B",outcome="ok",fault=""} 5\n'
        'civic_gateway_vendor_calls_total{vendor="cityworks",operation="A/B",outcome="uncertain",fault="reset"} 2\n'
    )
    s = parse_exposition(text, 1.5)
    assert (s.submissions, s.pending, s.dead) == (7, 5, 1)
    assert s.vendor == {"ok": 5, "uncertain:reset": 2}


def synthetic_report() -> dict:
    samples = []
    for i in range(40):
        n = i * 3
        samples.append(sample(float(i), i * 8, (n, 2 * n, 3 * n, 3 * n), ok=20 * i, timeouts=i // 3))
    events = [Event("kill 1", 12.0), Event("kill 2", 25.5), Event("vendor faults on (20%)", 3.0, 33.0)]
    return report("a run", samples, {"outbox_lag_p95": 4.0, "outbox_oldest_max": 2.0}, events)


def test_the_page_and_its_json_carry_the_same_data(tmp_path):
    data = synthetic_report()
    written = write(tmp_path / "run.gateway.html", "a run", [], {"outbox_lag_p95": 4.0})
    assert written["broken"] == ["no sample of the gateway's metrics was taken"]
    html = page(data)
    assert (
        html.count("<svg") == 5
        and "<script" not in html
        and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )  # self-contained: nothing fetched
    assert "kill 2" in html and "vendor faults on (20%)" in html and "outbox_lag_p95 ≤ 4" in html
    assert data["broken"] == ["outbox_lag_p95: 4.4 s > 4 s", "outbox_oldest_max: 3.9 s > 2 s"]
    assert json.loads((tmp_path / "run.gateway.json").read_text())["title"] == "a run"


OVERFLOW = """() => {
  const vw = window.innerWidth, out = [];
  if (document.documentElement.scrollWidth > vw) out.push(`page ${document.documentElement.scrollWidth} > ${vw}`);
  for (const el of document.querySelectorAll("figure, table, h1, p")) {
    const r = el.getBoundingClientRect();
    if (r.right > vw + 0.5) out.push(`${el.tagName} reaches ${r.right} of ${vw}`);
  }
  return out;
}"""


def check_in_chromium(path: Path, screenshots: Path) -> None:
    """The page in Chromium at 1280 px and 390 px: five charts, no console error or warning, nothing fetched,
    nothing wider than the window; a full-page screenshot of each."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        try:
            for width, height in ((1280, 900), (390, 844)):
                tab = browser.new_page(viewport={"width": width, "height": height})
                problems: list[str] = []
                tab.on(
                    "console", lambda m, seen=problems: seen.append(m.text) if m.type in ("error", "warning") else None
                )
                tab.on("pageerror", lambda e, seen=problems: seen.append(str(e)))
                tab.on("request", lambda r, seen=problems: seen.append(r.url) if r.url != path.as_uri() else None)
                tab.goto(path.as_uri())
                assert tab.locator("svg").count() == 5
                assert tab.evaluate(OVERFLOW) == [], width
                assert problems == [], width
                tab.screenshot(path=str(screenshots / f"{path.stem}-{width}.png"), full_page=True)
        finally:
            browser.close()


needs_chromium = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="Chromium is not installed")


@pytest.mark.req("H-OBS-4")
@needs_chromium
def test_the_page_renders_in_chromium_at_desktop_and_phone_width(tmp_path):
    path = tmp_path / "run.gateway.html"
    path.write_text(page(synthetic_report()), encoding="utf-8")
    check_in_chromium(path, tmp_path)
