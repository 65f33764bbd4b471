"""The 待签收 tile on the 工作台: how many distributed documents wait for the user's signature as
收发员, and the latest of them. One query for count and lines together (head_and_count), none
for a user who is nobody's 收发员."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from documents.exchange import pending_for
from documents.models import Urgency
from officeapp.workbench.tiles import Tile, TileCount, TileItem, head_and_count, loaded


def pending_loader(user: Any, limit: int) -> tuple[int | None, list[Any]]:
    rows = pending_for(user)
    if not rows.query.is_empty():
        count, head = head_and_count(rows, limit)
    else:
        count, head = TileCount(0), []
    return count, [
        TileItem(
            title=f"{r.document.doc_number} {r.document.title}".strip(),
            url=reverse("documents:detail", kwargs={"document_id": r.document_id}),
            when=r.sent_at,
            meta=(r.sender.short_name or r.sender.name)
            + ("" if r.document.urgency == Urgency.NORMAL else f" · {r.document.get_urgency_display()}"),
        )
        for r in head
    ]


PENDING_TILE: Tile = loaded(
    "documents.pending",
    "待签收",
    15,
    pending_loader,
    url="documents:pending",
    empty_text="暂无待签收公文。",
)
