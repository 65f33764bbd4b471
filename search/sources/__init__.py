"""What is searchable, one source per kind of record, registered in
`officeapp.registries.search_indexers` by search.apps (search is the highest app: it imports the
others, never the other way).

A source turns outbox events into the keys to refresh, and keys into IndexDocs built from the
database's *current* state, so that delivering an event twice, or late, or out of order gives the
same index (the outbox consumer relies on this: search.indexing).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

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
