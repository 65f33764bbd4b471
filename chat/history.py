"""The read side of chat: pages of history, the conversation list, unread counts, read receipts and the
bounded search inside one conversation.

Every query here is bounded whatever the size of the conversation or the number of conversations:
history pages walk the unique (conversation, seq) index from a known seq (never an OFFSET over
messages, never a COUNT over a conversation's messages); the conversation list is three queries for
a page of any length; the unread total is one aggregate over the person's memberships.
"""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Greatest

from chat.access import current_memberships, visible_messages
from chat.frames import MESSAGE_RELATED, conversation_frame, direct_other_id, has_content
from chat.models import ConversationKind, Membership, Message, MessageKind
from officeapp.blobs.models import Blob

# A page never holds more than this many messages, whatever the caller asks for.
PAGE_MAX = 500
# search_in scans at most the newest this many messages of a conversation (see its docstring).
SEARCH_WINDOW = 20_000
SEARCH_QUERY_MAX_CHARS = 100


def _visible_from(membership: Membership, after_seq: int) -> QuerySet[Message]:
    """The member's messages after `after_seq`, with ONE lower bound on seq.

    visible_messages() already says seq > joined_seq; a second `seq > after` on top gives SQLite two
    lower bounds, and its planner takes the first (joined_seq, usually 0) as the start of the index
    range and checks the other row by row: a catch-up at seq 999,000 of 1,000,000 read 999,000 rows.
    PostgreSQL keeps the tighter bound itself; this keeps both databases on a short range scan."""
    return Message.objects.filter(
        conversation_id=membership.conversation_id, seq__gt=max(int(after_seq), membership.joined_seq)
    )


def _page_limit(limit: int) -> int:
    return max(1, min(int(limit), PAGE_MAX))


def messages_after(membership: Membership, after_seq: int, limit: int = 200) -> tuple[list[Message], bool]:
    """The messages after `after_seq` the member may see, ascending; `more` when the page was full
    (the client asks again from the last seq it received)."""
    limit = _page_limit(limit)
    rows = list(
        _visible_from(membership, after_seq).select_related(*MESSAGE_RELATED).order_by("seq")[: limit + 1]
    )
    return rows[:limit], len(rows) > limit


def messages_before(
    membership: Membership, before_seq: int | None, limit: int = 50
) -> tuple[list[Message], bool]:
    """The page of messages just before `before_seq` (the newest page when None), returned
    ascending; `more` when older messages the member may see remain."""
    limit = _page_limit(limit)
    query = visible_messages(membership)
    if before_seq is not None:
        query = query.filter(seq__lt=int(before_seq))
    rows = list(query.select_related(*MESSAGE_RELATED).order_by("-seq")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    rows.reverse()
    return rows, more


def conversation_rows(
    user: Any, *, limit: int = 50, offset: int = 0, name_contains: str = ""
) -> list[dict[str, Any]]:
    """conversation_frame of each of the user's conversations, pinned first, then the latest
    activity first. Three queries for a page of any length (memberships, last messages, the other
    people of 1:1 chats). `name_contains` keeps the groups so named and the 1:1 chats with someone
    so named (the 转发 page's search box)."""
    limit = _page_limit(limit)
    offset = max(0, int(offset))
    mine = current_memberships(user)
    q = " ".join((name_contains or "").replace("\x00", "").split())[:SEARCH_QUERY_MAX_CHARS]
    if q:
        other_named = Membership.objects.filter(
            conversation_id=OuterRef("conversation_id"), left_at__isnull=True, user__real_name__icontains=q
        ).exclude(user_id=user.pk)
        mine = mine.annotate(other_named=Exists(other_named)).filter(
            Q(conversation__name__icontains=q)
            | Q(conversation__kind=ConversationKind.DIRECT, other_named=True)
        )
    memberships = list(
        mine.select_related("conversation").order_by(
            "-pinned",
            F("conversation__last_message_at").desc(nulls_last=True),
            "-conversation__created_at",
            "-conversation_id",
        )[offset : offset + limit]
    )
    wanted = [
        Q(conversation_id=m.conversation_id, seq=m.conversation.last_seq)
        for m in memberships
        if m.conversation.last_seq > m.joined_seq
    ]
    last_messages: dict[int, Message] = {}
    if wanted:
        for message in Message.objects.select_related(*MESSAGE_RELATED).filter(reduce(or_, wanted)):
            last_messages[message.conversation_id] = message
    other_ids = {m.pk: direct_other_id(m.conversation, m.user_id) for m in memberships}
    names: dict[int, str] = {}
    if any(other_ids.values()):
        names = {
            pk: real_name or username
            for pk, real_name, username in get_user_model()
            .objects.filter(pk__in={i for i in other_ids.values() if i})
            .values_list("pk", "real_name", "username")
        }
    rows = []
    for membership in memberships:
        conversation = membership.conversation
        other_id = other_ids[membership.pk]
        display_name = names.get(other_id, "已删除的用户") if other_id else conversation.name
        rows.append(
            conversation_frame(
                conversation,
                membership,
                last_message=last_messages.get(conversation.pk),
                display_name=display_name,
            )
        )
    return rows


def unread_total(user: Any) -> int:
    """Unread messages over all the user's conversations except the muted ones; one query."""
    total = (
        current_memberships(user)
        .filter(muted=False)
        .aggregate(total=Sum(F("conversation__last_seq") - Greatest(F("last_read_seq"), F("joined_seq"))))[
            "total"
        ]
    )
    return max(0, int(total or 0))


def read_receipts(message: Message) -> dict[str, list[Any]]:
    """Who has and has not read the message: the current members who were there when it was sent
    (joined before it), the sender excluded. One query."""
    memberships = (
        Membership.objects.filter(
            conversation_id=message.conversation_id, left_at__isnull=True, joined_seq__lt=message.seq
        )
        .exclude(user_id=message.sender_id)
        .select_related("user")
        .order_by("user__real_name", "user_id")
    )
    read: list[Any] = []
    unread: list[Any] = []
    for membership in memberships:
        (read if membership.last_read_seq >= message.seq else unread).append(membership.user)
    return {"read": read, "unread": unread}


def search_in(membership: Membership, q: str, *, limit: int = 50) -> list[Message]:
    """Messages of the conversation whose text (or file name) contains `q`, newest first.

    Bounded until the search issue connects chat to its engine: only the newest SEARCH_WINDOW
    (20,000) messages of the conversation are scanned (a seq range on the (conversation, seq) index),
    so an older match is not found here. Recalled and purged messages and system messages never
    match."""
    q = " ".join((q or "").replace("\x00", "").split())[:SEARCH_QUERY_MAX_CHARS]
    if not q:
        return []
    conversation = membership.conversation
    floor = max(membership.joined_seq, conversation.last_seq - SEARCH_WINDOW)
    return list(
        _visible_from(membership, floor)
        .filter(recalled_at__isnull=True, purged_at__isnull=True)
        .exclude(kind=MessageKind.SYSTEM)
        .filter(Q(body__icontains=q) | Q(file_name__icontains=q))
        .select_related(*MESSAGE_RELATED)
        .order_by("-seq")[: _page_limit(limit)]
    )


CONTEXT_EACH_SIDE = 15


def messages_around(
    membership: Membership, seq: int, each_side: int = CONTEXT_EACH_SIDE
) -> list[Message] | None:
    """The found message and up to `each_side` messages the member may see on either side of it,
    ascending (查看上下文 from a search result); None when the member may not see that seq (before
    they joined, or past the end). Two short range reads on the (conversation, seq) index."""
    if not membership.joined_seq < int(seq) <= membership.conversation.last_seq:
        return None
    base = Message.objects.filter(conversation_id=membership.conversation_id).select_related(*MESSAGE_RELATED)
    before = list(
        base.filter(seq__gt=max(membership.joined_seq, int(seq) - each_side - 1), seq__lt=int(seq)).order_by(
            "seq"
        )
    )
    after = list(base.filter(seq__gte=int(seq), seq__lte=int(seq) + each_side).order_by("seq"))
    if not after or after[0].seq != int(seq):
        return None
    return before + after


def file_blob_for(message: Message) -> Blob | None:
    """The file of a message for the download view, or None when it has none any more (recalled,
    emptied by retention): the view then answers 404."""
    if message.blob_id is None or not has_content(message):
        return None
    return message.blob


def thumbnail_blob_for(message: Message) -> Blob | None:
    """The thumbnail of an image message, or None (not made yet, recalled, purged)."""
    if message.thumbnail_id is None or not has_content(message):
        return None
    return message.thumbnail
