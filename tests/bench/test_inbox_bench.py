"""Benchmark: the inbox page (/workflows/inbox/) for a user with 10³ and with 10⁶ tasks.

Over the generate_scale database (tests/bench/conftest.py, PostgreSQL only; the 10⁶ owner's tasks
are 1 open : 4 done, spread over three years). GET through the whole stack (middleware, session,
tab counts, window aggregate, rows, other sources, template) for each tab, a search, a filtered and
date-bounded list and a deep page. Prints p50/p95/max per case and the SQL query count; the query
count must be the same at 10³ and 10⁶ tasks (asserted: a count is not a timing). The target is a p95
under 50 ms at 10⁶ tasks; the times are printed with a mark, not asserted (a busy machine is not a
regression).

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

ROUNDS = int(os.environ.get("INBOX_BENCH_ROUNDS", "60"))
WARMUP = 5
TARGET_P95_MS = 50.0
URL = "/workflows/inbox/"

CASES: dict[str, dict[str, str]] = {
    "待办": {},
    "已办": {"tab": "done"},
    "办结": {"tab": "closed"},
    "待办·搜索标题": {"q": "任务 9"},
    "已办·紧急+超期+日期": {"tab": "done", "urgency": "urgent", "overdue": "on", "date_from": "2025-01-01"},
    "已办·按期限排序第 5 页": {"tab": "done", "sort": "deadline", "page": "5"},
    # 传阅: the tabs' counts ride in the task counts' query; their rows read the (reader, state,
    # arrived_at) index, so their query count must not grow with the tasks either.
    "待阅": {"tab": "unread"},
    "已阅·搜索标题": {"tab": "read", "q": "任务 9"},
}


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="officeapp.accounts.backends.LockoutAwareBackend")
    return client


def _measure(client: Client, params: dict[str, str]) -> tuple[list[float], int, float]:
    for _ in range(WARMUP):
        client.get(URL, params)
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        response = client.get(URL, params)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(URL, params)
    # The inbox's own SQL (the queries that read tasks), in ms: steadier than the page's time on a
    # shared machine, and the part that grows, if anything does, with the number of tasks.
    task_sql_ms = sum(
        float(q["time"]) * 1000 for q in queries.captured_queries if "viewflow_task" in q["sql"]
    )
    return samples, len(queries.captured_queries), task_sql_ms


def test_inbox_page_p95_and_query_count_at_1e3_and_1e6_tasks(scale_db: Any, bench: Any) -> None:
    owners = {
        # The same page for a person with no task: what the stack costs (session, middleware, base
        # template, bell) on this machine in this run, so the inbox's own share can be read off.
        "基线": User.objects.filter(username__startswith="u").order_by("pk").first(),
        "10³": User.objects.get(username=scale_db.small_owner),
        "10⁶": User.objects.get(username=scale_db.large_owner),
    }
    task_counts = {label: Task.objects.filter(owner=user).count() for label, user in owners.items()}
    rows, counts, base = [], {}, {}
    for label, user in owners.items():
        client = _signed_in(user)
        for case, params in CASES.items():
            samples, query_count, task_sql_ms = _measure(client, params)
            p50, p95, worst = bench.percentiles(samples)
            counts[(label, case)] = query_count
            base.setdefault(case, p50)
            mark = "" if label != "10⁶" else ("✓" if p95 < TARGET_P95_MS else "✗ 超过 50 ms")
            rows.append(
                (
                    case,
                    f"{task_counts[label]:,}",
                    len(samples),
                    p50,
                    p95,
                    worst,
                    p50 - base[case],
                    task_sql_ms,
                    query_count,
                    mark,
                )
            )
    bench.print_table(
        f"收件箱 GET {URL}，{scale_db.users:,} 名用户，数据库 {scale_db.name}（毫秒；目标 10⁶ 任务 p95 < 50）",
        ["情形", "任务数", "次数", "p50", "p95", "最大", "p50−基线", "任务 SQL 用时", "SQL 查询数", "目标"],
        rows,
    )

    for case in CASES:
        assert counts[("10³", case)] == counts[("10⁶", case)], f"{case}：查询数随任务数增长"
    assert task_counts["10⁶"] > task_counts["10³"]
