"""What is searchable, one source per kind of record, registered in
`officeapp.registries.search_indexers` by search.apps (search is the highest app: it imports the
others, never the other way).

A source turns outbox events into the keys to refresh, and keys into IndexDocs built from the
database's *current* state, so that delivering an event twice, or late, or out of order gives the
same index (the outbox consumer relies on this: search.indexing).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from django.db.models import QuerySet

from officeapp.outbox.models import OutboxEvent
from search.interface import IndexDoc


class Source(Protocol):
    kind: str  # a key of search.interface.KINDS; "document" and "attachment" may share one module

    def refs_for(self, event: OutboxEvent) -> Iterable[str]:
        """Keys ("document:42", "attachment:17" …) whose index entry this event may have changed,
        possibly none. Must be cheap: at most a query or two per event."""

    def build(self, keys: list[str]) -> tuple[list[IndexDoc], list[str]]:
        """(docs to write, keys to delete) for these keys of this source's kind: a key whose record
        is gone, or no longer searchable (a recalled message, a withdrawn draft), goes to delete."""

    def all_keys(self) -> Iterator[str]:
        """Every key of this kind in the database, for `manage.py search_reindex`."""

    def count(self) -> int:
        """How many keys all_keys() will give (the progress bar's total)."""


# The modules whose SOURCES search.apps registers, one per app that stores searchable records.
SOURCE_MODULES = (
    "search.sources.documents",  # 发文, 收文 and exchange: documents and their attachments
    "search.sources.supervision",  # 督办 items and progress reports
    "search.sources.meetings",  # meetings, minutes, materials
    "search.sources.chat",  # chat messages (members only)
)


def parse_pk(value: Any) -> int | None:
    """A positive primary key from an event's object id or payload value, or None."""
    if isinstance(value, bool):
        return None
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    return pk if pk > 0 else None


def parse_keys(keys: Iterable[str], prefix: str) -> dict[int, str]:
    """{pk: key} for the well-formed keys of this prefix (others are ignored: nothing to build)."""
    parsed: dict[int, str] = {}
    for key in keys:
        head, _, tail = key.partition(":")
        pk = parse_pk(tail) if head == prefix else None
        if pk is not None:
            parsed[pk] = key
    return parsed


class RowSource:
    """The part every source shares: its keys are "<prefix>:<pk>" of the rows `rows()` gives (the
    searchable ones), so `all_keys` and `count` for `search_reindex` come from them."""

    kind: str
    prefix: str

    def rows(self) -> QuerySet[Any]:
        raise NotImplementedError

    def all_keys(self) -> Iterator[str]:
        for pk in self.rows().order_by("pk").values_list("pk", flat=True).iterator():
            yield f"{self.prefix}:{pk}"

    def count(self) -> int:
        return self.rows().count()
