"""The outbox drain: order, idempotency, late commits, failing consumers, lag and retention."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from officeapp.outbox import drain as drain_module
from officeapp.outbox.drain import drain, drain_all, lag_seconds, outbox_health, purge_delivered
from officeapp.outbox.models import OutboxCursor, OutboxEvent
from officeapp.outbox.services import emit
from officeapp.registries import health_checks, outbox_consumers
from officeapp.worker.models import TaskRun

pytestmark = pytest.mark.django_db


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.fail = False

    def __call__(self, events: list[OutboxEvent]) -> None:
        if self.fail:
            raise RuntimeError("search engine unavailable")
        self.batches.append([e.id for e in events])

    @property
    def ids(self) -> list[int]:
        return [i for batch in self.batches for i in batch]


def _start_at_the_sequence(names: list[str]) -> None:
    """Place the consumers' cursors just below the next id the sequence gives. On PostgreSQL
    sequences are not rolled back with a test's transaction, so earlier tests leave holes a cursor
    would (rightly) wait at."""
    probe = emit("test.probe", object_type="test.thing", object_id="0")
    for name in names:
        OutboxCursor.objects.update_or_create(consumer=name, defaults={"last_id": probe.id})
    probe.delete()


@pytest.fixture(autouse=True)
def only_this_files_consumers() -> Iterator[None]:
    """The apps' own consumers (search, webhooks) are set aside: lag, health and retention here are
    about the consumers each test registers, and a registered consumer that never drained would
    (rightly) hold back retention and show up in the health check."""
    saved = dict(outbox_consumers._items)
    outbox_consumers._items.clear()
    try:
        yield
    finally:
        outbox_consumers._items.clear()
        outbox_consumers._items.update(saved)


@pytest.fixture
def register() -> Iterator[Callable[[str, Any], Any]]:
    names: list[str] = []

    def _register(name: str, consumer: Any) -> Any:
        outbox_consumers.register(name, consumer)
        names.append(name)
        _start_at_the_sequence(names)
        return consumer

    yield _register
    for name in names:
        outbox_consumers.unregister(name)


@pytest.fixture
def recorder(register: Callable[[str, Any], Any]) -> Recorder:
    return register("test.recorder", Recorder())


def _caught_up(name: str) -> int:
    """Position a consumer after everything already in the table, at an id well above the sequence's
    (explicit ids stand in for transactions that commit out of order); returns that id."""
    top = OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    OutboxCursor.objects.update_or_create(consumer=name, defaults={"last_id": top + 1000, "pending_gaps": []})
    return top + 1000


def _event(pk: int, object_id: str = "1") -> OutboxEvent:
    # An explicit id stands in for a transaction that took its id earlier and commits later.
    return OutboxEvent.objects.create(
        id=pk, topic="test.changed", object_type="test.thing", object_id=object_id
    )


def test_events_are_delivered_once_in_id_order(recorder: Recorder) -> None:
    made = [emit("test.changed", object_type="test.thing", object_id=str(i % 2)) for i in range(5)]

    first = drain("test.recorder")
    second = drain("test.recorder")

    assert recorder.ids == [e.id for e in made]
    assert first.delivered == 5 and second.delivered == 0
    assert OutboxCursor.objects.get(consumer="test.recorder").last_id == made[-1].id


def test_events_of_one_object_arrive_in_the_order_they_were_written(recorder: Recorder) -> None:
    made = [emit("test.changed", object_type="test.thing", object_id=oid) for oid in "ABABBA"]
    drain("test.recorder")

    by_object: dict[str, list[int]] = {}
    delivered = OutboxEvent.objects.in_bulk(recorder.ids)
    for pk in recorder.ids:
        by_object.setdefault(delivered[pk].object_id, []).append(pk)
    assert by_object["A"] == sorted(by_object["A"]) and by_object["B"] == sorted(by_object["B"])
    assert len(recorder.ids) == len(made)


def test_a_large_backlog_is_delivered_in_batches(recorder: Recorder) -> None:
    for _ in range(7):
        emit("test.changed", object_type="test.thing", object_id="1")

    result = drain("test.recorder", batch_size=3)

    assert [len(b) for b in recorder.batches] == [3, 3, 1]
    assert result.delivered == 7 and result.batches == 3


def test_cursor_advances_in_the_same_transaction_as_the_consumers_writes(register: Any) -> None:
    def writes_then_fails(events: list[OutboxEvent]) -> None:
        TaskRun.objects.create(key=f"indexed:{events[0].id}", task="test")
        raise RuntimeError("crashed after writing")

    register("test.writer", writes_then_fails)
    event = emit("test.changed", object_type="test.thing", object_id="1")

    result = drain("test.writer")

    assert result.failed
    assert not TaskRun.objects.exists()  # the consumer's write was rolled back with the cursor
    assert OutboxCursor.objects.get(consumer="test.writer").last_id < event.id


def test_failing_consumer_is_not_advanced_and_others_are_unaffected(register: Any) -> None:
    good = register("test.good", Recorder())
    bad = register("test.bad", Recorder())
    bad.fail = True
    event = emit("test.changed", object_type="test.thing", object_id="1")

    results = {r.consumer: r for r in drain_all()}

    assert good.ids == [event.id]
    assert results["test.bad"].failed and "search engine unavailable" in results["test.bad"].error
    cursor = OutboxCursor.objects.get(consumer="test.bad")
    assert cursor.last_id < event.id and cursor.failures == 1 and cursor.retry_at is not None


def test_failing_consumer_waits_for_its_backoff_then_catches_up(register: Any) -> None:
    bad = register("test.flaky", Recorder())
    bad.fail = True
    event = emit("test.changed", object_type="test.thing", object_id="1")
    drain("test.flaky")
    drain("test.flaky")  # still inside the backoff: not even called
    cursor = OutboxCursor.objects.get(consumer="test.flaky")
    assert cursor.failures == 1

    bad.fail = False
    waiting = drain("test.flaky")
    later = drain("test.flaky", now=cursor.retry_at + timedelta(seconds=1))

    assert waiting.skipped == "backoff" and waiting.delivered == 0
    assert later.delivered == 1 and bad.ids == [event.id]
    cursor.refresh_from_db()
    assert cursor.failures == 0 and cursor.retry_at is None


def test_backoff_grows_and_is_capped() -> None:
    delays = [drain_module.backoff_seconds(n) for n in (1, 2, 3, 20)]
    assert delays[0] < delays[1] < delays[2] <= delays[3] == drain_module.BACKOFF_MAX_SECONDS


def test_cursor_holds_at_a_hole_and_delivers_the_late_commit_in_order(recorder: Recorder) -> None:
    base = _caught_up("test.recorder")
    recorder.batches.clear()
    _event(base + 1)
    _event(base + 3)  # base+2 belongs to a transaction that has not committed yet

    drain("test.recorder")
    assert recorder.ids == [base + 1]

    _event(base + 2)  # the slow transaction commits
    drain("test.recorder")

    assert recorder.ids == [base + 1, base + 2, base + 3]
    assert OutboxCursor.objects.get(consumer="test.recorder").pending_gaps == []


def test_a_hole_is_passed_after_the_hold_and_its_row_delivered_when_it_appears(recorder: Recorder) -> None:
    base = _caught_up("test.recorder")
    recorder.batches.clear()
    t0 = timezone.now()
    _event(base + 1)
    _event(base + 3)
    drain("test.recorder", now=t0)
    drain("test.recorder", now=t0 + timedelta(seconds=drain_module.GAP_HOLD_SECONDS + 1))
    assert recorder.ids == [base + 1, base + 3]
    gaps = OutboxCursor.objects.get(consumer="test.recorder").pending_gaps
    assert [g[:2] for g in gaps] == [[base + 2, base + 2]]

    _event(base + 2)
    drain("test.recorder", now=t0 + timedelta(seconds=60))

    assert recorder.ids == [base + 1, base + 3, base + 2]  # late, but not lost
    assert OutboxCursor.objects.get(consumer="test.recorder").pending_gaps == []


def test_a_hole_that_never_fills_is_dropped_after_its_ttl(recorder: Recorder, caplog: Any) -> None:
    base = _caught_up("test.recorder")
    t0 = timezone.now()
    _event(base + 1)
    _event(base + 5)  # base+2..base+4 were rolled back
    drain("test.recorder", now=t0)
    drain("test.recorder", now=t0 + timedelta(seconds=drain_module.GAP_HOLD_SECONDS + 1))
    assert OutboxCursor.objects.get(consumer="test.recorder").pending_gaps

    with caplog.at_level(logging.WARNING, logger="officeapp.outbox.drain"):
        drain("test.recorder", now=t0 + timedelta(seconds=drain_module.GAP_TTL_SECONDS + 10))

    assert OutboxCursor.objects.get(consumer="test.recorder").pending_gaps == []
    assert "never committed" in caplog.text


def test_a_partially_filled_hole_keeps_waiting_for_the_rest(recorder: Recorder) -> None:
    base = _caught_up("test.recorder")
    recorder.batches.clear()
    t0 = timezone.now()
    _event(base + 1)
    _event(base + 5)
    drain("test.recorder", now=t0)
    drain("test.recorder", now=t0 + timedelta(seconds=10))
    _event(base + 3)

    drain("test.recorder", now=t0 + timedelta(seconds=20))

    gaps = OutboxCursor.objects.get(consumer="test.recorder").pending_gaps
    assert recorder.ids == [base + 1, base + 5, base + 3]
    assert [g[:2] for g in gaps] == [[base + 2, base + 2], [base + 4, base + 4]]


def test_unknown_consumer_is_refused() -> None:
    with pytest.raises(drain_module.UnknownConsumer):
        drain("no.such.consumer")


def test_lag_is_the_age_of_the_oldest_undelivered_event(recorder: Recorder) -> None:
    drain("test.recorder")
    old = emit("test.changed", object_type="test.thing", object_id="1")
    OutboxEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(seconds=120))

    before = lag_seconds("test.recorder")
    drain("test.recorder")

    assert 119 <= before <= 130
    assert lag_seconds("test.recorder") == 0.0


def test_outbox_health_reports_lag_and_fails_only_when_too_late(recorder: Recorder) -> None:
    assert health_checks.get("outbox") is outbox_health
    drain("test.recorder")
    assert outbox_health()["lag_seconds"]["test.recorder"] == 0.0

    stale = emit("test.changed", object_type="test.thing", object_id="1")
    OutboxEvent.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(seconds=400))
    with pytest.raises(RuntimeError, match="发件箱投递积压：test.recorder"):
        outbox_health()


def test_retention_removes_only_old_rows_every_consumer_has_received(register: Any) -> None:
    fast = register("test.fast", Recorder())
    slow = register("test.slow", Recorder())
    old_seen = emit("test.changed", object_type="test.thing", object_id="1")
    old_unseen = emit("test.changed", object_type="test.thing", object_id="2")
    recent = emit("test.changed", object_type="test.thing", object_id="3")
    long_ago = timezone.now() - timedelta(days=30)
    OutboxEvent.objects.filter(pk__in=[old_seen.pk, old_unseen.pk]).update(created_at=long_ago)
    drain("test.fast")
    drain("test.slow", batch_size=1, max_batches=1)  # the slow one has only received the first row
    assert fast.ids[-1] == recent.id and slow.ids == [old_seen.id]

    purge_delivered(older_than_days=7)

    remaining = set(OutboxEvent.objects.values_list("id", flat=True))
    assert old_seen.id not in remaining
    assert {old_unseen.id, recent.id} <= remaining


def test_retention_waits_for_a_consumer_that_never_drained() -> None:
    outbox_consumers.register("test.new", Recorder())
    try:
        old = emit("test.changed", object_type="test.thing", object_id="1")
        OutboxEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))

        assert purge_delivered(older_than_days=7) == 0
        assert OutboxEvent.objects.filter(pk=old.pk).exists()
    finally:
        outbox_consumers.unregister("test.new")


def test_a_new_consumer_starts_at_the_oldest_retained_row_without_waiting() -> None:
    top = OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    _event(top + 5000)  # everything below was purged long ago
    _event(top + 5001)
    recorder = Recorder()
    outbox_consumers.register("test.newcomer", recorder)
    try:
        drain("test.newcomer")
    finally:
        outbox_consumers.unregister("test.newcomer")

    assert recorder.ids == [top + 5000, top + 5001]
    assert OutboxCursor.objects.get(consumer="test.newcomer").pending_gaps == []


def test_drain_command_once_delivers_and_reports(recorder: Recorder, capsys: Any) -> None:
    event = emit("test.changed", object_type="test.thing", object_id="1")

    call_command("outbox_drain", "--consumer", "test.recorder", "--once")

    assert event.id in recorder.ids
    assert "test.recorder: " in capsys.readouterr().out


def test_drain_command_refuses_an_unknown_consumer() -> None:
    with pytest.raises(CommandError, match="未注册的发件箱消费者"):
        call_command("outbox_drain", "--consumer", "nobody", "--once")


def test_drain_command_fails_when_a_consumer_fails(register: Any) -> None:
    bad = register("test.broken", Recorder())
    bad.fail = True
    emit("test.changed", object_type="test.thing", object_id="1")
    with pytest.raises(CommandError, match="投递失败"):
        call_command("outbox_drain", "--consumer", "test.broken", "--once")


@pytest.mark.parametrize("interval", ["0", "-1"])
def test_drain_command_refuses_an_interval_that_would_spin_without_pause(interval: str) -> None:
    with pytest.raises(CommandError, match="--interval 必须大于 0"):
        call_command("outbox_drain", "--interval", interval)
