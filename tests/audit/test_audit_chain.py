"""Hash chaining: per-agency chains, filled by a job, verifiable, and no row left behind."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import close_old_connections, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from officeapp.audit.chain import chain_one, chain_pending, pending_chains, row_digest, verify_chain
from officeapp.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent
from officeapp.audit.services import record
from officeapp.registries import worker_schedules

only_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs concurrent writers: SQLite serialises writers by design"
)


def _chain_rows(chain: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(chain=chain).order_by("chain_seq"))


def test_chaining_produces_a_verifiable_chain(cast: Any) -> None:
    # given the cast's org events, all unchained
    assert AuditEvent.objects.filter(row_hash="").count() == AuditEvent.objects.count() > 0

    # when the job runs
    chained = chain_pending(settle_seconds=0)

    # then every row is chained, each chain counts 1, 2, 3 … and links to its predecessor
    assert chained == AuditEvent.objects.count()
    assert not AuditEvent.objects.filter(row_hash="").exists()
    for chain in set(AuditEvent.objects.values_list("chain", flat=True)):
        rows = _chain_rows(chain)
        assert [r.chain_seq for r in rows] == list(range(1, len(rows) + 1))
        assert rows[0].prev_hash == GENESIS_HASH
        for before, after in zip(rows, rows[1:], strict=False):
            assert after.prev_hash == before.row_hash
        report = verify_chain(chain)
        assert report.ok and report.rows == len(rows)
        head = AuditChainHead.objects.get(chain=chain)
        assert (head.last_seq, head.last_hash) == (rows[-1].chain_seq, rows[-1].row_hash)


def test_row_hash_covers_the_row_content(cast: Any) -> None:
    event = record("test.hash", actor=cast.drafter, details={"b": 2, "a": 1})
    chain_pending(settle_seconds=0)
    event.refresh_from_db()
    row = AuditEvent.objects.filter(pk=event.pk).values().get()
    assert event.row_hash == row_digest(row, chain_seq=event.chain_seq, prev_hash=event.prev_hash)
    edited = {**row, "details": {"a": 1, "b": 3}}
    assert row_digest(edited, chain_seq=event.chain_seq, prev_hash=event.prev_hash) != event.row_hash


def test_concurrent_agencies_do_not_share_a_chain(cast: Any) -> None:
    # given events of two agencies and of the platform (no actor)
    mine = record("test.gov_office", actor=cast.drafter)
    theirs = record("test.finance", actor=cast.other_clerk)
    platform = record("test.platform")

    chain_pending(settle_seconds=0)

    for event in (mine, theirs, platform):
        event.refresh_from_db()
    assert mine.chain == f"agency:{cast.gov_office.pk}"
    assert theirs.chain == f"agency:{cast.finance.pk}"
    assert platform.chain == "platform"
    # each agency's chain has its own numbering and its own head row to lock
    assert AuditChainHead.objects.filter(chain__in=[mine.chain, theirs.chain, platform.chain]).count() == 3
    finance_rows = _chain_rows(theirs.chain)
    assert finance_rows[0].chain_seq == 1
    assert all(r.chain == theirs.chain for r in finance_rows)
    assert verify_chain(mine.chain).ok and verify_chain(theirs.chain).ok


def test_rows_younger_than_the_settling_time_wait_for_the_next_run(db: Any) -> None:
    event = record("test.fresh")
    assert chain_pending() == 0  # written a moment ago: it may still have neighbours committing
    with time_machine.travel(timezone.now() + timedelta(seconds=3)):
        assert chain_pending() == 1
    event.refresh_from_db()
    assert event.chain_seq == 1


def test_a_second_run_chains_nothing(cast: Any) -> None:
    assert chain_pending(settle_seconds=0) > 0
    assert chain_pending(settle_seconds=0) == 0


def test_a_row_committed_late_with_a_smaller_id_is_still_chained(db: Any) -> None:
    # given a row with a larger id already chained
    AuditEvent.objects.create(id=10_000_000, action="test.later_id")
    assert chain_pending(settle_seconds=0) == 1

    # when a row with a smaller id becomes visible only now (its transaction committed late)
    AuditEvent.objects.create(id=9_999_999, action="test.earlier_id_committed_late")
    assert chain_pending(settle_seconds=0) == 1

    # then it is chained after the other one, and the chain verifies
    rows = _chain_rows("platform")
    assert [(r.pk, r.chain_seq) for r in rows] == [(10_000_000, 1), (9_999_999, 2)]
    assert verify_chain("platform").ok


def test_a_large_backlog_is_chained_in_bounded_runs(db: Any) -> None:
    AuditEvent.objects.bulk_create([AuditEvent(action="test.backlog") for _ in range(30)])
    assert chain_pending(settle_seconds=0, max_rows=20) == 20
    assert chain_pending(settle_seconds=0, max_rows=20) == 10
    assert verify_chain("platform").rows == 30


def test_finding_the_pending_chains_reads_one_row_per_chain_not_the_backlog(db: Any) -> None:
    AuditEvent.objects.bulk_create([AuditEvent(action="test.backlog", chain="agency:7") for _ in range(30)])
    AuditEvent.objects.bulk_create([AuditEvent(action="test.backlog", chain="platform") for _ in range(30)])
    with CaptureQueriesContext(connection) as queries:
        assert pending_chains() == ["agency:7", "platform"]
    (query,) = queries.captured_queries
    # DISTINCT over the chain alone: with the row id in the select list every pending row comes back.
    assert '"audit_auditevent"."id"' not in query["sql"]


def test_the_worker_runs_the_chaining_job_every_few_seconds() -> None:
    entry = worker_schedules["audit.chain_pending"]
    assert entry.func == "officeapp.audit.chain.chain_pending"
    assert 1 <= entry.seconds <= 10 and entry.runs_on_ticker


@only_postgres
@pytest.mark.django_db(transaction=True)
def test_a_chainer_busy_with_one_chain_does_not_hold_up_another(cast: Any) -> None:
    # given events waiting in two agencies' chains
    mine = record("test.gov_office", actor=cast.drafter)
    theirs = record("test.finance", actor=cast.other_clerk)
    chain_pending(settle_seconds=0)
    record("test.gov_office.2", actor=cast.drafter)
    record("test.finance.2", actor=cast.other_clerk)
    locked, release = threading.Event(), threading.Event()

    def other_chainer() -> None:
        # another worker holds the head of the government office's chain
        try:
            with transaction.atomic():
                AuditChainHead.objects.select_for_update().get(chain=mine.chain)
                locked.set()
                release.wait(10)
        finally:
            close_old_connections()
            connection.close()

    thread = threading.Thread(target=other_chainer)
    thread.start()
    try:
        assert locked.wait(10)
        # when this worker runs meanwhile, it skips the busy chain and chains the other one
        assert chain_one(mine.chain, settle_seconds=0) == 0
        assert chain_pending(settle_seconds=0) == 1
        assert verify_chain(theirs.chain).rows == 2
    finally:
        release.set()
        thread.join(10)
    # and the busy chain is caught up on the next run
    assert chain_pending(settle_seconds=0) == 1
    assert verify_chain(mine.chain).rows == 2


@only_postgres
@pytest.mark.django_db(transaction=True)
def test_a_transaction_committing_after_a_later_id_leaves_no_row_behind(db: Any) -> None:
    inserted, release = threading.Event(), threading.Event()
    early_id: list[int] = []

    def slow_service() -> None:
        try:
            with transaction.atomic():
                early_id.append(record("test.slow").pk)
                inserted.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_service)
    thread.start()
    try:
        assert inserted.wait(10)
        later = record("test.quick")  # takes a larger id, commits first
        assert later.pk > early_id[0]
        assert chain_pending(settle_seconds=0) == 1
    finally:
        release.set()
        thread.join(10)
    assert chain_pending(settle_seconds=0) == 1
    rows = _chain_rows("platform")
    assert [r.pk for r in rows] == [later.pk, early_id[0]]
    assert verify_chain("platform").ok
