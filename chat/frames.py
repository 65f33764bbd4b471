"""What a message and a conversation look like on the wire (socket frames and the JSON of the pages).

A message frame is built once per message and the same dict (so the same serialised bytes) goes to
every recipient: nothing in it depends on who reads it. The per-person parts of a conversation
(unread, muted, pinned, the other person's name of a 1:1) live only in conversation_frame.

message_frame() expects `sender__department__agency` and `reply_to__sender` loaded
(MESSAGE_RELATED below, for select_related); otherwise it still works, one query per missing part.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from chat.models import Conversation, ConversationKind, Membership, Message

# What message_frame reads beyond the message row: select_related(*MESSAGE_RELATED).
MESSAGE_RELATED = ("sender__department__agency", "reply_to__sender")

# A quoted message shows this many characters of its text.
EXCERPT_CHARS = 60

_UNSET: Any = object()


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _name(user: Any) -> str:
    if user is None:
        return ""
    return user.real_name or user.username


def _agency_of(user: Any) -> str:
    department = getattr(user, "department", None)
    if department is None:
        return ""
    agency = department.agency
    return agency.short_name or agency.name


def has_content(message: Message) -> bool:
    """False once the message was recalled or emptied by retention: its body and file are gone."""
    return message.recalled_at is None and message.purged_at is None


def _reply_frame(message: Message, hide_before: int) -> dict[str, Any] | None:
    if message.reply_to_id is None:
        return None
    quoted = message.reply_to
    if quoted is None:  # the quoted row was deleted with its conversation's history
        return None
    if quoted.seq <= hide_before:
        # Quoted from before the reader joined: they may not read it, not even as an excerpt.
        return {"id": None, "seq": quoted.seq, "sender_name": "", "excerpt": "", "hidden": True}
    excerpt = " ".join(quoted.body.split())[:EXCERPT_CHARS] if has_content(quoted) else ""
    if has_content(quoted) and not excerpt and quoted.file_name:
        excerpt = quoted.file_name[:EXCERPT_CHARS]
    return {"id": quoted.pk, "seq": quoted.seq, "sender_name": _name(quoted.sender), "excerpt": excerpt}


def _file_frame(message: Message) -> dict[str, Any] | None:
    if message.blob_id is None or not has_content(message):
        return None
    return {
        "name": message.file_name,
        "size": message.file_size,
        "url": f"/chat/m/{message.pk}/file/",
        "thumbnail_url": f"/chat/m/{message.pk}/thumbnail/" if message.thumbnail_id else None,
    }


def shared_floor(message: Message) -> int:
    """For a frame sent alike to every member: the newest member's joined_seq when the message quotes
    another (one query), so a quote from before someone joined reaches nobody as text; 0 otherwise."""
    if message.reply_to_id is None:
        return 0
    from django.db.models import Max

    from chat.models import Membership

    newest = Membership.objects.filter(
        conversation_id=message.conversation_id, left_at__isnull=True
    ).aggregate(floor=Max("joined_seq"))["floor"]
    return int(newest or 0)


def shared_message_event(kind: str, message: Message) -> dict[str, Any]:
    """The event every member receives alike ("chat.message", "chat.recalled",
    "chat.message.updated"): one frame, its quote hidden below the newest member's joined_seq."""
    return {
        "type": kind,
        "conversation": message.conversation_id,
        "message": message_frame(message, hide_before=shared_floor(message)),
    }


def message_frame(message: Message, *, hide_before: int = 0) -> dict[str, Any]:
    """The frame of a message; `hide_before` is the reader's joined_seq (or shared_floor() for a frame
    every member receives): a quoted message at or below it is sent without its text."""
    sender = message.sender if message.sender_id is not None else None
    forwarded = None
    if message.forwarded_from_id is not None or message.origin_sender_name:
        forwarded = {
            "sender_name": message.origin_sender_name,
            "conversation_name": message.origin_conversation_name,
        }
    return {
        "id": message.pk,
        "seq": message.seq,
        "conversation": message.conversation_id,
        "kind": message.kind,
        "sender": (
            {"id": sender.pk, "name": _name(sender), "agency": _agency_of(sender)}
            if sender is not None
            else None
        ),
        "body": message.body if has_content(message) else "",
        "created_at": _iso(message.created_at),
        "client_id": message.client_id,
        "reply_to": _reply_frame(message, hide_before),
        "forwarded": forwarded,
        "file": _file_frame(message),
        "mentions": list(message.mentions or []),
        "mention_all": message.mention_all,
        "recalled": message.recalled_at is not None,
        "recalled_by_admin": (
            message.recalled_at is not None
            and message.recalled_by_id is not None
            and message.recalled_by_id != message.sender_id
        ),
        "data": dict(message.data or {}),
    }


def direct_other_id(conversation: Conversation, user_id: int) -> int | None:
    """The other person of a 1:1 chat, read from its direct_key "lo:hi" (no query)."""
    if conversation.kind != ConversationKind.DIRECT or not conversation.direct_key:
        return None
    lo, _, hi = conversation.direct_key.partition(":")
    return int(hi) if int(lo) == user_id else int(lo)


def conversation_frame(
    conversation: Conversation,
    membership: Membership,
    *,
    last_message: Message | None = _UNSET,
    display_name: str | None = None,
) -> dict[str, Any]:
    """The conversation as one person's list shows it.

    conversation_rows() passes `last_message` and `display_name` it loaded for a whole page at once;
    called alone, this looks them up (two small queries)."""
    if last_message is _UNSET:
        last_message = None
        if conversation.last_seq > membership.joined_seq:
            last_message = (
                Message.objects.select_related(*MESSAGE_RELATED)
                .filter(conversation_id=conversation.pk, seq=conversation.last_seq)
                .first()
            )
    if display_name is None:
        display_name = conversation.name
        other_id = direct_other_id(conversation, membership.user_id)
        if other_id is not None:
            from django.contrib.auth import get_user_model

            other = get_user_model().objects.filter(pk=other_id).first()
            display_name = _name(other) if other is not None else "已删除的用户"
    return {
        "id": conversation.pk,
        "kind": conversation.kind,
        "name": display_name,
        "last_message": (
            message_frame(last_message, hide_before=membership.joined_seq)
            if last_message is not None
            else None
        ),
        "last_seq": conversation.last_seq,
        "unread": max(0, conversation.last_seq - max(membership.last_read_seq, membership.joined_seq)),
        "muted": membership.muted,
        "pinned": membership.pinned,
        "member_count": conversation.member_count,
        "dissolved": conversation.dissolved_at is not None,
    }
