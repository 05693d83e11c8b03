"""Every route of the gateway on one screen (as aiohttp-demos' routes.py): Open311 GeoReport v2, the admin
API, the citizens' JSON API and the portal's HTML pages. contracts/gateway.yaml describes each."""

from __future__ import annotations

from aiohttp import web

from . import admin as a
from . import observe
from . import open311 as o
from . import portal as p
from . import widgets_admin as w

G, FMT, A, P = o.PREFIX, o.FMT, a.PREFIX, p.PREFIX  # GeoReport, admin, portal

ROUTES = [
    # Open311 GeoReport v2 (.json or .xml)
    web.get(f"{G}/discovery.{FMT}", o.discovery),
    web.get(f"{G}/services.{FMT}", o.services),
    web.get(f"{G}/services/{{code:[^/]+?}}.{FMT}", o.service_definition),
    web.get(f"{G}/requests.{FMT}", o.list_requests),
    web.post(f"{G}/requests.{FMT}", o.create_request),
    web.get(f"{G}/requests/{{id:[^/]+?}}/comments.{FMT}", o.list_comments),
    web.post(f"{G}/requests/{{id:[^/]+?}}/comments.{FMT}", o.add_comment),
    web.get(f"{G}/requests/{{id:[^/]+?}}.{FMT}", o.get_request),
    web.get(f"{G}/tokens/{{token:[^/]+?}}.{FMT}", o.get_token),
    web.get(f"{G}/media/{{id:[0-9a-f]{{16}}}}", o.get_media),
    # the admin API: the city's setup
    web.get(f"{A}/agencies", a.list_agencies),
    web.post(f"{A}/agencies", a.create_agency),
    web.get(f"{A}/agencies/{{id}}", a.get_agency),
    web.patch(f"{A}/agencies/{{id}}", a.update_agency),
    web.delete(f"{A}/agencies/{{id}}", a.delete_agency),
    web.get(f"{A}/geographies", a.list_geographies),
    web.post(f"{A}/geographies", a.upload_geography),
    web.get(f"{A}/geographies/{{id}}", a.get_geography),
    web.delete(f"{A}/geographies/{{id}}", a.delete_geography),
    web.get(f"{A}/integrations", a.list_integrations),
    web.post(f"{A}/integrations", a.create_integration),
    web.get(f"{A}/integrations/{{id}}", a.get_integration),
    web.patch(f"{A}/integrations/{{id}}", a.update_integration),
    web.delete(f"{A}/integrations/{{id}}", a.delete_integration),
    web.get(f"{A}/integrations/{{id}}/comment-rules", a.list_rules),
    web.post(f"{A}/integrations/{{id}}/comment-rules", a.create_rule),
    web.delete(f"{A}/comment-rules/{{id}}", a.delete_comment_rule),
    web.get(f"{A}/categories", a.list_categories),
    web.post(f"{A}/categories", a.create_category),
    web.get(f"{A}/categories/{{id}}", a.get_category),
    web.patch(f"{A}/categories/{{id}}", a.update_category),
    web.delete(f"{A}/categories/{{id}}", a.delete_category),
    web.get(f"{A}/categories/{{id}}/questions", a.list_questions),
    web.post(f"{A}/categories/{{id}}/questions", a.create_question),
    web.get(f"{A}/questions/{{id}}", a.get_question),
    web.patch(f"{A}/questions/{{id}}", a.update_question),
    web.delete(f"{A}/questions/{{id}}", a.delete_question),
    # the admin API: operations
    web.post(f"{A}/jobs/{{job}}/run", a.run_job_now),
    web.get(f"{A}/jobs/runs", a.list_job_runs),
    web.get(f"{A}/outbox", a.list_outbox),
    web.get(f"{A}/requests/{{id}}", a.get_request_trail),
    web.get(f"{A}/settings", a.get_settings),
    web.get(f"{A}/mail", a.list_mail),
    # the admin API: integration widgets
    web.get(f"{A}/widgets", w.list_widgets),
    web.post(f"{A}/widgets", w.create_widget),
    web.get(f"{A}/widgets/{{id}}", w.get_widget),
    web.patch(f"{A}/widgets/{{id}}", w.update_widget),
    web.delete(f"{A}/widgets/{{id}}", w.delete_widget),
    web.post(f"{A}/widgets/{{id}}/test", w.test_widget),
    web.get(f"{A}/widgets/{{id}}/preview", w.preview_widget),
    web.get(f"{A}/link-accounts", w.list_link_accounts),
    web.post(f"{A}/link-accounts", w.create_link_account),
    web.get(f"{A}/link-accounts/{{id}}", w.get_link_account),
    web.delete(f"{A}/link-accounts/{{id}}", w.delete_link_account),
    web.get(f"{A}/addresses", w.list_addresses),
    web.post(f"{A}/addresses", w.add_addresses),
    web.get(f"{A}/address-setup", w.get_address_setup),
    web.put(f"{A}/address-setup", w.set_address_setup),
    # the citizens' JSON API (bearer tokens)
    web.post(f"{P}/citizens", p.sign_up),
    web.post(f"{P}/citizens/confirm", p.confirm_sign_up),
    web.post(f"{P}/sessions", p.sign_in),
    web.get(f"{P}/me", p.get_me),
    web.patch(f"{P}/me", p.update_me),
    web.get(f"{P}/addresses", p.find_addresses),
    web.get(f"{P}/dashboard", p.get_dashboard),
    web.get(f"{P}/widgets/{{id}}", p.get_widget),
    web.delete(f"{P}/dashboard/widgets/{{id}}", p.remove_from_dashboard),
    web.put(f"{P}/dashboard/widgets/{{id}}", p.add_to_dashboard),
    web.get(f"{P}/widgets/{{id}}/links", p.list_links),
    web.post(f"{P}/widgets/{{id}}/links", p.create_link),
    web.delete(f"{P}/widgets/{{id}}/links/{{link_id}}", p.delete_link),
    web.post(f"{P}/widgets/{{id}}/external-links", p.start_external_link),
    web.put(f"{P}/widgets/{{id}}/subscription", p.subscribe),
    web.delete(f"{P}/widgets/{{id}}/subscription", p.unsubscribe),
    web.get(f"{P}/notifications", p.list_notifications),
    # the portal's HTML pages (a session cookie)
    web.get("/portal/link-return", p.link_return),
    web.get("/portal/sign-in", p.sign_in_page),
    web.post("/portal/sign-in", p.sign_in_page),
    web.get("/portal/dashboard", p.dashboard_page),
    web.post("/portal/sign-out", p.sign_out_page),
]


def setup(app: web.Application) -> None:
    app.router.add_routes(ROUTES)
    app.router.add_routes(observe.ROUTES)  # /healthz, /readyz, /metrics
