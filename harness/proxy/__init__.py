"""`civic-harness proxy`: a transparent, recording reverse proxy in front of a vendor's API (or a gateway's
Open311 API). `forward.py` is the forwarding core (one function, reusable with a tap of one's own), `recorder.py`
keeps the exchanges, `app.py` serves the proxy and its admin port (`/_proxy/journal`, `/_proxy/har`). Judging
is harness/traffic/'s."""
