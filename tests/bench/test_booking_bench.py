"""Benchmark: room booking under 20 concurrent requests (meetings.booking.book from 20 threads,
each with its own database connection), on PostgreSQL when DATABASE_URL says so, else on SQLite (a
file database: WAL, BEGIN IMMEDIATE, busy_timeout, as officeapp.settings configures it).

Run with `make bench` (pytest -s tests/bench) or just this file; figures are printed, the only
assertions are the correctness ones (no slot is ever held twice; every refusal is the sentence).

Service: PARALLEL threads released together by a barrier, each making REQUESTS bookings of the
big room one after another. Request j of thread t asks for slot j·(PARALLEL/2) + t//2, so the two
threads of each pair always want the same hour at about the same moment: every slot is contended,
half the requests succeed and half are refused ("该时段已被预订：…"). Reported per run: bookings/s
and refusals/s (counts over the run's wall time) and the per-request latency p50/p95; the table's
last row is the median over RUNS runs. HTTP: the same race with PARALLEL signed-in test clients
POSTing the room's booking form (the full request stack; a refusal re-renders the form with the
sentence), on other days.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

PARALLEL = int(os.environ.get("BOOKING_BENCH_PARALLEL", "20"))
REQUESTS = int(os.environ.get("BOOKING_BENCH_REQUESTS", "10"))
RUNS = int(os.environ.get("BOOKING_BENCH_RUNS", "3"))
TAKEN = "该时段已被预订："


def _slot(run: int, index: int) -> tuple[datetime, datetime]:
    """Hour `index` of a day of its own per run (08:00 on), far enough ahead to be bookable."""
    per_day = 12
    day = timezone.localdate() + timedelta(days=2 + run * 40 + index // per_day)
    start = timezone.make_aware(datetime.combine(day, clock(8 + index % per_day)))
    return start, start + timedelta(hours=1)


def _run(calls: list[Callable[[], list[tuple[str, float]]]]) -> tuple[list[tuple[str, float]], float]:
    """Run each thread's call list at once; (outcome, latency ms) of every request and the wall time (s)."""
    barrier = threading.Barrier(len(calls) + 1)
    outcomes: list[tuple[str, float]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def run(call: Callable[[], list[tuple[str, float]]]) -> None:
        try:
            barrier.wait()
            mine = call()
            with lock:
                outcomes.extend(mine)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    assert failures == [], failures[:3]
    return outcomes, wall


@pytest.mark.django_db(transaction=True)
def test_booking_throughput_under_twenty_concurrent_requests(
    bench: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from meetings import booking as booking_services
    from meetings.booking import book
    from meetings.errors import MeetingError
    from meetings.models import Booking
    from tests.conftest import build_cast
    from tests.meetings.booking_threads import sqlite_on_file
    from tests.meetings.meetings_cast import build_meetings_cast

    cast = build_cast()
    cast_m = build_meetings_cast(cast)
    people = [cast_m.organiser, cast_m.participant, cast_m.colleague, cast_m.meeting_admin]
    room = cast_m.big_room
    pairs = PARALLEL // 2
    database = "PostgreSQL" if settings.IS_POSTGRES else "SQLite（文件库，WAL）"

    def thread_calls(run_no: int, t: int) -> Callable[[], list[tuple[str, float]]]:
        def calls() -> list[tuple[str, float]]:
            done: list[tuple[str, float]] = []
            for j in range(REQUESTS):
                starts_at, ends_at = _slot(run_no, j * pairs + t // 2)
                began = time.perf_counter()
                try:
                    book(
                        actor=people[t % len(people)],
                        room=room,
                        starts_at=starts_at,
                        ends_at=ends_at,
                        purpose="基准",
                    )
                    outcome = "ok"
                except MeetingError as exc:
                    assert exc.message.startswith(TAKEN), exc.message
                    outcome = "refused"
                done.append((outcome, (time.perf_counter() - began) * 1000))
            return done

        return calls

    # Count the refusals that came from the database (the exclusion constraint or the trigger)
    # rather than from the service's look-up before saving: the race the guarantee is for.
    by_database: list[int] = []
    seen_by_database = booking_services._is_overlap_refusal

    def counting(exc: Exception) -> bool:
        refused = seen_by_database(exc)
        if refused:
            by_database.append(1)
        return refused

    monkeypatch.setattr(booking_services, "_is_overlap_refusal", counting)

    rows: list[list[Any]] = []
    per_run: list[tuple[float, float, float, float, float]] = []
    with sqlite_on_file(tmp_path):
        for run_no in range(RUNS):
            before = len(by_database)
            outcomes, wall = _run([thread_calls(run_no, t) for t in range(PARALLEL)])
            from_database = len(by_database) - before
            booked = sum(1 for o, _ in outcomes if o == "ok")
            refused = len(outcomes) - booked
            assert booked == pairs * REQUESTS, (booked, refused)
            p50, p95, _ = bench.percentiles([ms for _, ms in outcomes])
            per_run.append((booked / wall, refused / wall, len(outcomes) / wall, p50, p95))
            rows.append(
                [
                    f"第{run_no + 1}次",
                    booked,
                    refused,
                    from_database,
                    wall,
                    booked / wall,
                    refused / wall,
                    p50,
                    p95,
                ]
            )
        held = Booking.objects.filter(room=room).count()
    assert held == pairs * REQUESTS * RUNS

    medians = [statistics.median(values) for values in zip(*per_run, strict=True)]
    rows.append(["中位数", "", "", "", "", medians[0], medians[1], medians[3], medians[4]])
    bench.print_table(
        f"会议室预订：{PARALLEL} 个并发线程 × 每线程 {REQUESTS} 次，每个时段两人争抢（{database}）",
        ["运行", "预订成功", "被拒", "其中数据库拒绝", "用时 s", "预订/s", "拒绝/s", "p50 ms", "p95 ms"],
        rows,
    )
    print(f"请求总吞吐（中位数）：{medians[2]:.1f} 次/s")

    # The same race through the full request stack: PARALLEL signed-in clients POST the room's
    # booking form (session, middleware, form, service, audit, outbox, redirect or re-render).
    from django.test import Client
    from django.urls import reverse

    clients = []
    for t in range(PARALLEL):
        client = Client()
        client.force_login(people[t % len(people)], backend="officeapp.accounts.backends.LockoutAwareBackend")
        clients.append(client)
    url = reverse("meetings:room", args=[room.pk])

    def http_calls(run_no: int, t: int) -> Callable[[], list[tuple[str, float]]]:
        def calls() -> list[tuple[str, float]]:
            done: list[tuple[str, float]] = []
            for j in range(REQUESTS):
                starts_at, ends_at = _slot(RUNS + run_no, j * pairs + t // 2)
                local_start, local_end = timezone.localtime(starts_at), timezone.localtime(ends_at)
                form = {
                    "day": local_start.date().isoformat(),
                    "start": f"{local_start:%H:%M}",
                    "end": f"{local_end:%H:%M}",
                    "purpose": "基准",
                    "attendees": "5",
                }
                began = time.perf_counter()
                response = clients[t].post(url, form)
                if response.status_code == 302:
                    outcome = "ok"
                else:
                    assert response.status_code == 200 and TAKEN in response.content.decode(), (
                        response.status_code
                    )
                    outcome = "refused"
                done.append((outcome, (time.perf_counter() - began) * 1000))
            return done

        return calls

    http_rows: list[list[Any]] = []
    http_runs: list[tuple[float, float, float, float]] = []
    with sqlite_on_file(tmp_path):
        for run_no in range(RUNS):
            before = len(by_database)
            outcomes, wall = _run([http_calls(run_no, t) for t in range(PARALLEL)])
            from_database = len(by_database) - before
            booked = sum(1 for o, _ in outcomes if o == "ok")
            refused = len(outcomes) - booked
            assert booked == pairs * REQUESTS, (booked, refused)
            p50, p95, _ = bench.percentiles([ms for _, ms in outcomes])
            http_runs.append((booked / wall, refused / wall, p50, p95))
            http_rows.append(
                [
                    f"第{run_no + 1}次",
                    booked,
                    refused,
                    from_database,
                    wall,
                    booked / wall,
                    refused / wall,
                    p50,
                    p95,
                ]
            )
    http_medians = [statistics.median(values) for values in zip(*http_runs, strict=True)]
    http_rows.append(["中位数", "", "", "", "", *http_medians])
    bench.print_table(
        f"会议室预订页面 POST：{PARALLEL} 个并发客户端 × 每个 {REQUESTS} 次，每个时段两人争抢（完整请求链路，{database}）",
        ["运行", "预订成功", "被拒", "其中数据库拒绝", "用时 s", "预订/s", "拒绝/s", "p50 ms", "p95 ms"],
        http_rows,
    )
