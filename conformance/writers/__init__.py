"""One module per report format, each over the one report model (conformance/report.py): `json_file`,
`html` (the self-contained scorecard), `terminal` (the scorecard at the end of a run) and `junit` (for runs
that are not pytest sessions: `verify-traffic`, `proxy --report`). A conformance run's JUnit XML is
pytest's own (one testcase per check), with the requirement IDs added as properties by the plugin."""

from . import html, json_file, junit, terminal

__all__ = ["html", "json_file", "junit", "terminal"]
