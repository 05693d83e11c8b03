"""What certifying a live server writes to it: said before the run, listed after it with the ids the server
gave (so a city can find and remove them on a shared sandbox), and nothing at all with `--read-only`, whose
checks that would write are skipped. Which calls write is the contracts' to say (`x-writes`)."""

from __future__ import annotations

import json
import re

import pytest
import requests

from conformance.writes import Writes

from .certify_runner import certify, simulator

WRITING = ("Create", "Update", "Close", "Reopen", "ReOpen", "Cancel", "Uncancel", "Add", "UserSave", "AddToRequest")


def vendor_writes(url: str) -> list[str]:
    """The write operations the simulator's journal shows (its own record of what was called)."""
    entries = requests.get(f"{url}/_sim/journal", params={"limit": "10000"}, timeout=30).json()["entries"]
    return [e["path"] for e in entries if e["path"].rsplit("/", 1)[-1].startswith(WRITING)]


def test_the_contracts_say_which_calls_write():
    w = Writes({"cityworks": "http://cw/site", "opengov": "http://og", "arcgis": "http://geo"})
    assert w.operation("http://cw/site/Services/Ams/ServiceRequest/Create", "POST")
    assert w.operation("http://cw/site/services/ams/servicerequest/create?data=%7B%7D", "GET"), "any case, GET too"
    assert w.operation("http://cw/site/Services/Ams/ServiceRequest/ByIds", "POST") is None, "a read, though a POST"
    assert w.operation("http://og/api/v1/classes/cgRequestsClass", "POST")
    assert w.operation("http://og/api/v1/classes/cgRequestsClass", "GET") is None
    assert w.operation("http://og/api/v1/authenticate", "POST") is None, "signing in is not a record"
    assert w.operation("http://geo/arcgis/rest/services/World/GeocodeServer/findAddressCandidates", "POST") is None
    assert w.operation("http://cw/site/_sim/reset", "POST") is None, "the control plane is not the target's API"


@pytest.mark.req("H-CON-1")
def test_read_only_writes_nothing_and_a_write_run_lists_what_it_made():
    with simulator("cityworks") as url:
        code, output, verdicts = certify("cityworks", url, "--read-only", "-k", "records or catalogue")
        assert code == 0, output[-3000:]
        assert "read-only: checks that would create or change a record there are skipped" in output
        assert vendor_writes(url) == [], "nothing written in read-only mode"
        assert "SKIPPED" in verdicts.values() and "written to the target" not in output

        code, output, _ = certify("cityworks", url, "-k", "created_request_reads_back")
        assert code == 0, output[-3000:]
        assert "this run writes to the target" in output
        listed = next(line for line in output.splitlines() if "POST /Services/Ams/ServiceRequest/Create:" in line)
        made = vendor_writes(url)
        assert made and all(p.endswith("/ServiceRequest/Create") for p in made), made
        assert f"{len(made)} call(s), ids " in listed, (listed, made)
        # every record it made carries the run's tag, where a city searches by the creating system's reference
        run_tag = re.search(r"carries the tag (civic-harness-\S+) ", output).group(1)
        entries = requests.get(f"{url}/_sim/journal", params={"limit": "10000"}, timeout=30).json()["entries"]
        sent = [json.dumps(e["body"]) for e in entries if e["path"].endswith("/ServiceRequest/Create")]
        refs = [re.search(r'OtherSystemId\\*": \\*"([^"\\]+)', body) for body in sent]
        assert refs and all(r and r.group(1).startswith(f"{run_tag}-") for r in refs), (run_tag, sent)
