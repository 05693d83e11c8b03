"""`civic-harness proxy` run as a user runs it: in front of a simulator, journal on the admin port while it runs;
on Ctrl-C the HAR file and the JUnit, JSON and HTML scorecard in --report DIR, exit 1 when a rule failed."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "harness.cli"]


def post(url: str, fields: dict[str, str]) -> dict:
    data = urllib.parse.urlencode(fields).encode()
    with urllib.request.urlopen(url, data, timeout=10) as resp:
        return json.load(resp)


@pytest.mark.slow  # two interpreters started as subprocesses: seconds of imports
@pytest.mark.req("H-PRX-1", "CW-VER-2")
def test_the_proxy_command_journals_while_running_and_reports_on_stop(tmp_path):
    sim = subprocess.Popen([*CLI, "sim", "cityworks", "--port", "0"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    proxy = None
    try:
        upstream = sim.stdout.readline().split()[-1]
        report = tmp_path / "report"
        proxy = subprocess.Popen(
            [*CLI, "proxy", "cityworks", "--upstream", upstream, "--listen", "127.0.0.1:0", "--report", str(report)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        url = proxy.stdout.readline().split()[1]
        admin = proxy.stdout.readline().split()[2].removesuffix("/_proxy/journal,")
        login = {"data": json.dumps({"LoginName": "harness", "Password": "harness"})}
        token = post(f"{url}/Services/General/Authentication/Authenticate", login)["Value"]["Token"]
        # 2015's scheme on a 23 server: refused by the server, and CW-VER-2 fails for the client
        refused = post(f"{url}/Services/Ams/ServiceRequest/Problems", {"data": "{}", "token": token})
        assert refused["Status"] == 2
        with urllib.request.urlopen(f"{admin}/_proxy/journal", timeout=10) as resp:
            entries = json.load(resp)["entries"]
        assert [e["operation"] for e in entries] == [
            "General_Authentication_Authenticate",
            "Ams_ServiceRequest_Problems",
        ]
        assert token not in json.dumps(entries) and entries[1]["body"]["token"] == "***"
        proxy.send_signal(signal.SIGINT)
        out, _ = proxy.communicate(timeout=30)
        assert proxy.returncode == 1, out
        assert "CW-VER-2   FAIL" in out
        scorecard = json.loads((report / "report.json").read_text(encoding="utf-8"))
        assert {r["id"]: r["status"] for r in scorecard["requirements"]}["CW-VER-2"] == "fail"
        har = json.loads((report / "traffic.har").read_text(encoding="utf-8"))
        assert har["log"]["version"] == "1.2" and len(har["log"]["entries"]) == 2
        assert token not in (report / "traffic.har").read_text(encoding="utf-8"), "secrets never reach the file"
        assert 'name="requirement" value="CW-VER-2"' in (report / "junit.xml").read_text(encoding="utf-8")
    finally:
        for proc in (proxy, sim):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(10)
