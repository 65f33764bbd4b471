"""The search part of `load_demo` ("90-search", after every other builder): build the index from the
database, so that `make run` finds the demo's documents, 督办, meetings and messages at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from officeapp.outbox.models import OutboxCursor
from search.indexing import CONSUMER, reindex_all


def build_search_demo(stdout: Callable[[str], Any]) -> str:
    result = reindex_all()
    # The rebuild covered every event the demo wrote: the worker's cursor starts after them instead
    # of indexing the demo's thousands of events a second time on its first ticks.
    cursor, created = OutboxCursor.objects.get_or_create(
        consumer=CONSUMER, defaults={"last_id": result.through_id}
    )
    if not created and cursor.last_id < result.through_id and not cursor.pending_gaps:
        cursor.last_id = result.through_id
        cursor.save(update_fields=["last_id", "updated_at"])
    return f"搜索索引：{result.indexed} 条"
