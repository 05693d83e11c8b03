"""The fault campaign (H-REL-1): reports, comments and photos through a gateway process that is killed
three times while Cityworks fails a fifth of its calls in every way the kit knows; then nothing is lost,
nothing is duplicated, photos are byte-exact and nothing private crosses over. And the campaign's checks
fail when the vendor is broken, so a green run means something."""

from __future__ import annotations

import json

import pytest

from harness.campaign import FAULTS, CampaignConfig, run_campaign
from harness.cli import main

from .test_gateway_plots import check_in_chromium, needs_chromium


@pytest.mark.slow
@pytest.mark.req("H-REL-1", "CW-SUB-1", "CW-SUB-2", "CW-COM-1", "CW-ICM-1")
def test_the_default_campaign_loses_and_duplicates_nothing(tmp_path):
    out = tmp_path / "campaign.json"
    assert main(["campaign", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    counts = report["counts"]
    assert report["ok"] and not report["problems"]
    assert counts["gateway kills"] == 3
    assert counts["reports acknowledged"] == 500 == counts["reports at the vendor exactly once"]
    assert counts["comments at the vendor once and in order"] >= counts["comments acknowledged"] == 1000
    assert counts["photos at the vendor byte-exact and once"] >= 750
    assert counts["internal vendor comments kept private"] == counts["public vendor comments on the public side once"]
    assert counts["internal vendor comments kept private"] >= 10
    applied = report["faults_applied"]
    assert set(applied) == {f["kind"] for f in FAULTS} and all(n > 0 for n in applied.values()), applied
    assert sum(applied.values()) / counts["vendor calls"] > 0.15, "the faults must have hit a fifth of the calls"


@pytest.mark.slow
@pytest.mark.req("H-REL-1", "OG-REQ-1", "OG-RQR-1")
def test_an_opengov_campaign_keeps_one_requester_per_citizen():
    """Fifty citizens, two reports each, their addresses in varying case; faults and two kills mid-delivery."""
    report = run_campaign(CampaignConfig(vendor="opengov", requests=100, kills=2))
    assert report.ok, report.problems
    counts = report.counts
    assert counts["reports at the vendor exactly once"] == 100 and counts["gateway kills"] == 2
    assert counts["citizens with one requester at the vendor"] == 50
    assert counts["comments at the vendor once and in order"] >= 200
    assert sum(report.faults.values()) / counts["vendor calls"] > 0.15


@pytest.mark.slow
@pytest.mark.req("H-REL-1")
def test_a_campaign_on_postgresql_holds_too(postgres_url):
    report = run_campaign(CampaignConfig(requests=60, kills=2, database_url=postgres_url))
    assert report.ok, report.problems
    assert report.counts["reports at the vendor exactly once"] == 60 and report.counts["gateway kills"] == 2


@pytest.mark.req("H-REL-1", "H-OBS-4")
def test_the_campaign_catches_a_vendor_that_reorders_comments():
    report = run_campaign(CampaignConfig(requests=12, kills=1, fault_rate=0.1, vendor_defects=("reorder-comments",)))
    assert not report.ok
    assert all("comments at Cityworks" in p for p in report.problems), report.problems
    assert len(report.problems) == 12  # two comments each, newest first: every report is caught
    assert report.counts["gateway kills"] == 1
    # the timeline (H-OBS-4): the gateway's metrics through the run, the kill and the faults' window on it
    assert len(report.samples) >= 2
    kill, faults = report.events
    assert kill.label == "kill 1" and kill.end is None
    assert faults.label == "vendor faults on (10%)" and faults.t < kill.t < faults.end


@pytest.mark.slow
@pytest.mark.req("H-OBS-4")
@needs_chromium
def test_the_campaign_page_marks_its_kills_and_renders_in_chromium(tmp_path):
    plots = tmp_path / "campaign.html"
    assert main(["campaign", "--requests", "30", "--kills", "2", "--plots", str(plots)]) == 0
    data = json.loads(plots.with_suffix(".json").read_text())
    assert [e["label"] for e in data["events"]] == ["kill 1", "kill 2", "vendor faults on (20%)"]
    assert data["samples"] >= 3 and data["figures"]["outbox_pending_max"] > 0
    assert data["figures"]["vendor_error_ratio"] > 0  # the faults show in the gateway's own figures
    check_in_chromium(plots, tmp_path)


def test_campaign_options_are_checked(capsys):
    assert main(["campaign", "--fault-rate", "1.5"]) == 2
    assert main(["campaign", "--vendor-defect", "no-such-defect"]) == 2
    assert "unknown defect" in capsys.readouterr().err
