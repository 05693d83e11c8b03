"""WID-API-2: the widget describes itself and serves both views as the contract says (items, tables, charts,
or an HTML fragment), with an ETag equal to the content's version. WID-API-6: a property-dependent widget
needs the citizen's property and refuses an unknown one."""

from __future__ import annotations

import pytest

from contracts.widget_content import content_problems, schema_problems

from .client import content_params, error_code
from .conftest import needs


@pytest.mark.req("WID-API-2")
def test_the_widget_describes_itself(endpoint):
    resp = endpoint.call("GET", "/v1/widget")
    assert resp.status_code == 200, resp.text[:300]
    assert resp.headers["Content-Type"].startswith("application/json")
    assert schema_problems("Widget", resp.json()) == []


@pytest.mark.req("WID-API-2")
@pytest.mark.parametrize("view", ["dashboard", "expanded"])
def test_both_views_serve_valid_content(endpoint, user, view):
    info = endpoint.describe()
    resp = endpoint.call("GET", "/v1/content", params=content_params(endpoint, user, view))
    assert resp.status_code == 200, resp.text[:300]
    body = resp.json()
    assert content_problems(body, view) == []
    assert body["format"] == info["format"]
    assert resp.headers.get("ETag") == f'"{body["version"]}"'
    if info["format"] == "html":
        assert body["html"].strip(), "an HTML widget sends a fragment"
    else:
        assert body["items"] or body.get("blocks"), "a formatted widget sends items or blocks"


@pytest.mark.req("WID-API-2")
def test_the_expanded_view_holds_at_least_the_dashboard(endpoint, user):
    params = content_params(endpoint, user, "dashboard")
    dashboard = endpoint.call("GET", "/v1/content", params=params).json()
    expanded = endpoint.call("GET", "/v1/content", params={**params, "view": "expanded"}).json()
    if dashboard["format"] == "formatted":
        assert {i["key"] for i in dashboard["items"]} <= {i["key"] for i in expanded["items"]}


@pytest.mark.req("WID-API-6")
def test_a_property_dependent_widget_needs_the_property(endpoint, user):
    needs(endpoint, "property")
    resp = endpoint.call("GET", "/v1/content", params={"view": "dashboard", "user": user})
    assert resp.status_code == 400 and error_code(resp) == "property_required", resp.text[:300]


@pytest.mark.req("WID-API-6")
@pytest.mark.parametrize("given", [{"property_id": "0000-00-NOPE"}, {"address": "99999 Nowhere Lane, Atlantis"}])
def test_an_unknown_property_is_refused(endpoint, user, given):
    needs(endpoint, "property")
    resp = endpoint.call("GET", "/v1/content", params={"view": "dashboard", "user": user, **given})
    assert resp.status_code == 404 and error_code(resp) == "property_unknown", resp.text[:300]


@pytest.mark.req("WID-API-6")
def test_a_known_property_gets_its_content(endpoint, user):
    needs(endpoint, "property")
    resp = endpoint.call("GET", "/v1/content", params=content_params(endpoint, user, "expanded"))
    assert resp.status_code == 200, resp.text[:300]
    assert content_problems(resp.json(), "expanded") == []
