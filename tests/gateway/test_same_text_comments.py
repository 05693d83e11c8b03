"""Two comments with the same text on one request (a citizen who sent again after a 503 whose write had in
fact committed, or who says the same thing twice): both reach the vendor, each once (H-REL-1, H-REL-5). A
comment is looked up at the vendor by its text before it is sent again; a vendor comment already linked to
another of the gateway's comments is not this one. Found by the database-fault campaign (2,000 reports): one
request's repeated comment was at Cityworks once — its retry had found the first comment and taken it for
itself."""

from __future__ import annotations

import pytest

from tests.test_vendor_outage import KEY, a_report_at_a_cityworks_gateway, cityworks_holds


@pytest.mark.req("H-REL-1", "CW-COM-1")
async def test_a_comment_retried_is_not_taken_for_an_earlier_one_with_the_same_text(tmp_path):
    async with a_report_at_a_cityworks_gateway(tmp_path) as (_, http, g, cw, control, public_id):

        async def say(text: str) -> None:
            form = {"api_key": KEY, "description": text}
            assert (await g.open311("POST", f"/requests/{public_id}/comments.json", data=form))[0] == 201

        await say("the same words")
        await g.run("deliver_outbox")  # the request and the first comment
        await say("the same words")
        # The second one's first try fails before Cityworks takes it; its retry looks it up by its text.
        await control.add_faults({"kind": "error", "status": 503, "path": "/Services/*/AddComments", "count": 1})
        for _ in range(5):
            await g.run("deliver_outbox")
        assert not (await g.ok("GET", "/outbox?state=pending"))["items"]
        assert await cityworks_holds(control, http, cw, public_id) == [["the same words", "the same words"]]
