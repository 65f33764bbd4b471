"""The outbox consumer "search": events → keys → docs built from the current state → the engine;
idempotent, and a failure anywhere moves nothing (the drain retries, nothing is lost)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from officeapp.outbox.drain import drain
from officeapp.outbox.models import OutboxCursor, OutboxEvent
from officeapp.outbox.services import emit
from officeapp.registries import outbox_consumers, search_indexers
from search import indexing
from search.interface import IndexDoc

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 3, 1, tzinfo=UTC)


class FakeSource:
    """Records "fake.note" events; a note's text lives in `notes` (None: deleted)."""

    kind = "document"
    prefix = "fakenote"

    def __init__(self) -> None:
        self.notes: dict[int, str | None] = {}
        self.built: list[list[str]] = []
        self.fail = False

    def refs_for(self, event: OutboxEvent) -> Iterable[str]:
        if event.topic == "fake.note":
            return [f"fakenote:{event.object_id}"]
        return []

    def build(self, keys: list[str]) -> tuple[list[IndexDoc], list[str]]:
        if self.fail:
            raise RuntimeError("database went away while building")
        self.built.append(list(keys))
        docs, gone = [], []
        for key in keys:
            text = self.notes.get(int(key.split(":")[1]))
            if text is None:
                gone.append(key)
            else:
                docs.append(
                    IndexDoc(
                        key=key,
                        kind="document",
                        title=text,
                        body=text,
                        principals=frozenset({"u:1"}),
                        url=f"/notes/{key}",
                        date=WHEN,
                    )
                )
        return docs, gone

    def all_keys(self) -> Iterator[str]:
        return (f"fakenote:{pk}" for pk, text in self.notes.items() if text is not None)

    def count(self) -> int:
        return sum(1 for text in self.notes.values() if text is not None)


class FakeEngine:
    """In memory, with a switch that makes writes fail (an engine that is down)."""

    name = "fake"

    def __init__(self) -> None:
        self.docs: dict[str, IndexDoc] = {}
        self.down = False
        self.writes = 0

    def index(self, docs: Iterable[IndexDoc]) -> int:
        if self.down:
            raise RuntimeError("engine down")
        n = 0
        for doc in docs:
            self.docs[doc.key] = doc
            n += 1
        self.writes += 1
        return n

    def delete(self, keys: Iterable[str]) -> int:
        if self.down:
            raise RuntimeError("engine down")
        return sum(1 for key in keys if self.docs.pop(key, None) is not None)

    def rebuild(self, docs: Iterator[IndexDoc], *, total: int | None = None, progress: Any = None) -> int:
        fresh = {doc.key: doc for doc in docs}
        self.docs = fresh
        return len(fresh)

    def clear(self) -> None:
        self.docs = {}


@pytest.fixture
def source() -> Iterator[FakeSource]:
    fake = FakeSource()
    search_indexers.register(fake.prefix, fake)
    yield fake
    search_indexers.unregister(fake.prefix)


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    fake = FakeEngine()
    monkeypatch.setattr(indexing, "get_engine", lambda: fake)
    return fake


@pytest.fixture(autouse=True)
def cursor_at_the_sequence() -> None:
    """The "search" cursor just below the next id (PostgreSQL sequences survive test rollbacks)."""
    probe = emit("test.probe", object_type="test.thing", object_id="0")
    OutboxCursor.objects.update_or_create(consumer=indexing.CONSUMER, defaults={"last_id": probe.id})
    probe.delete()


def note(source: FakeSource, pk: int, text: str | None) -> OutboxEvent:
    source.notes[pk] = text
    return emit("fake.note", object_type="fake.note", object_id=pk)


def test_events_become_index_entries_and_deletions(source: FakeSource, engine: FakeEngine) -> None:
    note(source, 1, "防汛工作通知")
    note(source, 2, "乡村振兴资金")
    engine.docs["fakenote:3"] = IndexDoc(
        key="fakenote:3", kind="document", title="旧", body="", principals=frozenset(), url="/", date=WHEN
    )
    note(source, 3, None)

    assert drain(indexing.CONSUMER).delivered == 3

    assert {k: d.title for k, d in engine.docs.items()} == {
        "fakenote:1": "防汛工作通知",
        "fakenote:2": "乡村振兴资金",
    }


def test_keys_are_built_once_per_batch_in_first_seen_order(source: FakeSource, engine: FakeEngine) -> None:
    events = [note(source, 5, "a"), note(source, 4, "b"), note(source, 5, "c"), note(source, 4, "d")]
    indexing.consume(events)
    assert source.built == [["fakenote:5", "fakenote:4"]]
    assert engine.docs["fakenote:5"].title == "c"  # the current state, not the event's


def test_a_large_batch_is_built_in_chunks(source: FakeSource, engine: FakeEngine) -> None:
    events = [note(source, pk, f"n{pk}") for pk in range(1, indexing.CHUNK + 3)]
    indexing.consume(events)
    assert [len(chunk) for chunk in source.built] == [indexing.CHUNK, 2]
    assert len(engine.docs) == indexing.CHUNK + 2


def test_redelivering_the_same_events_gives_the_same_index(source: FakeSource, engine: FakeEngine) -> None:
    events = [note(source, 1, "防汛"), note(source, 2, None)]
    indexing.consume(events)
    first = dict(engine.docs)
    indexing.consume(events)
    indexing.consume(list(reversed(events)))
    assert engine.docs == first


def test_an_engine_failure_moves_no_cursor_and_the_retry_loses_nothing(
    source: FakeSource, engine: FakeEngine
) -> None:
    before = OutboxCursor.objects.get(consumer=indexing.CONSUMER).last_id
    note(source, 1, "防汛")
    note(source, 2, "台风")
    engine.down = True

    result = drain(indexing.CONSUMER)

    assert result.failed and "engine down" in result.error
    cursor = OutboxCursor.objects.get(consumer=indexing.CONSUMER)
    assert cursor.last_id == before and cursor.failures == 1 and cursor.retry_at is not None
    assert engine.docs == {}

    engine.down = False
    OutboxCursor.objects.filter(consumer=indexing.CONSUMER).update(retry_at=None)  # the backoff has passed
    assert drain(indexing.CONSUMER).delivered == 2
    assert set(engine.docs) == {"fakenote:1", "fakenote:2"}


def test_a_crash_while_building_is_retried_too(source: FakeSource, engine: FakeEngine) -> None:
    note(source, 7, "会议纪要")
    source.fail = True
    assert drain(indexing.CONSUMER).failed
    source.fail = False
    OutboxCursor.objects.filter(consumer=indexing.CONSUMER).update(retry_at=None)
    assert drain(indexing.CONSUMER).delivered == 1
    assert "fakenote:7" in engine.docs


def test_keys_of_no_registered_source_are_skipped_not_retried_for_ever(
    engine: FakeEngine, caplog: Any
) -> None:
    class Stray(FakeSource):
        prefix = "straysource"

        def refs_for(self, event: OutboxEvent) -> Iterable[str]:
            return ["nobody:1"] if event.topic == "fake.note" else []

    stray = Stray()
    search_indexers.register(stray.prefix, stray)
    try:
        indexing.consume([emit("fake.note", object_type="fake.note", object_id=1)])
    finally:
        search_indexers.unregister(stray.prefix)
    assert "no source for keys with prefix 'nobody'" in caplog.text


def test_reindex_all_rebuilds_and_replays_changes_made_during_the_rebuild(
    source: FakeSource, engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    source.notes = {1: "一", 2: "二"}
    real_rebuild = engine.rebuild

    def rebuild_while_someone_edits(docs: Iterator[IndexDoc], **kwargs: Any) -> int:
        built = real_rebuild(docs, **kwargs)
        # While the new generation was building, note 3 was written and note 1 deleted; the worker
        # put that into the old generation, which the switch threw away.
        note(source, 3, "三")
        note(source, 1, None)
        return built

    monkeypatch.setattr(engine, "rebuild", rebuild_while_someone_edits)
    result = indexing.reindex_all()

    assert result.indexed == 2 and result.replayed == 2
    assert set(engine.docs) == {"fakenote:2", "fakenote:3"}
    assert result.through_id == OutboxEvent.objects.order_by("-id").first().id


def test_the_search_consumer_is_registered() -> None:
    assert outbox_consumers.get(indexing.CONSUMER) is indexing.consume
