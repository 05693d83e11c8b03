"""The report as JUnit XML, for runs that are not pytest sessions (`verify-traffic`, `proxy --report`): one
testcase per check, its requirement IDs and suite as properties as the plugin adds them to pytest's own
`--junitxml`; a failed check a failure with its message, a check with nothing to judge a skip."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def render(report: Mapping[str, Any], name: str = "civic-harness") -> str:
    checks = report["checks"]
    suite = ET.Element(
        "testsuite",
        name=name,
        tests=str(len(checks)),
        failures=str(sum(1 for c in checks if c["outcome"] == "failed")),
        skipped=str(sum(1 for c in checks if c["outcome"] not in ("passed", "failed"))),
        errors="0",
        time=f"{report['duration_s']:.3f}",
        timestamp=str(report["started"]),
    )
    for c in checks:
        classname, _, case_name = c["id"].rpartition("::")
        case = ET.SubElement(suite, "testcase", classname=classname.replace("/", "."), name=case_name or c["id"],
                             time=f"{c['duration_s']:.3f}")  # fmt: skip
        props = ET.SubElement(case, "properties")
        for rid in c["requirements"]:
            ET.SubElement(props, "property", name="requirement", value=rid)
        ET.SubElement(props, "property", name="suite", value=c["suite"])
        if c["outcome"] == "failed":
            failure = ET.SubElement(case, "failure", message=c["message"] or "failed")
            failure.text = c["details"] or c["message"] or ""
        elif c["outcome"] != "passed":
            ET.SubElement(case, "skipped", message=c["message"] or c["outcome"])
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write(path: str | Path, report: Mapping[str, Any], name: str = "civic-harness") -> None:
    Path(path).write_text(render(report, name), encoding="utf-8")
