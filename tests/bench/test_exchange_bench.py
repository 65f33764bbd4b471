"""Benchmark: 公文交换 at 500 recipients (PostgreSQL only).

(a) 分发 to 500 agencies, each with a 收发员 "connected": a channel of the configured layer in the
    user's group (`user.<id>`, as officeapp.notify's consumer joins it), all listening in one event
    loop on a thread of their own. The clock starts before `distribute(...)` and stops when every
    clerk's 待签收 query (`pending_for`, run from 8 connections at once, as pages load together)
    shows the record and every channel received its push. Several
    runs (a new document each); per run the time of the call, of all 500 lists, of all 500 pushes,
    and over all runs p50/p99 of the run totals and of each push's latency. Needs REDIS_URL for the
    Redis layer (the one that crosses processes in production); skipped on the in-memory layer.
(b) The sender's tracking page for a document with 500 recipients (some signed, returned, urged,
    completed, each with its history): GET through the whole stack, many rounds, p50/p95/max, and the
    query count — asserted equal to the page's count at 5 recipients (a count is not a timing).

Figures are printed; only correctness (every list, every push) and constancy are asserted.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/officeapp REDIS_URL=redis://127.0.0.1:6379/0 \\
        TESTING=1 .venv/bin/python -m pytest -q -s tests/bench/test_exchange_bench.py -p no:randomly
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not settings.IS_POSTGRES, reason="基准测试只在 PostgreSQL 上运行：请设置 DATABASE_URL=postgres://…"
    ),
]

RECIPIENTS = int(os.environ.get("EXCHANGE_BENCH_RECIPIENTS", "500"))
RUNS = int(os.environ.get("EXCHANGE_BENCH_RUNS", "7"))
ROUNDS = int(os.environ.get("EXCHANGE_BENCH_ROUNDS", "60"))
WARMUP = 5
PUSH_WAIT_SECONDS = 30.0


def _agencies_with_clerks(count: int, prefix: str) -> tuple[list[Any], list[Any]]:
    """`count` county agencies under the province, each with an 办公室 and one 收发员 in it, in a few
    statements."""
    from django.contrib.auth.hashers import make_password

    from officeapp.org.models import Agency, AgencyLevel, Department, Role, RoleGrant, User

    province = Agency.objects.get(parent__isnull=True)
    agencies = Agency.objects.bulk_create(
        [
            Agency(
                name=f"压测县{i:04d}人民政府",
                short_name=f"压测县{i:04d}",
                level=AgencyLevel.COUNTY,
                code=f"{prefix}{i:04d}",
                parent=province,
            )
            for i in range(count)
        ]
    )
    # Each clerk works in the agency's 办公室, as a 收发员 does (the 收文 made at 签收 is filed there).
    offices = Department.objects.bulk_create(
        [
            Department(agency=a, name="办公室", code=f"{a.code}-BGS", kind=Department.Kind.OFFICE)
            for a in agencies
        ]
    )
    password = make_password(None)
    clerks = User.objects.bulk_create(
        [
            User(
                username=f"{prefix.lower()}clerk{i:04d}",
                real_name=f"收发员{i}",
                password=password,
                department=d,
            )
            for i, d in enumerate(offices)
        ]
    )
    RoleGrant.objects.bulk_create(
        [RoleGrant(user=u, role=Role.CLERK, agency=a) for u, a in zip(clerks, agencies, strict=True)]
    )
    return agencies, clerks


class Sockets:
    """One channel per clerk in the clerk's user group, read in an event loop of its own; each
    channel stamps the monotonic time its first frame arrived."""

    def __init__(self, user_ids: list[int]) -> None:
        from channels.layers import get_channel_layer

        from officeapp.notify.relay import user_group

        self.layer = get_channel_layer()
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="bench-sockets", daemon=True).start()
        self.groups = [user_group(uid) for uid in user_ids]
        self.channels: list[str] = self._run(self._join())

    def _run(self, coroutine: Any, timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=timeout)

    async def _join(self) -> list[str]:
        channels = []
        for group in self.groups:
            channel = await self.layer.new_channel()
            await self.layer.group_add(group, channel)
            channels.append(channel)
        return channels

    def listen(self) -> asyncio.Future[list[float]]:
        async def first_frame(channel: str) -> float:
            await self.layer.receive(channel)
            return time.monotonic()

        async def all_frames() -> list[float]:
            return list(
                await asyncio.wait_for(
                    asyncio.gather(*(first_frame(c) for c in self.channels)), PUSH_WAIT_SECONDS
                )
            )

        return asyncio.run_coroutine_threadsafe(all_frames(), self.loop)  # type: ignore[return-value]

    def close(self) -> None:
        async def leave() -> None:
            for group, channel in zip(self.groups, self.channels, strict=True):
                await self.layer.group_discard(group, channel)

        self._run(leave())
        self.loop.call_soon_threadsafe(self.loop.stop)


LIST_READERS = int(os.environ.get("EXCHANGE_BENCH_READERS", "8"))


def _lists_missing(clerks: list[Any], document_id: int) -> list[Any]:
    """Each clerk's 待签收 query, from LIST_READERS connections at once (as many clerks' pages
    would load together): the clerks whose list does not show the document."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    from documents.exchange import pending_for

    def read(share: list[Any]) -> list[Any]:
        try:
            return [c for c in share if not pending_for(c).filter(document_id=document_id).exists()]
        finally:
            connections.close_all()

    shares = [clerks[i::LIST_READERS] for i in range(LIST_READERS)]
    with ThreadPoolExecutor(LIST_READERS) as pool:
        return [c for missing in pool.map(read, shares) for c in missing]


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@pytest.mark.django_db(transaction=True)
def test_distribute_to_500_agencies_until_every_list_and_socket_has_it(cast: Any, bench: Any) -> None:
    from channels.layers import InMemoryChannelLayer, get_channel_layer

    from documents.exchange import distribute, pending_for
    from tests.documents.exchange_factories import make_sealed

    if isinstance(get_channel_layer(), InMemoryChannelLayer):
        pytest.skip(reason="推送基准需要 Redis 通道层（跨进程）：请设置 REDIS_URL=redis://…")
    agencies, clerks = _agencies_with_clerks(RECIPIENTS, "XB")
    for clerk in clerks:
        pending_for(clerk)  # each clerk's role grants are read once, as a signed-in session would
    sockets = Sockets([c.pk for c in clerks])
    rows: list[list[Any]] = []
    totals: list[float] = []
    pushes: list[float] = []
    try:
        for run in range(RUNS):
            document = make_sealed(cast, number=f"粤府办〔2026〕{900 + run}号", cc_recipients=[])
            document.main_recipients.set(agencies)
            arrivals = sockets.listen()
            time.sleep(0.05)  # the listeners are waiting before the clock starts
            start = time.monotonic()
            records = distribute(document, actor=cast.office_secretary)
            called = time.monotonic()
            missing = _lists_missing(clerks, document.pk)
            listed = time.monotonic()
            stamps = arrivals.result(timeout=PUSH_WAIT_SECONDS + 5)
            assert len(records) == RECIPIENTS
            assert missing == [], f"{len(missing)} clerks do not see the record"
            assert len(stamps) == RECIPIENTS
            done = max(listed, max(stamps))
            totals.append((done - start) * 1000)
            pushes.extend((s - start) * 1000 for s in stamps)
            rows.append(
                [
                    run + 1,
                    (called - start) * 1000,
                    (listed - start) * 1000,
                    (max(stamps) - start) * 1000,
                    (done - start) * 1000,
                ]
            )
    finally:
        sockets.close()
    bench.print_table(
        f"分发到 {RECIPIENTS} 个机关（每个机关一名收发员在线）：毫秒，自调用 distribute 起",
        ["轮次", "distribute 返回", "全部待签收可见", "全部推送到达", "全部完成"],
        rows,
    )
    bench.print_table(
        f"汇总（{RUNS} 轮；推送为每个收发员各自的到达时间，共 {len(pushes)} 个）",
        ["指标", "p50", "p99", "max"],
        [
            ["全部完成（每轮）", _quantile(totals, 0.5), _quantile(totals, 0.99), max(totals)],
            ["单个推送到达", _quantile(pushes, 0.5), _quantile(pushes, 0.99), max(pushes)],
        ],
    )


def _tracked_document(cast: Any, agencies: list[Any], clerks: list[Any], number: str) -> Any:
    """A document distributed to `agencies`: a fifth signed (half of those completed), a tenth
    returned, a tenth urged, the rest pending; each change through the services, so the history
    is what the product writes."""
    from documents.exchange import distribute, mark_completed, receive, return_document, urge_recipient
    from documents.models import ExchangeRecord, ReturnReason
    from tests.documents.exchange_factories import make_sealed

    document = make_sealed(cast, number=number, cc_recipients=[])
    document.main_recipients.set(agencies)
    distribute(document, actor=cast.office_secretary)
    by_agency = {r.recipient_id: r for r in ExchangeRecord.objects.filter(document=document)}
    for i, (agency, clerk) in enumerate(zip(agencies, clerks, strict=True)):
        record = by_agency[agency.pk]
        if i % 5 == 0:
            receive(record, actor=clerk)
            if i % 10 == 0:
                mark_completed(record, actor=clerk, result="已按要求办理完毕。")
        elif i % 10 == 1:
            return_document(record, actor=clerk, reason=ReturnReason.NOT_OURS, note="不属于本机关职责。")
        elif i % 10 == 2:
            urge_recipient(record, actor=cast.office_secretary, note="请尽快签收。")
    return document


def test_tracking_page_p95_at_500_recipients(cast: Any, bench: Any, db: Any) -> None:
    small_agencies, small_clerks = _agencies_with_clerks(5, "TS")
    agencies, clerks = _agencies_with_clerks(RECIPIENTS, "TL")
    small = _tracked_document(cast, small_agencies, small_clerks, "粤府办〔2026〕950号")
    large = _tracked_document(cast, agencies, clerks, "粤府办〔2026〕951号")
    client = Client()
    client.force_login(cast.office_secretary, backend="officeapp.accounts.backends.LockoutAwareBackend")
    rows = []
    counts = {}
    for label, document, params in (
        ("5 个收文机关", small, {}),
        (f"{RECIPIENTS} 个收文机关", large, {}),
        (f"{RECIPIENTS} 个·第 5 页", large, {"page": "5"}),
        (f"{RECIPIENTS} 个·筛选已签收", large, {"state": "received"}),
        (f"{RECIPIENTS} 个·实时刷新（表格片段）", large, {"hx": "1"}),
    ):
        url = reverse("documents:distribution", kwargs={"document_id": document.pk})
        headers = {"HTTP_HX_REQUEST": "true"} if params.pop("hx", None) else {}
        for _ in range(WARMUP):
            client.get(url, params, **headers)
        samples = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            response = client.get(url, params, **headers)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        with CaptureQueriesContext(connection) as queries:
            client.get(url, params, **headers)
        counts[label] = len(queries.captured_queries)
        p50, p95, worst = bench.percentiles(samples)
        rows.append([label, p50, p95, worst, counts[label]])
    bench.print_table(
        f"分发情况页（{timezone.localdate():%Y-%m-%d}，{ROUNDS} 次）：毫秒",
        ["情形", "p50", "p95", "max", "SQL 条数"],
        rows,
    )
    assert counts[f"{RECIPIENTS} 个收文机关"] == counts["5 个收文机关"]
