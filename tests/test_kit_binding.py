"""The kit's ASP.NET binding (simulators/kit/binding.py) as a property: whatever place and casing a client sends
Cityworks' `data` and `token` in, the bound call carries each once, with its value, where the contract documents
it; every rewrite is named by a warning; a call already in the documented shape is left alone."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import MultiDict, MultiDictProxy

from contracts import load_contract
from simulators.kit.binding import URLENCODED, AspNetParameters, Incoming
from simulators.kit.contract import ContractValidator

pytestmark = pytest.mark.req("H-SIM-4")

VALIDATOR = ContractValidator(load_contract("cityworks"), case_insensitive=True)
BY_ID = "/Services/Ams/ServiceRequest/ById"
DOCUMENTED = {"GET": {"data": ("query",), "token": ("query",)}, "POST": {"data": ("form",), "token": ("query", "form")}}
names = st.sampled_from(["data", "token"])
casing = st.sampled_from([str, str.upper, str.title])
places = st.sampled_from(["query", "form", None])
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)


def incoming(method: str, sent: dict[str, tuple[str, str, str]]) -> Incoming:
    query: MultiDict[str] = MultiDict()
    form: MultiDict[str] = MultiDict()
    for name, value, place in sent.values():
        (query if place == "query" else form).add(name, value)
    if method == "GET":  # aiohttp parses no form for a GET: the body arrives as bytes
        body = urlencode(list(form.items())).encode()
        return Incoming(method, MultiDictProxy(query), URLENCODED if form else "", body, MultiDictProxy(MultiDict()))
    body = urlencode(list(form.items())).encode()
    return Incoming(method, MultiDictProxy(query), URLENCODED if form else "", body, MultiDictProxy(form))


@given(
    method=st.sampled_from(["GET", "POST"]),
    sent=st.dictionaries(names, st.tuples(casing, text, places.filter(bool)), max_size=2),
)
def test_each_parameter_lands_once_where_the_contract_documents_it(method, sent):
    op, _, _ = VALIDATOR.match(method, BY_ID)
    assert op is not None
    wire = {canonical: (case(canonical), value, place) for canonical, (case, value, place) in sent.items()}
    bound = AspNetParameters(("data", "token"))(op, incoming(method, wire))
    documented_shape = all(
        shown == canonical and place in DOCUMENTED[method][canonical] for canonical, (shown, _, place) in wire.items()
    )
    if documented_shape:
        assert bound is None
        return
    assert bound is not None
    for canonical, (shown, value, place) in wire.items():
        in_query = bound.query.getall(canonical, [])
        in_form = bound.form.getall(canonical, []) if bound.form is not None else []
        assert in_query + in_form == [value], (canonical, in_query, in_form)
        where = "query" if in_query else "form"
        assert where in DOCUMENTED[method][canonical]
        assert shown == canonical or any(w.location == f"{place}.{shown}" for w in bound.warnings)
        assert place in DOCUMENTED[method][canonical] or any(canonical in w.location for w in bound.warnings)
    assert bound.warnings
    if method == "GET":
        assert bound.form is None and bound.body == b""
