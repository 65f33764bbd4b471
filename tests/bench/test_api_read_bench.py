"""Benchmark: the documents API's list (GET /api/v1/documents/) at 1,000,000 documents (PostgreSQL only).

Set-up: AGENCIES agencies (one department and one 收发员 each); `build_document_data`
(tests/bench/api_data.py) writes DOCUMENTS 公文 with COPY — half 发文, half 收文, the focus agency
(a city's 办公室) holding 5% of them — and their exchange records. A registered app of the focus
agency reads with its own token (as a 收发员 of its agency would, `documents_for_app`) and with a user
token of the agency's 收发员 (`visible_documents`, the pages' rule).

Measured through the real stack (Django test client: bearer token, scope check, rate limit, audit
row, serializer), after a warm-up, RUNS requests each:
- the first page of 50 in the default order (newest id first), and with a common filter
  (?category=incoming: the 收发员's 收文) and with ?year=<this year>;
- p50/p95/max per token and variant, and the queries per request, asserted the same on a page
  reached by the cursor three pages deep (no query per row, no count).
Target p95 < 200 ms, printed with whether it is met (the figures go to docs/benchmarks.md).

API_BENCH_EXPLAIN=1 prints EXPLAIN (ANALYZE, BUFFERS) of each variant's list query;
API_BENCH_PROFILE=1 a cProfile of one request per token (where the time goes beside SQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/officeapp_bench REDIS_URL=redis://127.0.0.1:6379/15 \\
        TESTING=1 .venv/bin/python -m pytest -q -s tests/bench/test_api_read_bench.py -p no:randomly

API_BENCH_DOCUMENTS lowers the size for a quick try; API_BENCH_RUNS sets the requests per variant.
"""

from __future__ import annotations

import os
import secrets
import time
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

pytestmark = [
    pytest.mark.postgres,
    # Committed, so the tables can be vacuumed as autovacuum keeps them in production (an index-only
    # scan needs the visibility map); the tables are emptied after the test.
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.IS_POSTGRES, reason="基准测试只在 PostgreSQL 上运行：请设置 DATABASE_URL=postgres://…"
    ),
]

DOCUMENTS = int(os.environ.get("API_BENCH_DOCUMENTS", "1000000"))
RUNS = int(os.environ.get("API_BENCH_RUNS", "60"))
EXPLAIN = os.environ.get("API_BENCH_EXPLAIN") == "1"
PROFILE = os.environ.get("API_BENCH_PROFILE") == "1"
AGENCIES = 200
PAGE = 50
TARGET_MS = 200
LIST = "/api/v1/documents/"


def build_org() -> tuple[list[Any], Any, dict[int, tuple[int, int]], Any]:
    """AGENCIES agencies with a department and a 收发员 each; the focus agency and its 收发员."""
    from officeapp.org import services
    from officeapp.org.models import AgencyLevel, Role

    agencies, people = [], {}
    clerk = None
    for a in range(AGENCIES):
        agency = services.create_agency(
            actor=None,
            name=f"基准单位{a}",
            short_name=f"单位{a}",
            level=AgencyLevel.CITY,
            code=f"BENCH-API-{a}",
        )
        department = services.create_department(
            actor=None, agency=agency, name="办公室", code=f"BENCH-API-{a}-BGS"
        )
        user = services.create_user(
            actor=None, username=f"api.clerk.{a}", real_name=f"收发员{a}", department=department
        )
        services.grant_role(actor=None, user=user, role=Role.CLERK, agency=agency)
        agencies.append(agency)
        people[agency.pk] = (department.pk, user.pk)
        if a == 0:
            clerk = user
    return agencies, agencies[0], people, clerk


def register(owner: Any) -> Any:
    from officeapp.integration.services import register_app

    return register_app(
        None,
        owner_agency=owner,
        name="公文交换前置系统",
        url="https://app.example.test/",
        redirect_uris=["https://app.example.test/callback"],
        scopes=["documents.read"],
        rate_limit_per_minute=100_000,
    ).app


def token(app: Any, user: Any = None) -> str:
    from oauth2_provider.models import AccessToken

    value = secrets.token_urlsafe(24)
    AccessToken.objects.create(
        user=user,
        application=app.sso_client if user is not None else app.service_client,
        token=value,
        scope="openid documents.read" if user is not None else "documents.read",
        expires=timezone.now() + timedelta(hours=2),
    )
    return value


def _get(client: Client, url: str, bearer: str) -> Any:
    response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {bearer}")
    assert response.status_code == 200, response.content[:500]
    return response


def _queries(client: Client, url: str, bearer: str) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        _get(client, url, bearer)
    return len(ctx.captured_queries), [q["sql"] for q in ctx.captured_queries]


def _deep_url(client: Client, url: str, bearer: str, pages: int = 3) -> str:
    for _ in range(pages):
        url = _get(client, url, bearer).json()["next"]
        assert url, "fewer pages than expected"
    return url


def _explain(sqls: list[str], label: str) -> None:
    listing = [s for s in sqls if "documents_officialdocument" in s and "LIMIT" in s]
    for sql in listing:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        print(f"\n--- {label} ---\n{sql}\n{plan}")


def _profile(client: Client, url: str, bearer: str, label: str) -> None:
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    _get(client, url, bearer)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(35)
    print(f"\n--- cProfile {label} ---\n{out.getvalue()}")


def test_documents_list_p95_at_a_million_documents(bench: Any) -> None:
    from tests.bench.api_data import build_document_data

    agencies, focus, people, clerk = build_org()
    started = time.perf_counter()
    counts = build_document_data(total=DOCUMENTS, agencies=agencies, focus=focus, people=people)
    print(
        f"\n生成数据：{counts['documents']:,} 公文，{counts['exchange_records']:,} 交换记录，"
        f"{time.perf_counter() - started:.0f} 秒"
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE documents_officialdocument, documents_exchangerecord")
    app = register(focus)
    tokens = {"应用令牌": token(app), "用户令牌（收发员）": token(app, clerk)}
    this_year = timezone.localdate().year
    variants = {
        "默认顺序": LIST,
        "?category=incoming": f"{LIST}?category=incoming",
        f"?year={this_year}": f"{LIST}?year={this_year}",
    }
    client = Client()
    rows, failures = [], []
    for who, bearer in tokens.items():
        for variant, url in variants.items():
            for _ in range(3):
                body = _get(client, url, bearer).json()
            assert len(body["results"]) == PAGE, (who, variant, len(body["results"]))
            first, sqls = _queries(client, url, bearer)
            deep, _ = _queries(client, _deep_url(client, url, bearer), bearer)
            if first != deep:
                failures.append(f"{who} {variant}: 首页 {first} 条查询，第四页 {deep} 条")
            if EXPLAIN:
                _explain(sqls, f"{who} {variant}")
            if PROFILE and variant == "默认顺序":
                _profile(client, url, bearer, who)
            samples = []
            for _ in range(RUNS):
                t0 = time.perf_counter()
                _get(client, url, bearer)
                samples.append((time.perf_counter() - t0) * 1000)
            p50, p95, worst = bench.percentiles(samples)
            rows.append((who, variant, first, p50, p95, worst, "是" if p95 < TARGET_MS else "否"))
    bench.print_table(
        f"GET {LIST}（每页 {PAGE} 条，{DOCUMENTS:,} 篇公文，{RUNS} 次，负载 {os.getloadavg()[0]:.1f}）",
        ["令牌", "条件", "查询数", "p50 ms", "p95 ms", "max ms", f"p95<{TARGET_MS}ms"],
        rows,
    )
    assert not failures, failures
