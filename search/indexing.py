"""Keeping the index fresh: the outbox consumer "search" and the full rebuild behind `search_reindex`.

The consumer asks every source which keys an event may have changed, then builds those keys from the
database's *current* state and writes or deletes them. Nothing is applied as a delta, so a batch
delivered twice (a crash between the engine write and the cursor's commit), late or out of order
leaves the same index. Any exception propagates: the drain (officeapp.outbox.drain) then leaves the
cursor where it was and retries with backoff, so a worker that dies while indexing loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from officeapp.outbox.models import OutboxCursor, OutboxEvent
from officeapp.registries import search_indexers
from search.engines import get_engine
from search.interface import IndexDoc
from search.sources import Source

logger = logging.getLogger(__name__)

CONSUMER = "search"
# Keys built per call of Source.build: one batch of the drain is at most 500 events.
CHUNK = 500


def sources() -> dict[str, Source]:
    """prefix -> source, as search.apps registered them."""
    return dict(search_indexers.items())


def prefix_of(key: str) -> str:
    return key.split(":", 1)[0]


def _chunks(keys: Iterable[str], size: int = CHUNK) -> Iterator[list[str]]:
    it = iter(keys)
    while chunk := list(islice(it, size)):
        yield chunk


def keys_for(
    events: Iterable[OutboxEvent], by_prefix: dict[str, Source] | None = None
) -> dict[str, list[str]]:
    """prefix -> keys the events may have changed, in first-seen order, each once."""
    registered = by_prefix if by_prefix is not None else sources()
    grouped: dict[str, dict[str, None]] = {}
    for event in events:
        for source in registered.values():
            for key in source.refs_for(event):
                grouped.setdefault(prefix_of(key), {})[key] = None
    return {prefix: list(keys) for prefix, keys in grouped.items()}


def refresh(
    keys_by_prefix: dict[str, list[str]], by_prefix: dict[str, Source] | None = None
) -> tuple[int, int]:
    """Build each key from the database and write or delete it; returns (written, deleted)."""
    registered = by_prefix if by_prefix is not None else sources()
    engine = get_engine()
    written = deleted = 0
    for prefix, keys in keys_by_prefix.items():
        source = registered.get(prefix)
        if source is None:
            # A key no source builds is a programming error; raising would stop every later change
            # from reaching the index (the drain retries the same batch for ever), so it is logged.
            logger.error("search: no source for keys with prefix %r (%d keys) — skipped", prefix, len(keys))
            continue
        for chunk in _chunks(keys):
            docs, gone = source.build(chunk)
            if docs:
                written += engine.index(docs)
            if gone:
                deleted += engine.delete(gone)
    return written, deleted


def consume(events: list[OutboxEvent]) -> None:
    """The outbox consumer "search" (registered by search.apps). Idempotent; raises on any failure."""
    registered = sources()
    refresh(keys_for(events, registered), registered)


# --- Full rebuild -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReindexResult:
    indexed: int  # docs in the new generation
    replayed: int  # outbox events replayed after the switch
    engine: str
    through_id: int  # every outbox event up to this id is in the new generation


def _all_docs(registered: dict[str, Source]) -> Iterator[IndexDoc]:
    for source in registered.values():
        for chunk in _chunks(source.all_keys()):
            docs, _gone = source.build(chunk)
            yield from docs


def replay_after(last_id: int, *, batch: int = CHUNK) -> tuple[int, int]:
    """Refresh what every outbox event after `last_id` touched; returns (events read, last id read)."""
    registered = sources()
    replayed = 0
    while True:
        events = list(OutboxEvent.objects.filter(id__gt=last_id).order_by("id")[:batch])
        if not events:
            return replayed, last_id
        refresh(keys_for(events, registered), registered)
        replayed += len(events)
        last_id = events[-1].id


def reindex_all(
    *, progress: Any = None, clear: bool = False, on_total: Callable[[int], None] | None = None
) -> ReindexResult:
    """Rebuild the whole index from the database while the current one keeps answering.

    The engine builds a new generation and switches to it at once (engine.rebuild). Changes made
    while it builds go to the outbox as always, and the worker writes them into the *old*
    generation, which the switch then discards. So before building we note where the "search"
    consumer's cursor stands (or, if it has never run, the newest event), and after the switch we
    replay every event after that point into the new generation. Replaying more than needed is
    harmless: sources build from the current state. `clear` drops the index first (searches find
    nothing until the rebuild ends): for a damaged index or changed mappings.
    """
    engine = get_engine()
    registered = sources()
    cursor = OutboxCursor.objects.filter(consumer=CONSUMER).values_list("last_id", flat=True).first()
    newest = OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    start_id = min(cursor, newest) if cursor is not None else newest
    total = sum(source.count() for source in registered.values())
    if on_total is not None:
        on_total(total)
    if clear:
        engine.clear()
    indexed = engine.rebuild(_all_docs(registered), total=total, progress=progress)
    replayed, through_id = replay_after(start_id)
    return ReindexResult(indexed=indexed, replayed=replayed, engine=engine.name, through_id=through_id)
