"""Benchmark: what auditing costs a service call, and how fast the chaining job catches up.

Run with `make bench` (pytest -s tests/bench), on SQLite by default or on PostgreSQL with
DATABASE_URL set. Figures are printed, never asserted: timings vary by machine.

1. Write overhead: `officeapp.org.services.create_department` (insert, path update, audit event,
   outbox row, commit) timed with its record() call and with record() replaced by a no-op,
   interleaved call by call so both see the same machine state; medians and their ratio.
2. Chaining throughput: rows chained per second by `chain_pending()` over a backlog spread across
   agencies, against inserting the same rows in the same run (the baseline), and the
   verification speed of `verify_chain()`.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from officeapp.audit.chain import chain_pending, chains, verify_chain
from officeapp.audit.models import AuditEvent
from officeapp.audit.services import record
from officeapp.org import services as org_services
from officeapp.org.models import AgencyLevel

N = int(os.environ.get("AUDIT_BENCH_N", "2000"))
BACKLOG = int(os.environ.get("AUDIT_BENCH_BACKLOG", "20000"))
AGENCIES = 20


def _timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter_ns()
    call()
    return (time.perf_counter_ns() - start) / 1000  # µs


def _no_record(*args: Any, **kwargs: Any) -> None:
    return None


@pytest.mark.django_db(transaction=True)
def test_audit_write_overhead_per_service_call(monkeypatch: pytest.MonkeyPatch) -> None:
    agency = org_services.create_agency(
        actor=None, name="基准测试厅", level=AgencyLevel.PROVINCE, code="BENCH"
    )
    real_record = org_services.record
    counter = iter(range(10**9))

    def department(*, audited: bool) -> None:
        monkeypatch.setattr(org_services, "record", real_record if audited else _no_record)
        n = next(counter)
        org_services.create_department(actor=None, agency=agency, name=f"处室{n}", code=f"BENCH-{n}")

    def bare_record() -> None:
        with transaction.atomic():
            record("bench.record", object_type="bench", object_id=1, details={"n": 1})

    for _ in range(50):  # warm up caches, prepared plans, the SQLite page cache
        department(audited=True)
        department(audited=False)
    with_record: list[float] = []
    without_record: list[float] = []
    record_alone: list[float] = []
    for i in range(N):
        # alternate which variant goes first, so neither always follows the other's commit
        if i % 2:
            with_record.append(_timed(lambda: department(audited=True)))
            without_record.append(_timed(lambda: department(audited=False)))
        else:
            without_record.append(_timed(lambda: department(audited=False)))
            with_record.append(_timed(lambda: department(audited=True)))
        record_alone.append(_timed(bare_record))

    med_with, med_without = statistics.median(with_record), statistics.median(without_record)
    med_record = statistics.median(record_alone)
    print(f"\n[audit write overhead] database={connection.vendor} N={N} calls each, interleaved")
    print(f"  create_department without record(): median {med_without:8.1f} µs")
    print(f"  create_department with record():    median {med_with:8.1f} µs")
    print(f"  ratio with/without:                 {med_with / med_without:8.3f}")
    print(f"  overhead per service call:          {med_with - med_without:8.1f} µs")
    print(f"  record() alone in a transaction:    median {med_record:8.1f} µs")
    assert len(with_record) == len(without_record) == N


@pytest.mark.django_db(transaction=True)
def test_audit_chaining_throughput() -> None:
    per_chain = BACKLOG // AGENCIES
    rows = [
        AuditEvent(
            action="bench.chain",
            object_type="bench",
            object_id=str(n),
            chain=f"agency:{a + 1}",
            details={"n": n, "kind": "bench"},
            client_address="10.0.0.1",
            actor_label="基准",
        )
        for a in range(AGENCIES)
        for n in range(per_chain)
    ]
    insert_start = time.perf_counter()
    for start in range(0, len(rows), 2000):
        with transaction.atomic():
            AuditEvent.objects.bulk_create(rows[start : start + 2000])
    insert_seconds = time.perf_counter() - insert_start

    chain_start = time.perf_counter()
    chained = chain_pending(settle_seconds=0, max_rows=len(rows))
    chain_seconds = time.perf_counter() - chain_start

    verify_start = time.perf_counter()
    verified = sum(verify_chain(name).rows for name in chains())
    verify_seconds = time.perf_counter() - verify_start

    print(f"\n[audit chaining] database={connection.vendor} backlog={len(rows)} rows in {AGENCIES} chains")
    print(f"  bulk insert (baseline): {insert_seconds:7.2f} s  {len(rows) / insert_seconds:10.0f} rows/s")
    print(
        f"  chain_pending():        {chain_seconds:7.2f} s  {chained / chain_seconds:10.0f} rows/s"
        f"  (ratio to insert {chain_seconds / insert_seconds:.2f})"
    )
    print(f"  verify_chain():         {verify_seconds:7.2f} s  {verified / verify_seconds:10.0f} rows/s")
    assert chained == verified == len(rows)
