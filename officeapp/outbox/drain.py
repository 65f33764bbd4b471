"""Draining the outbox: each registered consumer reads the rows after its own cursor, in id order.

A consumer is `callable(events: list[OutboxEvent]) -> None` registered in
`officeapp.registries.outbox_consumers`; it must be idempotent, because a crash between its
external effect and the commit of the cursor delivers the same events again.

The cursor advances in the same transaction as the consumer's own database writes, so a consumer
that only writes to the database gets each event exactly once.

Out-of-order commits. Ids come from a sequence at INSERT time, but transactions commit in any
order: id 7 may be visible while id 6 (a longer transaction) is not yet. When the cursor meets such a
hole it first *holds* for GAP_HOLD_SECONDS (most holes fill within milliseconds, and holding keeps
the per-object order intact); after that it passes the hole and remembers it in
`OutboxCursor.pending_gaps`. Every later drain re-reads the remembered ranges and delivers rows that
have appeared meanwhile; a range that stays empty for GAP_TTL_SECONDS is logged and dropped (a rolled
back transaction leaves such holes for ever). A row delivered late may be older than an event of the
same object already delivered, which is why consumers re-read the object's current state rather than
apply events as deltas.

A consumer that raises advances nothing; it is retried with exponential backoff (`retry_at`), and
the other consumers are not affected.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from officeapp.outbox.models import OutboxCursor, OutboxEvent
from officeapp.registries import outbox_consumers

logger = logging.getLogger(__name__)

Consumer = Callable[[list[OutboxEvent]], None]
# [low id, high id, epoch seconds when first seen missing]
Gap = list[float]

GAP_HOLD_SECONDS = 3.0
GAP_TTL_SECONDS = 600.0
# A bound on what one cursor row remembers; beyond it the oldest ranges are dropped (and logged).
MAX_GAP_RANGES = 1000
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 300.0
MAX_LAG_SECONDS = 300.0
RETENTION_DAYS = 7


class UnknownConsumer(LookupError):
    pass


@dataclass
class DrainResult:
    consumer: str
    delivered: int = 0
    batches: int = 0
    failed: bool = False
    skipped: str = ""  # "backoff" while a failing consumer waits, "busy" when another drain holds it
    error: str = ""


@dataclass
class _Batch:
    delivered: int
    more: bool
    skipped: str = ""


def backoff_seconds(failures: int) -> float:
    return min(BACKOFF_BASE_SECONDS * (2 ** max(failures - 1, 0)), BACKOFF_MAX_SECONDS)


def _gap_condition(gaps: Iterable[Gap]) -> Q:
    condition = Q()
    for low, high, _seen in gaps:
        condition |= Q(id__gte=int(low), id__lte=int(high))
    return condition


def _remove_ids(gaps: list[Gap], ids: set[int]) -> list[Gap]:
    """Split the ranges around ids that have become visible."""
    if not ids:
        return gaps
    result: list[Gap] = []
    for low, high, seen in gaps:
        start = int(low)
        for i in sorted(x for x in ids if low <= x <= high):
            if i > start:
                result.append([start, i - 1, seen])
            start = i + 1
        if start <= high:
            result.append([start, int(high), seen])
    return result


def _drain_batch(name: str, consumer: Consumer, batch_size: int, now: datetime) -> _Batch:
    t = now.timestamp()
    with transaction.atomic():
        # skip_locked: a second worker draining the same consumer moves on instead of queueing
        # behind the first (on SQLite the IMMEDIATE transaction already serialises writers).
        cursor = OutboxCursor.objects.select_for_update(skip_locked=True).filter(consumer=name).first()
        if cursor is None:
            return _Batch(0, False, "busy")
        if cursor.retry_at is not None and cursor.retry_at > now:
            return _Batch(0, False, "backoff")
        gaps: list[Gap] = [list(g) for g in cursor.pending_gaps]
        passed = [g for g in gaps if g[1] <= cursor.last_id]
        held = next((g for g in gaps if g[0] > cursor.last_id), None)

        late: list[OutboxEvent] = []
        if passed:
            late = list(OutboxEvent.objects.filter(_gap_condition(passed)).order_by("id")[:batch_size])
        room = batch_size - len(late)
        new = list(OutboxEvent.objects.filter(id__gt=cursor.last_id).order_by("id")[:room]) if room else []

        expected = cursor.last_id + 1
        fresh: list[OutboxEvent] = []
        newly_passed: list[Gap] = []
        new_held: Gap | None = None
        for event in new:
            if event.id > expected:
                seen = held[2] if held is not None and held[0] <= expected <= held[1] else t
                if t - seen < GAP_HOLD_SECONDS:
                    new_held = [expected, event.id - 1, seen]
                    break
                newly_passed.append([expected, event.id - 1, seen])
            fresh.append(event)
            expected = event.id + 1

        remaining = _remove_ids(passed, {e.id for e in late})
        if len(late) < batch_size:
            # Age out only when every visible row of the ranges was read in this batch.
            kept = []
            for gap in remaining:
                if t - gap[2] > GAP_TTL_SECONDS:
                    logger.warning(
                        "outbox %s: ids %d..%d never committed within %ds; dropped",
                        name,
                        gap[0],
                        gap[1],
                        GAP_TTL_SECONDS,
                    )
                else:
                    kept.append(gap)
            remaining = kept
        remaining += newly_passed
        if len(remaining) > MAX_GAP_RANGES:
            dropped = remaining[: len(remaining) - MAX_GAP_RANGES]
            logger.warning("outbox %s: too many gaps, dropped %d oldest ranges", name, len(dropped))
            remaining = remaining[-MAX_GAP_RANGES:]
        if new_held is not None:
            remaining.append(new_held)

        events = late + fresh  # late ids are all below the cursor, so this is id order
        if events:
            consumer(events)
        new_last_id = expected - 1
        if events or remaining != gaps or new_last_id != cursor.last_id or cursor.failures:
            cursor.last_id = new_last_id
            cursor.pending_gaps = remaining
            cursor.failures = 0
            cursor.retry_at = None
            cursor.last_error = ""
            cursor.save()
        more = bool(events) and len(late) + len(new) >= batch_size
        return _Batch(len(events), more)


def _record_failure(name: str, exc: BaseException, now: datetime) -> None:
    with transaction.atomic():
        cursor = OutboxCursor.objects.select_for_update().get(consumer=name)
        cursor.failures += 1
        cursor.retry_at = now + timedelta(seconds=backoff_seconds(cursor.failures))
        cursor.last_error = f"{type(exc).__name__}: {exc}"[:500]
        cursor.save(update_fields=["failures", "retry_at", "last_error", "updated_at"])


def drain(
    consumer_name: str, batch_size: int = 500, *, max_batches: int = 100, now: datetime | None = None
) -> DrainResult:
    """Deliver what is waiting for one consumer, batch by batch (one transaction each)."""
    consumer = outbox_consumers.get(consumer_name)
    if consumer is None:
        raise UnknownConsumer(consumer_name)
    result = DrainResult(consumer=consumer_name)
    cursor = OutboxCursor.objects.filter(consumer=consumer_name).first()
    if cursor is not None and not cursor.pending_gaps:
        # The ticker calls this every second: when idle, answer from two reads without opening a
        # write transaction (on SQLite every transaction takes the database's write lock).
        if cursor.retry_at is not None and cursor.retry_at > (now or timezone.now()):
            result.skipped = "backoff"
            return result
        if not OutboxEvent.objects.filter(id__gt=cursor.last_id).exists():
            return result
    if cursor is None:
        # A new consumer starts at the oldest retained row, not at 0: ids below it were purged, and
        # treating them as a hole would only delay its first delivery.
        oldest = OutboxEvent.objects.order_by("id").values_list("id", flat=True).first()
        OutboxCursor.objects.get_or_create(consumer=consumer_name, defaults={"last_id": (oldest or 1) - 1})
    for _ in range(max_batches):
        at = now or timezone.now()
        try:
            batch = _drain_batch(consumer_name, consumer, batch_size, at)
        except Exception as exc:
            logger.exception("outbox consumer %s failed; retried with backoff", consumer_name)
            _record_failure(consumer_name, exc, at)
            result.failed = True
            result.error = f"{type(exc).__name__}: {exc}"[:500]
            return result
        result.batches += 1
        result.delivered += batch.delivered
        result.skipped = batch.skipped
        if not batch.more:
            break
    return result


def drain_all(batch_size: int = 500) -> list[DrainResult]:
    """Drain every registered consumer; one consumer's failure never stops the others."""
    names = outbox_consumers.keys()
    return [drain(name, batch_size) for name in names]


def _undelivered(cursor: OutboxCursor | None) -> Q:
    if cursor is None:
        return Q()
    condition = Q(id__gt=cursor.last_id)
    passed = [g for g in cursor.pending_gaps if g[1] <= cursor.last_id]
    if passed:
        condition |= _gap_condition(passed)
    return condition


def lag_seconds(consumer_name: str, *, now: datetime | None = None) -> float:
    """Age of the oldest row the consumer has not received yet (0 when it is caught up)."""
    cursor = OutboxCursor.objects.filter(consumer=consumer_name).first()
    oldest = (
        OutboxEvent.objects.filter(_undelivered(cursor))
        .order_by("id")
        .values_list("created_at", flat=True)
        .first()
    )
    if oldest is None:
        return 0.0
    return max(((now or timezone.now()) - oldest).total_seconds(), 0.0)


def purge_delivered(
    *, older_than_days: int = RETENTION_DAYS, now: datetime | None = None, chunk: int = 5000
) -> int:
    """Delete rows older than the retention that every registered consumer has received."""
    cutoff = (now or timezone.now()) - timedelta(days=older_than_days)
    names = outbox_consumers.keys()
    cursors = list(OutboxCursor.objects.filter(consumer__in=names))
    if len(cursors) < len(names):
        return 0  # a consumer that never drained has received nothing yet
    base = OutboxEvent.objects.filter(created_at__lt=cutoff)
    if cursors:
        base = base.filter(id__lte=min(c.last_id for c in cursors))
        gaps = [g for c in cursors for g in c.pending_gaps]
        if gaps:
            base = base.exclude(_gap_condition(gaps))
    deleted = 0
    while True:
        ids = list(base.order_by("id").values_list("id", flat=True)[:chunk])
        if not ids:
            return deleted
        with transaction.atomic():
            deleted += OutboxEvent.objects.filter(id__in=ids).delete()[0]


def outbox_health() -> dict[str, object]:
    """Health check "outbox": reports every consumer's lag; fails only past MAX_LAG_SECONDS."""
    names = outbox_consumers.keys()
    lags = {name: round(lag_seconds(name), 1) for name in names}
    late = {name: lag for name, lag in lags.items() if lag > MAX_LAG_SECONDS}
    if late:
        listed = "，".join(f"{name} {lag:.0f} 秒" for name, lag in late.items())
        raise RuntimeError(f"发件箱投递积压：{listed}")
    return {"lag_seconds": lags}
