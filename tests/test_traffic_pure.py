"""The traffic judge's pure parts on values: multipart bodies read and masked without touching a file, HAR written
and read back, Retry-After as an HTTP-date, redacted traffic judged alike, and no traffic never a pass."""

from __future__ import annotations

import hashlib
import json

import pytest

from harness.traffic import forms, har, rules
from harness.traffic.analysis import analyse, profile
from harness.traffic.exchange import RESET, Exchange
from harness.traffic.masking import Masking
from harness.traffic.rules.pacing import retry_after_seconds

FILE = bytes(range(256)) * 3  # binary, with CR and LF bytes inside
BOUNDARY = "xYz"
MULTIPART = (
    (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="token"\r\n\r\nsecret-token\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    + FILE
    + f"\r\n--{BOUNDARY}--\r\n".encode()
)
CT = f"multipart/form-data; boundary={BOUNDARY}"


def exchange(n: int, method: str, path: str, body: bytes = b"", ct: str = "", **answer: object) -> Exchange:
    headers = (("Content-Type", ct),) if ct else ()
    return Exchange(n, 1000.0 + n, 1000.1 + n, method, path, "", headers, body, len(body),
                    hashlib.sha256(body).hexdigest(), **answer)  # type: ignore[arg-type]  # fmt: skip


def test_a_multipart_body_is_read_and_masked_and_its_file_left_byte_for_byte():
    token, file = forms.parts(CT, MULTIPART)
    assert (token.name, token.text, file.filename, file.content) == ("token", "secret-token", "a.png", FILE)
    masked = Masking(frozenset()).body(CT, MULTIPART)
    assert b"secret-token" not in masked and FILE in masked
    assert forms.form(CT, masked)["token"] == "***"
    assert forms.parts(CT, MULTIPART[:-10]) is None, "a body cut short is not read as a complete form"


def test_har_round_trip_keeps_bytes_sizes_and_how_an_exchange_ended():
    cut = exchange(1, "POST", "/api/v1/x", b'{"a": 1}', "application/json", status=200,
                   response_headers=(("Content-Type", "image/png"),), response_body=FILE[:100],
                   response_size=len(FILE), response_sha256=hashlib.sha256(FILE).hexdigest())  # fmt: skip
    dropped = exchange(2, "GET", "/api/v1/y z/ü", outcome=RESET)  # a path as the server decoded it
    doc = har.document([cut, dropped], "https://vendor.example/base", Masking(), {"kind": "opengov"}, "test")
    assert doc["log"]["entries"][1]["request"]["url"] == "https://vendor.example/base/api/v1/y%20z/%C3%BC"
    assert json.loads(json.dumps(doc))["log"]["entries"][1]["response"]["status"] == 0
    meta, (a, b) = har.exchanges(json.loads(json.dumps(doc)))
    assert meta["kind"] == "opengov" and a.path == "/api/v1/x"  # the upstream's own path is not the API's
    assert (a.response_body, a.response_size, a.response_complete) == (FILE[:100], len(FILE), False)
    assert a.request_body == b'{"a":1}' and a.request_complete  # masking rewrote it: judged as it now reads
    assert (b.path, b.status, b.outcome) == ("/api/v1/y z/ü", None, RESET)
    with pytest.raises(har.NotHar):
        har.exchanges({"log": {"entries": [{"request": {}}]}})


def test_retry_after_as_an_http_date_counts_from_the_answers_date():
    ex = exchange(1, "GET", "/x", status=503,
                  response_headers=(("Retry-After", "Sun, 06 Dec 2026 10:00:30 GMT"),
                                    ("Date", "Sun, 06 Dec 2026 10:00:00 GMT")))  # fmt: skip
    assert retry_after_seconds(ex) == 30


def test_personal_data_inside_a_cityworks_data_field_is_redacted():
    masking = Masking(frozenset({"password"}), b"k" * 32)
    data = json.dumps({"CallerFirstName": "Ana", "CallerHomePhone": "555-0100", "Details": "Tree", "Password": "pw"})
    ((_, redacted),) = masking.pairs([("data", data)])
    value = json.loads(redacted)
    assert value["Details"] == "Tree" and value["Password"] == "***"
    assert value["CallerFirstName"].startswith("name-") and value["CallerHomePhone"].startswith("phone-")
    assert value == json.loads(masking.pairs([("data", data)])[0][1]), "the same value, the same pseudonym"


def test_an_opengov_requesters_name_on_a_request_is_redacted_and_its_oid_kept():
    masking = Masking(frozenset(), b"k" * 32)
    body = {"cgRequestsClass": [{"RequesterField": "Ana User", "RequesterOidField": 5, "DescriptionField": "Hole"}]}
    (record,) = json.loads(masking.text(json.dumps(body)))["cgRequestsClass"]
    assert record["RequesterField"].startswith("name-") and record["RequesterOidField"] == 5
    assert record["DescriptionField"] == "Hole"


def test_a_personal_field_is_redacted_whatever_its_type_and_an_oid_field_kept():
    masking = Masking(frozenset(), b"k" * 32)
    body = {"PrimaryPhoneField": 9195551234, "RequesterField": 42, "RequesterOidField": 5, "requester_oid": "6",
            "CountField": 3}  # fmt: skip
    record = json.loads(masking.text(json.dumps(body)))
    assert record["PrimaryPhoneField"] == masking.pseudonym("9195551234", "phone"), "a number is a phone too"
    assert record["RequesterField"].startswith("name-")
    assert (record["RequesterOidField"], record["requester_oid"], record["CountField"]) == (5, "6", 3)


def test_redacted_traffic_is_judged_alike():
    p = profile("opengov")
    masking = Masking(frozenset(), b"k" * 32)

    def create(n: int, email: str) -> Exchange:
        record = {"EmailField": email, "FirstNameField": "Ana", "LastNameField": "User"}
        body = json.dumps({"cgRequestersClass": [record]}).encode()
        answer = json.dumps({"cgRequestersClass": [{**record, "Oid": n}]}).encode()
        return exchange(n, "POST", "/api/v1/classes/cgRequestersClass", body, "application/json", status=201,
                        response_headers=(("Content-Type", "application/json"),), response_body=answer,
                        response_size=len(answer))  # fmt: skip

    traffic = [create(1, "Ana@Example.org"), create(2, "ana@example.org")]
    doc = har.document(traffic, "http://og", masking, {"kind": "opengov"}, "test")
    assert "example.org" not in json.dumps(doc) and '"Ana"' not in json.dumps(doc) and '"User"' not in json.dumps(doc)
    _, back = har.exchanges(doc)
    for exchanges in (traffic, back):
        judged = [analyse(p, ex) for ex in exchanges]
        (finding,) = [f for f in rules.judge(p, judged) if f.rule == "no-requester-duplicates"]
        assert finding.outcome == rules.FAILED and "created 2 times" in finding.message


@pytest.mark.parametrize("kind", ["cityworks", "opengov", "arcgis", "city-api", "open311"])
def test_no_traffic_is_never_a_pass(kind):
    assert {f.outcome for f in rules.judge(profile(kind), [])} == {rules.NOT_COVERED}


def test_the_recorder_keeps_its_bodies_within_a_byte_budget_dropping_the_oldest_exchanges():
    from harness.proxy.forward import Capture
    from harness.proxy.recorder import Recorder

    recorder = Recorder(profile("open311"), Masking(), size=100, max_bytes=2500)
    for n in range(5):
        capture = Capture(limit=10_000)
        capture.request_chunk(b"x" * 1000)
        recorder.record("POST", f"/{n}", "", [], 0.0, 0.0, capture)
    assert [ex.path for ex in recorder.judged()] == ["/3", "/4"]
    assert recorder.stats()["dropped"] == 3 and recorder.stats()["held_bytes"] == 2000


def test_a_har_from_another_tool_without_the_proxys_fields_judges_alike():
    p = profile("opengov")
    record = {"EmailField": "ana@example.org", "FirstNameField": "Ana", "LastNameField": "User"}
    body = json.dumps({"cgRequestersClass": [record]}).encode()
    answer = json.dumps({"cgRequestersClass": [{**record, "Oid": 1}]}).encode()
    traffic = [
        exchange(
            n,
            "POST",
            "/api/v1/classes/cgRequestersClass",
            body,
            "application/json",
            status=201,
            response_headers=(("Content-Type", "application/json"),),
            response_body=answer,
            response_size=len(answer),
        )
        for n in (1, 2)
    ]
    doc = har.document(traffic, "http://og", Masking(), {"kind": "opengov"}, "test")

    def plain(value):  # what a browser or mitmproxy writes: no `_` fields anywhere
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items() if not k.startswith("_")}
        return [plain(v) for v in value] if isinstance(value, list) else value

    verdicts = []
    for d in (doc, plain(doc)):
        _, back = har.exchanges(json.loads(json.dumps(d)))
        verdicts.append([(f.rule, f.outcome) for f in rules.judge(p, [analyse(p, ex) for ex in back])])
    assert verdicts[0] == verdicts[1] and ("no-requester-duplicates", rules.FAILED) in verdicts[0]
