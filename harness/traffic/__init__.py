"""Judging recorded HTTP traffic: exchanges (exchange.py), matched and checked against the contracts by the
simulators' own validator (analysis.py), written to and read from HAR 1.2 (har.py) with secrets masked
(masking.py), and judged by requirement ID (rules/, scorecard.py). Pure: no sockets, no event loop; the proxy
(harness/proxy/) records, `verify-traffic` reads a file, and both hand the exchanges here."""
