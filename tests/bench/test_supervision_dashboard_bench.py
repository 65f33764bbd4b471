"""Benchmark: the 督办看板 at 100,000 items and 500,000 reports, and the Excel export of 10,000 rows
(PostgreSQL only).

Set-up: one province-level agency with DEPARTMENTS departments (a head and two staff each), its
督查员, and a province-level leader whose 分管 covers the whole agency; then S2's
`build_supervision_data` (tests/bench/supervision_data.py: items in 承办 with realistic lights, a
fifth with a 协办 department, reports spread over them) — first SMALL items, then up to ITEMS.

Measured, through the real page (Django test client, the whole request), after one warm-up:
- the dashboard's queries for a department head, the leader and the 督查员 at 10³ and at 10⁵ items
  (asserted equal: every figure is one GROUP BY, the page never loops over items);
- its p50/p95/max over RUNS requests at 10⁵ items for each of them (target p95 < 200 ms: printed
  with whether it is met, not asserted — the figures go to docs/benchmarks.md either way);
- that each page's figures read from the tally (D24) equal those counted item by item (asserted),
  and how long the hourly rebuild of the tally takes (it locks the item and unit tables);
- the Excel export of 10,000 rows (the 督查员's, as the page streams it): time, and peak Python
  memory with tracemalloc (a separate run, as tracing slows it).

SUPERVISION_BENCH_EXPLAIN=1 also prints each query of each page with its EXPLAIN ANALYZE time, the
slowest plans, and a cProfile of one request; SUPERVISION_BENCH_RUNS sets the requests per person.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/officeapp_s4 REDIS_URL=redis://127.0.0.1:6379/14 \
        TESTING=1 .venv/bin/python -m pytest -q -s tests/bench/test_supervision_dashboard_bench.py -p no:randomly

Sizes can be lowered for a quick try with SUPERVISION_BENCH_ITEMS / SUPERVISION_BENCH_REPORTS.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import tracemalloc
from datetime import date, datetime
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db,
    pytest.mark.skipif(
        not settings.IS_POSTGRES, reason="基准测试只在 PostgreSQL 上运行：请设置 DATABASE_URL=postgres://…"
    ),
]

ITEMS = int(os.environ.get("SUPERVISION_BENCH_ITEMS", "100000"))
REPORTS = int(os.environ.get("SUPERVISION_BENCH_REPORTS", str(ITEMS * 5)))
SMALL = 1000
DEPARTMENTS = 50
RUNS = int(os.environ.get("SUPERVISION_BENCH_RUNS", "30"))
# Print EXPLAIN ANALYZE of every query of each person's page (to see what dominates).
EXPLAIN = os.environ.get("SUPERVISION_BENCH_EXPLAIN") == "1"
EXPORT_ROWS = 10_000
TARGET_MS = 200
TODAY = date(2026, 11, 17)
DASHBOARD = "/workflows/supervision/dashboard/"
EXPORT = "/workflows/supervision/export.xlsx"


def build_org() -> dict[str, Any]:
    from officeapp.org import services
    from officeapp.org.models import AgencyLevel, Portfolio, Role

    agency = services.create_agency(
        actor=None, name="基准督办厅", short_name="督办厅", level=AgencyLevel.PROVINCE, code="BENCH-SV"
    )
    departments, heads = [], []
    for d in range(DEPARTMENTS):
        department = services.create_department(
            actor=None, agency=agency, name=f"第{d + 1}处", code=f"BENCH-SV-{d}"
        )
        head = services.create_user(
            actor=None, username=f"sv.head.{d}", real_name=f"处长{d}", department=department
        )
        services.grant_role(actor=None, user=head, role=Role.DEPT_HEAD, department=department)
        for s in range(2):
            services.create_user(
                actor=None, username=f"sv.staff.{d}.{s}", real_name=f"科员{d}-{s}", department=department
            )
        departments.append(department)
        heads.append(head)
    supervisor = services.create_user(
        actor=None, username="sv.supervisor", real_name="督查员", department=departments[-1]
    )
    services.grant_role(actor=None, user=supervisor, role=Role.SUPERVISOR, agency=agency)
    leader = services.create_user(
        actor=None, username="sv.leader", real_name="厅长", department=departments[0]
    )
    services.grant_role(actor=None, user=leader, role=Role.LEADER, agency=agency)
    Portfolio.objects.create(leader=leader, agency=agency)
    return {
        "agency": agency,
        "departments": departments,
        "people": {"处室负责人": heads[0], "省级领导（分管全厅）": leader, "督查员": supervisor},
    }


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend="officeapp.accounts.backends.LockoutAwareBackend")
    return client


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        assert response.status_code == 200
    return len(ctx.captured_queries)


def _explain(client: Client, url: str, who: str) -> None:
    """Each query of the page with its execution time (EXPLAIN ANALYZE), slowest plans printed."""
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    timed = []
    for query in ctx.captured_queries:
        sql = query["sql"]
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(r[0] for r in cursor.fetchall())
        ms = float(plan.rsplit("Execution Time: ", 1)[1].split(" ms")[0])
        timed.append((ms, sql, plan))
    print(f"\n=== {who}: {len(ctx.captured_queries)} queries, SQL {sum(t[0] for t in timed):.0f} ms")
    for ms, sql, _ in timed:
        print(f"{ms:8.1f} ms  {sql[:160]}")
    for ms, sql, plan in sorted(timed, reverse=True)[:3]:
        print(f"\n--- {ms:.1f} ms\n{sql[:2000]}\n{plan}")
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.runcall(client.get, url)
    stats = pstats.Stats(profile)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)  # where the Python time itself goes


def _timed(client: Client, url: str, runs: int) -> list[float]:
    client.get(url)  # warm-up: templates, plans
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return samples


def _tally_totals() -> dict[str, Any]:
    from django.db.models import Sum

    from workflows.models import SupervisionTally

    return SupervisionTally.objects.aggregate(n=Sum("n"), closed=Sum("closed"), late=Sum("late_days"))


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def test_dashboard_and_export_at_scale(bench: Any) -> None:
    from tests.bench.supervision_data import build_supervision_data
    from workflows.models import ProgressReport, SupervisionItem
    from workflows.supervision_stats import ItemFilter, scoped_items
    from workflows.views.supervision_dashboard import write_export

    with time_machine.travel(timezone.make_aware(datetime(2026, 11, 17, 10, 0)), tick=True):
        org = build_org()
        people = org["people"]
        clients = {who: _client(user) for who, user in people.items()}

        # 10³ items: the query count of each person's dashboard
        start = time.perf_counter()
        build_supervision_data(
            items=SMALL,
            reports=SMALL * 5,
            agency=org["agency"],
            departments=org["departments"],
            today=TODAY,
        )
        small_queries = {who: _queries(c, DASHBOARD) for who, c in clients.items()}

        # 10⁵ items, 5·10⁵ reports
        build_supervision_data(
            items=ITEMS - SMALL,
            reports=REPORTS - SMALL * 5,
            agency=org["agency"],
            departments=org["departments"],
            today=TODAY,
            seed=2027,
        )
        built = time.perf_counter() - start
        items, reports = SupervisionItem.objects.count(), ProgressReport.objects.count()
        large_queries = {who: _queries(c, DASHBOARD) for who, c in clients.items()}

        if EXPLAIN:
            for who, client in clients.items():
                _explain(client, DASHBOARD, who)

        rows = []
        p95s = {}
        for who, client in clients.items():
            visible = scoped_items(people[who], ItemFilter()).count()
            samples = _timed(client, DASHBOARD, RUNS)
            p50, p95, worst = statistics.median(samples), _p95(samples), max(samples)
            p95s[who] = p95
            rows.append(
                [
                    who,
                    visible,
                    small_queries[who],
                    large_queries[who],
                    f"{p50:.0f}",
                    f"{p95:.0f}",
                    f"{worst:.0f}",
                ]
            )
        bench.print_table(
            f"督办看板 ({items:,} items, {reports:,} reports; built in {built:.0f} s; {RUNS} requests each)",
            ["who", "items seen", "queries @10³", "queries @10⁵", "p50 ms", "p95 ms", "max ms"],
            rows,
        )

        # The page's figures read from the tally (D24) equal the ones counted item by item, at 10⁵
        # items loaded by COPY; and the hourly rebuild of the tally: how long it holds writers off.
        from workflows.supervision_stats import dashboard
        from workflows.supervision_tally import rebuild

        for who, user in people.items():
            assert dashboard(user, ItemFilter()) == dashboard(user, ItemFilter(), use_tally=False), who
        tally_before = _tally_totals()
        start = time.perf_counter()
        tally_rows = rebuild()
        rebuild_ms = (time.perf_counter() - start) * 1000
        assert _tally_totals() == tally_before
        bench.print_table(
            "督办统计 hourly rebuild (item and unit tables locked against writers meanwhile)",
            ["tally rows after", "time ms"],
            [[tally_rows, f"{rebuild_ms:.0f}"]],
        )

        # Excel export of 10,000 rows, through the page (the 督查员 sees them all)
        supervisor = clients["督查员"]
        supervisor.get(EXPORT)  # warm-up
        start = time.perf_counter()
        response = supervisor.get(EXPORT)
        size = len(b"".join(response.streaming_content))
        export_ms = (time.perf_counter() - start) * 1000
        # Peak memory of writing the same workbook (the view's own work) under tracemalloc
        export_items = scoped_items(people["督查员"], ItemFilter()).order_by("due_on", "-pk")
        tracemalloc.start()
        with tempfile.TemporaryFile() as target:
            written = write_export(export_items, target)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        bench.print_table(
            "督办事项 Excel export",
            ["rows", "time ms (whole request)", "file KB", "peak Python memory MB (tracemalloc)"],
            [[written, f"{export_ms:.0f}", f"{size / 1024:.0f}", f"{peak / 2**20:.1f}"]],
        )

    assert small_queries == large_queries, "the dashboard's query count grew with the items"
    assert items == ITEMS and written == EXPORT_ROWS
    for who, p95 in p95s.items():
        print(f"{who}: p95 {p95:.0f} ms — target {TARGET_MS} ms {'met' if p95 < TARGET_MS else 'NOT met'}")
