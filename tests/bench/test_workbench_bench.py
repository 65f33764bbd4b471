"""Benchmark: the 工作台 page ("/") for a user with 10³ and with 10⁶ tasks.

Over the generate_scale database (tests/bench/conftest.py, PostgreSQL only): GET "/" through the
whole stack (middleware, session, tiles from every registered inbox source, template) for three
signed-in users: one with no task (the baseline, measured in the same run), one with 10³ viewflow
tasks and one with 10⁶. Prints p50/p95 and the ratio to the baseline, and the number of SQL
queries of each page. The query count must be the same at 10³ and 10⁶ tasks (asserted: a count is
not a timing); the times are printed only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/officeapp make bench
"""

from __future__ import annotations

import os
import time
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from viewflow.workflow.models import Task

from officeapp.org.models import User

ROUNDS = int(os.environ.get("WORKBENCH_BENCH_ROUNDS", "60"))
WARMUP = 5


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="officeapp.accounts.backends.LockoutAwareBackend")
    return client


def _measure(client: Client) -> tuple[list[float], int, int]:
    for _ in range(WARMUP):
        client.get("/")
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        response = client.get("/")
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    return samples, len(queries.captured_queries), response.status_code


def test_workbench_p95_and_query_count_at_1e3_and_1e6_tasks(scale_db: Any, bench: Any) -> None:
    owners = {
        "基线：无任务": User.objects.filter(username__startswith="u").order_by("pk").first(),
        "10³ 任务": User.objects.get(username=scale_db.small_owner),
        "10⁶ 任务": User.objects.get(username=scale_db.large_owner),
    }
    task_counts = {label: Task.objects.filter(owner=user).count() for label, user in owners.items()}
    results = {label: _measure(_signed_in(user)) for label, user in owners.items()}
    base_p50 = bench.percentiles(results["基线：无任务"][0])[0]
    rows = []
    for label, (samples, query_count, _status) in results.items():
        p50, p95, worst = bench.percentiles(samples)
        rows.append(
            (label, f"{task_counts[label]:,}", len(samples), p50, p95, worst, p50 / base_p50, query_count)
        )
    bench.print_table(
        f"工作台 GET /，{scale_db.users:,} 名用户，数据库 {scale_db.name}（毫秒）",
        ["用户", "任务数", "次数", "p50", "p95", "最大", "p50/基线", "SQL 查询数"],
        rows,
    )

    assert results["10³ 任务"][1] == results["10⁶ 任务"][1], "工作台的查询数随任务数增长"
    assert task_counts["10⁶ 任务"] > task_counts["10³ 任务"]
