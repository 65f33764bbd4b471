"""Benchmark: 发文字号 under 30 concurrent requests on PostgreSQL.

Run with `make bench` (pytest -s tests/bench) with DATABASE_URL=postgres://…; skipped on SQLite,
whose single writer serialises everything anyway. Figures are printed; the only assertions are
the correctness ones (each round's 30 numbers are distinct and consecutive).

1. Service: 30 threads, each with its own connection, released together by a barrier, each call
   `documents.numbering.assign_number` (what the 编号 step runs) on its own document. The first
   round starts with no sequence row for the year (the racing creates), later rounds queue on the
   existing row. Per-call latency p50/p95/max, and the wall time for all 30.
2. HTTP: 30 threads, each a signed-in test client of the 文秘, POST the 预留 form of the 文号
   register at once: the same lock behind the full request stack (session, middleware, form,
   audit, outbox).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

PARALLEL = int(os.environ.get("NUMBERING_BENCH_PARALLEL", "30"))
ROUNDS = int(os.environ.get("NUMBERING_BENCH_ROUNDS", "5"))

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not settings.IS_POSTGRES, reason="基准测试（并发取号）只在 PostgreSQL 上运行：请设置 DATABASE_URL"
    ),
]


def _race(calls: list[Callable[[], int]]) -> tuple[list[float], list[int], float]:
    """Run the calls at once, one thread each. (latencies in ms, results, wall time in ms)."""
    start = threading.Barrier(len(calls) + 1)
    latencies: list[float] = []
    results: list[int] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def run(call: Callable[[], int]) -> None:
        try:
            start.wait()
            began = time.perf_counter()
            value = call()
            took = (time.perf_counter() - began) * 1000
            with lock:
                latencies.append(took)
                results.append(value)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    wall = (time.perf_counter() - began) * 1000
    assert failures == [], failures[:3]
    return latencies, results, wall


def _consecutive(serials: list[int]) -> bool:
    return len(set(serials)) == len(serials) and max(serials) - min(serials) + 1 == len(serials)


@pytest.mark.django_db(transaction=True)
def test_numbering_under_thirty_concurrent_requests(bench: Any) -> None:
    from django.test import Client
    from django.urls import reverse

    from documents.models import DocNumber, NumberState
    from documents.numbering import assign_number
    from tests.conftest import build_cast
    from tests.documents.factories import make_document

    cast = build_cast()
    rows: list[list[Any]] = []
    all_latencies: list[float] = []
    for round_no in range(1, ROUNDS + 1):
        documents = [
            make_document(cast, title=f"关于第{round_no}轮第{i}项工作的通知") for i in range(PARALLEL)
        ]

        def call(document: Any = None) -> int:
            return assign_number(document, actor=cast.office_secretary).serial

        latencies, serials, wall = _race([lambda d=d: call(d) for d in documents])
        assert _consecutive(serials), sorted(serials)
        all_latencies += latencies
        p50, p95, top = bench.percentiles(latencies)
        label = "首轮（含并发创建序列）" if round_no == 1 else f"第{round_no}轮"
        rows.append([label, PARALLEL, f"{min(serials)}–{max(serials)}", wall, p50, p95, top])
    p50, p95, top = bench.percentiles(all_latencies)
    rows.append(["全部", PARALLEL * ROUNDS, "", "", p50, p95, top])
    bench.print_table(
        f"编号服务 assign_number：{PARALLEL} 个并发请求 × {ROUNDS} 轮（PostgreSQL，毫秒）",
        ["轮次", "请求数", "序号", "全部取得用时", "p50", "p95", "最大"],
        rows,
    )

    clients = []
    for _ in range(PARALLEL):
        client = Client()
        client.force_login(cast.office_secretary, backend="officeapp.accounts.backends.LockoutAwareBackend")
        clients.append(client)
    url = reverse("documents:number_reserve", args=[cast.gov_office.pk])
    year = 2031  # a year nobody else numbers in: the sequence row is created by the race itself

    def post(client: Client) -> int:
        response = client.post(url, {"prefix": "粤府办", "year": str(year), "reason": "基准测试"})
        assert response.status_code == 302, response.status_code
        return 0

    latencies, _, wall = _race([lambda c=c: post(c) for c in clients])
    serials = list(
        DocNumber.objects.filter(sequence__year=year, state=NumberState.RESERVED).values_list(
            "serial", flat=True
        )
    )
    assert sorted(serials) == list(range(1, PARALLEL + 1))
    p50, p95, top = bench.percentiles(latencies)
    bench.print_table(
        f"预留文号页面 POST：{PARALLEL} 个并发请求（完整请求链路，PostgreSQL，毫秒）",
        ["请求数", "序号", "全部取得用时", "p50", "p95", "最大"],
        [[PARALLEL, f"1–{PARALLEL}", wall, p50, p95, top]],
    )
