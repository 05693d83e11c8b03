"""Licences (CW-MODE-1): the Service Request API and the Work Order API stand alone."""

from __future__ import annotations

import pytest

UNAUTHORIZED = 2
SR_CALL = ("/Services/Ams/ServiceRequest/Problems", {})
WO_CALL = ("/Services/Ams/WorkOrder/Templates", {})
CALLS = {"sr": SR_CALL, "wo": WO_CALL}


@pytest.mark.req("CW-MODE-1")
@pytest.mark.parametrize("licence", ["sr", "wo"])
def test_licensed_apis_answer_and_unlicensed_ones_refuse(cw, cw_target, licence):
    path, data = CALLS[licence]
    reply = cw.call(path, data)
    if licence in cw_target.licences:
        assert reply.status == 0, reply.envelope.get("Message")
    else:
        assert reply.status == UNAUTHORIZED and reply.envelope["Value"] is None


@pytest.mark.req("CW-MODE-1")
def test_comments_follow_the_licence_of_their_activity(cw, cw_target):
    for licence, activity_type in (("sr", 1), ("wo", 2)):
        reply = cw.call("/Services/Ams/Comment/ByActivitySids", {"ActivityType": activity_type, "ActivitySids": [1]})
        if licence not in cw_target.licences:
            assert reply.status == UNAUTHORIZED
        else:
            assert reply.status in (0, 1)  # 1 when no activity 1 exists on this server
