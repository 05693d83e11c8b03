"""What an operator sees of a running gateway: /metrics scraped with Prometheus' own text parser as reports,
deliveries, vendor faults and jobs happen (on SQLite and PostgreSQL, and two instances on one PostgreSQL
agreeing on what the database holds), /healthz and /readyz, traces through the whole path of one report (the
SDK's in-memory exporter), and structured log lines that never hold a secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from conformance.gateway.client import Gateway, city_geojson
from conformance.gateway.helpers import INSIDE, PNG, submit
from gateway.app import create_app
from gateway.appkeys import ENGINE
from gateway.observability.logs import configure
from gateway.serving import GatewayRunner
from gateway.settings import Settings
from gateway.sync import leases
from harness.bundled import simulator_config
from harness.sim_control import SimControl
from harness.stack import Stack

from .conftest import ADMIN_TOKEN, API_KEY

CREATE = "/open311/v2/requests.{fmt}"
VENDOR_SECRET = "vendor-password-Zq8Xw2"  # a Cityworks password the simulator refuses: sign-ins fail, loudly


@asynccontextmanager
async def gateways(
    database_url: str, instances: int = 1, provider: Any = None, **options: Any
) -> AsyncIterator[tuple[list[Gateway], dict[str, str]]]:
    """A Cityworks simulator and `instances` gateways on one database, each its own application
    (its own metrics registry), served as the CLI serves it; jobs only when a test runs them."""
    settings = Settings(
        database_url=database_url,
        admin_token=ADMIN_TOKEN,
        api_keys=(API_KEY,),
        **{"scheduler_tick_s": 0, "outbox_retry_base_s": 0.001, **options},
    )
    sims = {"cityworks": simulator_config("cityworks", version="23", seed=5)}
    runners: list[web.AppRunner] = []
    async with Stack(sims) as stack, aiohttp.ClientSession() as http:
        try:
            out = []
            for _ in range(instances):
                runner = GatewayRunner(create_app(settings, tracer_provider=provider), access_log=None)
                await runner.setup()
                runners.append(runner)
                site = web.TCPSite(runner, "127.0.0.1", 0)
                await site.start()
                g = Gateway(f"http://127.0.0.1:{runner.addresses[0][1]}", http, ADMIN_TOKEN, API_KEY)
                g.app = runner.app  # type: ignore[attr-defined]
                out.append(g)
            yield out, {name: stack.url(name) for name in sims}
        finally:
            for runner in runners:
                await runner.cleanup()


async def linked(g: Gateway, sims: dict[str, str], secret: str = "harness") -> Gateway:
    integration = await g.ok(
        "POST",
        "/integrations",
        json={"name": "Cityworks", "vendor": "cityworks", "version": "23", "base_url": sims["cityworks"],
              "username": "harness", "secret": secret},
    )  # fmt: skip
    status, geography = await g.upload_geography("City", "city.geojson", city_geojson())
    assert status == 201, geography
    await g.ok("POST", "/agencies", json={"name": "Works", "geography_id": geography["id"],
                                          "integration_id": integration["id"]})  # fmt: skip
    g.ids.update(integration=integration["id"], cityworks=sims["cityworks"])
    return g


async def scrape(g: Gateway) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of /metrics, as Prometheus' own parser reads the exposition."""
    async with g.http.get(f"{g.url}/metrics") as resp:
        assert resp.status == 200
        assert resp.content_type == "text/plain"
        text = await resp.text()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    """A sample's value, summed over the labels not given (0 when there is none)."""
    return sum(v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= ls)


async def first_category(g: Gateway) -> str:
    await g.run("category_sync", integration_id=g.ids["integration"])
    return next(c["code"] for c in (await g.ok("GET", "/categories"))["items"] if c["integration_id"])


@pytest.mark.req("H-OBS-1")
async def test_metrics_move_as_reports_deliveries_faults_and_jobs_happen(database_url):
    async with gateways(database_url) as ([g], sims):
        await linked(g, sims)
        before = await scrape(g)
        assert value(before, "civic_gateway_database_up") == 1
        assert value(before, "civic_gateway_outbox_rows") == 0

        code = await first_category(g)
        m = await scrape(g)
        assert value(m, "civic_gateway_job_runs_total", job="category_sync", status="ok") == 1
        assert value(m, "civic_gateway_job_duration_seconds_count", job="category_sync") == 1
        assert value(m, "civic_gateway_vendor_calls_total", vendor="cityworks", outcome="ok") >= 2  # sign-in, Problems
        assert value(m, "civic_gateway_vendor_calls_total", operation="ServiceRequest/Problems", outcome="ok") == 1

        for _ in range(2):
            await submit(g, code, photo=False)
        m = await scrape(g)
        # by the route's canonical path, never the raw one
        assert value(m, "civic_gateway_http_request_duration_seconds_count", route=CREATE, status="201") == 2
        assert not any(("route", "/open311/v2/requests.json") in ls for _, ls in m)
        assert value(m, "civic_gateway_outbox_rows", state="pending", kind="create_request") == 2
        assert value(m, "civic_gateway_outbox_oldest_pending_age_seconds") > 0

        # the vendor fails the first create with a 503: uncertain, the row waits for a retry
        await SimControl(g.http, sims["cityworks"]).add_faults(
            {"kind": "error", "status": 503, "path": "/Services/Ams/ServiceRequest/Create", "count": 1}
        )
        await g.run("deliver_outbox")
        m = await scrape(g)
        faulted = value(m, "civic_gateway_vendor_calls_total", operation="ServiceRequest/Create", outcome="uncertain",
                        fault="http_503")  # fmt: skip
        assert faulted == 1
        assert value(m, "civic_gateway_outbox_deliveries_total", kind="create_request", outcome="retry") == 1
        assert value(m, "civic_gateway_outbox_deliveries_total", kind="create_request", outcome="delivered") == 1
        assert value(m, "civic_gateway_report_to_vendor_seconds_count") == 1

        await g.run("deliver_outbox")
        m = await scrape(g)
        assert value(m, "civic_gateway_outbox_rows", state="pending") == 0
        assert value(m, "civic_gateway_outbox_deliveries_total", kind="create_request", outcome="delivered") == 2
        assert value(m, "civic_gateway_outbox_oldest_pending_age_seconds") == 0
        assert value(m, "civic_gateway_report_to_vendor_seconds_count") == 2
        assert value(m, "civic_gateway_job_runs_total", job="deliver_outbox") == 2

        # a job that fails counts as failed with its errors
        await g.ok("PATCH", f"/integrations/{g.ids['integration']}", json={"secret": VENDOR_SECRET})
        await g.admin("POST", "/jobs/category_sync/run", json={"integration_id": g.ids["integration"]})
        m = await scrape(g)
        assert value(m, "civic_gateway_job_runs_total", job="category_sync", status="failed") == 1
        assert value(m, "civic_gateway_job_errors_total", job="category_sync") >= 1
        assert value(m, "civic_gateway_vendor_calls_total", operation="Authentication/Authenticate",
                     outcome="rejected", fault="envelope") >= 1  # fmt: skip


@pytest.mark.req("H-OBS-1", "H-REL-2")
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_instances_on_one_database_agree_on_the_outbox_and_the_leases(database_url):
    async with gateways(database_url, instances=2) as ([a, b], sims):
        await linked(a, sims)
        b.ids.update(a.ids)
        code = await first_category(a)
        for _ in range(3):
            await submit(a, code, photo=False)
        # a job lease as instance a holds one while its job runs
        assert await leases.acquire(a.app[ENGINE], "status_poll:1", "instance-a:1", 60)  # type: ignore[attr-defined]
        seen_a, seen_b = await scrape(a), await scrape(b)
        for m in (seen_a, seen_b):  # what the database holds: the same from either instance
            assert value(m, "civic_gateway_outbox_rows", state="pending", kind="create_request") == 3
            assert value(m, "civic_gateway_job_lease_holder", job="status_poll:1", holder="instance-a:1") == 1
        # what each process did: only the one that served the reports counted them
        assert value(seen_a, "civic_gateway_http_request_duration_seconds_count", route=CREATE) == 3
        assert value(seen_b, "civic_gateway_http_request_duration_seconds_count", route=CREATE) == 0

        await b.run("deliver_outbox")  # b delivers what a took
        seen_a, seen_b = await scrape(a), await scrape(b)
        for m in (seen_a, seen_b):  # the backlog is gone, whoever looks
            assert value(m, "civic_gateway_outbox_rows", state="pending") == 0
            assert value(m, "civic_gateway_outbox_oldest_pending_age_seconds") == 0
        assert value(seen_b, "civic_gateway_report_to_vendor_seconds_count") == 3
        assert value(seen_a, "civic_gateway_report_to_vendor_seconds_count") == 0
        assert value(seen_b, "civic_gateway_outbox_deliveries_total", kind="create_request", outcome="delivered") == 3
        assert value(seen_a, "civic_gateway_outbox_deliveries_total") == 0


@pytest.mark.req("H-OBS-1")
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_health_and_readiness_say_what_is_wrong(database_url):
    async with gateways(database_url, scheduler_tick_s=60) as ([g], _):
        async with g.http.get(f"{g.url}/healthz") as resp:
            assert resp.status == 200 and await resp.json() == {"status": "alive"}
        async with g.http.get(f"{g.url}/readyz") as resp:
            ready = await resp.json()
            assert resp.status == 200, ready
        assert ready == {"status": "ready", "checks": {"database": "ok", "migrations": "ok", "scheduler": "running"}}

        engine = g.app[ENGINE]  # type: ignore[attr-defined]
        async with engine.begin() as conn:  # the database falls behind the code (an older schema restored)
            await conn.execute(sa.text("UPDATE alembic_version SET version_num = '0006'"))
        async with g.http.get(f"{g.url}/readyz") as resp:
            behind = await resp.json()
            assert resp.status == 503, behind
        assert behind["status"] == "not_ready"
        assert behind["checks"]["migrations"] == "at 0006, code needs 0007"
        async with g.http.get(f"{g.url}/healthz") as resp:
            assert resp.status == 200  # alive all the same: a restart would not help


@pytest.mark.req("H-OBS-1")
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_metrics_off_means_no_metrics_endpoint(database_url):
    async with gateways(database_url, metrics=False) as ([g], _), g.http.get(f"{g.url}/metrics") as resp:
        assert resp.status == 404
        assert (await resp.json())["error"]["code"] == "not_found"


@pytest.mark.req("H-OBS-2")
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_one_report_is_one_trace_from_open311_to_the_vendor_journal(database_url):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with gateways(database_url, provider=provider) as ([g], sims):
        await linked(g, sims)
        code = await first_category(g)
        exporter.clear()
        # a client that is itself traced: the report joins its trace
        client_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
        form = aiohttp.FormData()
        for k, v in {"api_key": API_KEY, "service_code": code, **INSIDE, "description": "Tree down"}.items():
            form.add_field(k, v)
        form.add_field("media", PNG, filename="tree.png", content_type="image/png")
        headers = {"traceparent": f"00-{client_trace}-00f067aa0ba902b7-01"}
        async with g.http.post(f"{g.url}/open311/v2/requests.json", data=form, headers=headers) as resp:
            assert resp.status == 201
            rid = (await resp.json())[0]["service_request_id"]
        await g.run("deliver_outbox")
        await g.run("deliver_outbox")  # the photo's row, queued by the create

        spans = exporter.get_finished_spans()
        by_name = {s.name: s for s in spans}
        server = by_name[f"POST {CREATE}"]
        delivery = by_name["outbox deliver create_request"]
        attachment = by_name["outbox deliver add_attachment"]
        create = by_name["cityworks ServiceRequest/Create"]
        trace_id = format(server.context.trace_id, "032x")
        assert trace_id == client_trace
        for span in (delivery, attachment, create):
            assert format(span.context.trace_id, "032x") == trace_id, span.name
        assert delivery.parent.span_id == server.context.span_id  # through the outbox row
        assert create.parent.span_id == delivery.context.span_id
        assert create.attributes["vendor.outcome"] == "ok"

        # the vendor saw the trace: its journal names it, so a conformance failure's evidence can
        journal = await SimControl(g.http, sims["cityworks"]).journal(operation="Ams_ServiceRequest_Create")
        (entry,) = [e for e in journal["entries"] if e["trace_id"] == trace_id]
        assert entry["traceparent"].split("-")[2] == format(create.context.span_id, "016x")
        trail = await g.ok("GET", f"/requests/{rid}")
        assert [row["trace_id"] for row in trail["outbox"]] == [trace_id, trace_id]


async def test_tracing_is_off_by_default(tmp_path, monkeypatch):
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
    async with gateways(f"sqlite:///{tmp_path / 'g.db'}") as ([g], sims):
        await linked(g, sims)
        await submit(g, await first_category(g), photo=False)
        await g.run("deliver_outbox")
        journal = await SimControl(g.http, sims["cityworks"]).journal()
        assert journal["entries"] and all(e["traceparent"] is None for e in journal["entries"])
        rid = (await g.ok("GET", "/outbox?state=delivered"))["items"][0]["service_request_id"]
        assert (await g.ok("GET", f"/requests/{rid}"))["outbox"][0]["trace_id"] is None


@pytest.mark.req("H-OBS-3", "H-REL-3")
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_log_lines_are_json_events_with_the_trace_and_no_secret(database_url):
    lines = io.StringIO()
    handler = configure("json", "DEBUG", secrets=(ADMIN_TOKEN, API_KEY), stream=lines)
    provider = TracerProvider()
    try:
        async with gateways(database_url, provider=provider) as ([g], sims):
            await linked(g, sims, secret=VENDOR_SECRET)
            await g.admin("POST", "/jobs/category_sync/run", json={"integration_id": g.ids["integration"]})
            async with g.http.get(f"{g.url}/open311/v2/requests.json", params={"api_key": API_KEY}) as resp:
                assert resp.status == 200
            async with g.http.get(f"{g.url}/admin/v1/agencies", headers={"Authorization": "Bearer " + API_KEY}):
                pass
            logging.getLogger("civic_harness.gateway").warning("a careless line naming %s", ADMIN_TOKEN)
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(logging.WARNING)
    text = lines.getvalue()
    for secret in (ADMIN_TOKEN, API_KEY, VENDOR_SECRET):
        assert secret not in text
    events = [json.loads(line) for line in text.splitlines()]  # one JSON object a line, every line
    served = [e for e in events if e["event"] == "http.request"]
    assert {"route": "/open311/v2/requests.{fmt}", "status": 200, "method": "GET"}.items() <= served[-2].items()
    assert all(len(e["trace_id"]) == 32 for e in served)
    failed = [e for e in events if e["event"] == "job.run" and e["status"] == "failed"]
    assert failed and failed[0]["job"].startswith("category_sync:")
    assert any(e["event"] == "a careless line naming ***" for e in events)


def test_the_otel_variables_decide_whether_and_where_spans_go():
    from gateway.observability.tracing import provider_from_environment

    assert provider_from_environment({}) is None  # off by default
    assert provider_from_environment({"OTEL_TRACES_EXPORTER": "none"}) is None
    assert provider_from_environment({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}) is None
    console = provider_from_environment({"OTEL_TRACES_EXPORTER": "console"})
    otlp = provider_from_environment({"OTEL_TRACES_EXPORTER": "otlp"})
    try:
        assert console.resource.attributes["service.name"] == "civic-harness-gateway"
        assert otlp is not None
    finally:
        console.shutdown()
        otlp.shutdown()
    with pytest.raises(ValueError, match="OTEL_TRACES_EXPORTER='zipkin'"):
        provider_from_environment({"OTEL_TRACES_EXPORTER": "zipkin"})


def test_a_journal_names_only_a_well_formed_trace():
    from simulators.kit.journal import trace_of

    good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    assert trace_of([("Host", "x"), ("TraceParent", good)]) == (good, "4bf92f3577b34da6a3ce929d0e0e4736")
    assert trace_of([("traceparent", "00-" + "0" * 32 + "-00f067aa0ba902b7-01")]) == (None, None)  # invalid id
    assert trace_of([("traceparent", "not a trace")]) == (None, None)
    assert trace_of([("Host", "x")]) == (None, None)


@pytest.mark.req("H-OBS-1")
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_readiness_says_the_database_is_gone_without_naming_it(database_url):
    import asyncpg

    from .conftest import PG_ADMIN_URL

    async with gateways(database_url) as ([g], _):
        async with g.http.get(f"{g.url}/readyz") as resp:
            assert resp.status == 200
        admin = await asyncpg.connect(PG_ADMIN_URL)  # the database dropped under the running gateway
        try:
            await admin.execute(f'DROP DATABASE "{database_url.rsplit("/", 1)[1]}" WITH (FORCE)')
        finally:
            await admin.close()
        async with g.http.get(f"{g.url}/readyz") as resp:
            gone = await resp.json()
            assert resp.status == 503, gone
        assert gone["checks"]["database"].startswith("unreachable (") and gone["checks"]["migrations"] == "unknown"
        assert "127.0.0.1" not in json.dumps(gone) and "postgres" not in json.dumps(gone).lower()
        m = await scrape(g)  # metrics still answer: the database's gauges are left out, not stale
        assert value(m, "civic_gateway_database_up") == 0 and value(m, "civic_gateway_outbox_rows") == 0
        async with g.http.get(f"{g.url}/healthz") as resp:
            assert resp.status == 200
