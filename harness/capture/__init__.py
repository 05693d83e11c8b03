"""`civic-harness capture`: a scenario written from what a real (sandbox) server holds, read with read-only
calls only, personal data scrubbed (`scrub.py`). One module per vendor, each `capture(...) -> Captured`."""
