"""Benchmark: external to-dos pushed through POST /api/v1/todos/bulk (the full request stack: bearer
token, scope, rate limit, validation, the upsert, the audit row, the live push), on PostgreSQL when
DATABASE_URL says so, else on SQLite.

Run with `make bench` (pytest -s tests/bench) or just this file. Figures are printed; the only
assertions are the correctness ones (every item landed, every push reached the socket group).

Throughput: batches of 1,000 and 5,000 new items (spread over the 省府办公厅's people of the test
cast), RUNS times each; items/s = batch ÷ the POST's wall time. The same batch posted again (an
idempotent retry: nothing written) is timed too.
Latency: LATENCY_SAMPLES single-item pushes for the drafter. For each, after the POST's response:
the time until the drafter's 待办 page (GET /workflows/inbox/) lists the new title, and the time
until the `inbox.changed` frame is read from the drafter's socket group on the channel layer (the
push is queued on commit, before the response leaves, so it is already there).
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.test import Client

from officeapp.notify.relay import user_group
from tests.integration.conftest import _make_app, _token_for
from workflows.models_external import ExternalTodo

RUNS = int(os.environ.get("TODO_BENCH_RUNS", "3"))
BATCHES = [int(n) for n in os.environ.get("TODO_BENCH_BATCHES", "1000,5000").split(",")]
LATENCY_SAMPLES = int(os.environ.get("TODO_BENCH_LATENCY_SAMPLES", "20"))


def _items(prefix: str, n: int, users: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "external_id": f"{prefix}-{i}",
            "user": users[i % len(users)],
            "title": f"审批事项 {prefix}-{i}",
            "url": f"https://app.example.test/approvals/{prefix}-{i}",
            "urgency": "urgent" if i % 10 == 0 else "normal",
            "deadline": "2030-12-31",
        }
        for i in range(n)
    ]


def _post(client: Client, token: str, path: str, body: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    response = client.post(path, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    return response, time.perf_counter() - started


@pytest.mark.django_db(transaction=True)
def test_todos_per_second_through_the_bulk_endpoint_and_time_until_they_show(cast: Any, bench: Any) -> None:
    app = _make_app(cast.gov_office, scopes=["todos.write"], rate_limit_per_minute=100000)
    token = _token_for(app, scopes="todos.write")
    users = [
        u.username
        for u in (
            cast.drafter,
            cast.dept_head,
            cast.office_secretary,
            cast.office_director,
            cast.leader,
            cast.clerk,
        )
    ]
    api = Client()
    rows = []
    for batch in BATCHES:
        rates, retry_rates = [], []
        for run in range(RUNS):
            items = _items(f"b{batch}r{run}", batch, users)
            response, seconds = _post(api, token, "/api/v1/todos/bulk", {"items": items})
            assert response.status_code == 200 and response.json()["created"] == batch
            rates.append(batch / seconds)
            again, retry_seconds = _post(api, token, "/api/v1/todos/bulk", {"items": items})
            assert again.json()["unchanged"] == batch
            retry_rates.append(batch / retry_seconds)
        rows.append((batch, f"{statistics.median(rates):,.0f}", f"{statistics.median(retry_rates):,.0f}"))
    assert ExternalTodo.objects.count() == sum(BATCHES) * RUNS
    bench.print_table(
        f"Bulk push ({connection.vendor}, median of {RUNS} runs; full request stack)",
        ["items per POST", "new items/s", "unchanged retry items/s"],
        rows,
    )

    # Latency until the drafter sees a new one: the 待办 page and the socket frame.
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(user_group(cast.drafter.pk), channel)
    page = Client()
    page.force_login(cast.drafter, backend="officeapp.accounts.backends.LockoutAwareBackend")
    page_ms, socket_ms, post_ms = [], [], []
    for n in range(LATENCY_SAMPLES):
        title = f"延迟测试 {n}"
        body = {
            "external_id": f"lat-{n}",
            "user": cast.drafter.username,
            "title": title,
            "url": f"https://app.example.test/l/{n}",
        }
        response, seconds = _post(api, token, "/api/v1/todos/", body)
        assert response.status_code == 201
        post_ms.append(seconds * 1000)
        answered = time.perf_counter()
        frame = async_to_sync(layer.receive)(channel)
        socket_ms.append((time.perf_counter() - answered) * 1000)
        assert frame["frame"]["type"] == "inbox.changed"
        answered = time.perf_counter()
        html = page.get("/workflows/inbox/").content.decode()
        page_ms.append((time.perf_counter() - answered) * 1000)
        assert title in html
    bench.print_table(
        f"Single push → visible to the drafter ({connection.vendor}, {LATENCY_SAMPLES} pushes; ms)",
        ["measure", "p50", "p95", "max"],
        [
            ("POST /api/v1/todos/ (201)", *bench.percentiles(post_ms)),
            ("after the response: frame read from the socket group", *bench.percentiles(socket_ms)),
            ("after the response: 待办 page lists it (one GET)", *bench.percentiles(page_ms)),
        ],
    )
