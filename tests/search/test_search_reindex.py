"""`manage.py search_reindex`: a progress bar, the count and the time; the old index answers until
the new one is complete, and the switch is at once."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.management import call_command

from officeapp.outbox.models import OutboxEvent
from officeapp.registries import search_indexers
from search.engines import get_engine
from search.interface import IndexDoc, SearchQuery
from search.query import parse

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 4, 1, tzinfo=UTC)
EVERYONE = {"u:1": None}


def item(key: str, title: str) -> IndexDoc:
    return IndexDoc(
        key=key,
        kind="document",
        title=title,
        body=title,
        principals=frozenset(EVERYONE),
        url="/x/",
        date=WHEN,
    )


class Notes:
    """A source of N notes titled 河道整治第<i>号 (prefix "rxnote"); `during` runs mid-build."""

    kind = "document"
    prefix = "rxnote"

    def __init__(self, n: int) -> None:
        self.n = n
        self.during: Any = None

    def refs_for(self, event: OutboxEvent) -> Iterable[str]:
        return []

    def build(self, keys: list[str]) -> tuple[list[IndexDoc], list[str]]:
        if self.during is not None:
            self.during()
            self.during = None
        return [item(k, f"河道整治第{k.split(':')[1]}号") for k in keys], []

    def all_keys(self) -> Iterator[str]:
        return (f"rxnote:{i}" for i in range(self.n))

    def count(self) -> int:
        return self.n


@pytest.fixture
def notes() -> Iterator[Notes]:
    source = Notes(1203)
    search_indexers.register(source.prefix, source)
    yield source
    search_indexers.unregister(source.prefix)


def hits(word: str) -> set[str]:
    results = get_engine().search(SearchQuery(parsed=parse(word), principals=EVERYONE, per_page=50))
    return {hit.key for hit in results.hits}


def total(word: str) -> int:
    return get_engine().search(SearchQuery(parsed=parse(word), principals=EVERYONE)).total


def test_the_command_rebuilds_with_a_progress_bar_and_says_how_many_and_how_long(notes: Notes) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command("search_reindex", stdout=out, stderr=err)
    assert get_engine().count() >= 1203
    assert total("河道整治") == 1203
    assert "重建搜索索引" in err.getvalue() and "1203" in err.getvalue()  # tqdm's bar, with its total
    assert "1203 条" in out.getvalue() or "条" in out.getvalue()
    assert "用时" in out.getvalue()


def test_searches_keep_answering_from_the_old_index_while_the_new_one_builds(notes: Notes) -> None:
    get_engine().index([item("stale:1", "旧索引里的水库巡查")])
    seen_during: dict[str, Any] = {}

    def search_meanwhile() -> None:
        seen_during["old"] = hits("水库巡查")
        seen_during["new"] = total("河道整治")

    notes.during = search_meanwhile
    call_command("search_reindex", stdout=io.StringIO(), stderr=io.StringIO())

    assert seen_during == {"old": {"stale:1"}, "new": 0}  # the old generation answered mid-build
    assert hits("水库巡查") == set()  # what no source builds is gone after the switch
    assert total("河道整治") == 1203


def test_clear_empties_the_index_first(notes: Notes) -> None:
    get_engine().index([item("stale:2", "旧索引里的堤防加固")])
    notes.n = 3
    out = io.StringIO()
    call_command("search_reindex", "--clear", stdout=out, stderr=io.StringIO())
    assert hits("堤防加固") == set()
    assert total("河道整治") == 3
