"""Chat messages in search ("message:<pk>", kind "message"): text messages (their text) and files
and images (file name and caption), for the members only.

A message carries the one principal "conv:<conversation id>" and its seq as acl_seq; a member's
principal has her joined_seq as floor (chat.access.search_principals_of), so she finds exactly
`visible_messages(membership)`. Joining, leaving and removal change only the user side, computed
per query: no message is reindexed for them. System notices ("张三 加入了群聊") are not what
anyone wrote and are not indexed; a recalled or purged (retention) message is deleted from the
index by its outbox row.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.urls import reverse
from django.utils import timezone

from officeapp.outbox.models import OutboxEvent
from search.interface import MAX_BODY_CHARS, MAX_TITLE_CHARS, IndexDoc
from search.sources import RowSource, Source, parse_keys, parse_pk

PREFIX = "message"
TITLE_CHARS = 40  # a message has no title: its first words stand for one

MESSAGE_TOPICS = frozenset({"chat.message", "chat.message.recalled"})
PURGED_TOPIC = "chat.messages.purged"


def _searchable(message: Any) -> bool:
    from chat.models import MessageKind

    return (
        message.kind != MessageKind.SYSTEM
        and message.recalled_at is None
        and message.purged_at is None
        and bool(message.body.strip() or message.file_name.strip())
    )


def _sender_name(message: Any) -> str:
    sender = message.sender
    return (sender.real_name or sender.username) if sender is not None else ""


def _conversation_name(conversation: Any) -> str:
    # A 1:1 chat has no name of its own (each side sees the other's name): say what it is.
    from chat.models import ConversationKind

    if conversation.name:
        return conversation.name
    return "单聊" if conversation.kind == ConversationKind.DIRECT else "群聊"


def _doc(message: Any) -> IndexDoc:
    text = " ".join(message.body.split())
    name = message.file_name.strip()
    title = text[:TITLE_CHARS] + ("…" if len(text) > TITLE_CHARS else "") if text else name
    sender = _sender_name(message)
    conversation = message.conversation
    department = getattr(message.sender, "department", None) if message.sender is not None else None
    agency = department.agency if department is not None else None
    return IndexDoc(
        key=f"{PREFIX}:{message.pk}",
        kind="message",
        title=(title or f"{sender} 在 {_conversation_name(conversation)}")[:MAX_TITLE_CHARS],
        body="\n".join(p for p in (message.body.strip(), name) if p)[:MAX_BODY_CHARS],
        principals=frozenset({f"conv:{message.conversation_id}"}),
        url=reverse("chat:context", args=[message.conversation_id, message.seq]),
        # Local time: the year facet is read from it (1 January 00:30 in Beijing is the new year).
        date=timezone.localtime(message.created_at),
        agency_id=agency.pk if agency is not None else None,
        agency_name=agency.name if agency is not None else "",
        acl_seq=message.seq,
        subtitle=" · ".join(p for p in (_conversation_name(conversation), sender) if p),
    )


class MessageSource(RowSource):
    kind = "message"
    prefix = PREFIX

    def refs_for(self, event: OutboxEvent) -> Iterable[str]:
        if event.topic in MESSAGE_TOPICS:
            pk = parse_pk(event.object_id)
            return [f"{PREFIX}:{pk}"] if pk else []
        if event.topic == PURGED_TOPIC:
            payload = event.payload if isinstance(event.payload, dict) else {}
            ids = [parse_pk(i) for i in payload.get("ids") or []]
            return [f"{PREFIX}:{i}" for i in ids if i]
        return []

    def build(self, keys: list[str]) -> tuple[list[IndexDoc], list[str]]:
        from chat.models import Message

        wanted = parse_keys(keys, PREFIX)
        messages = Message.objects.filter(pk__in=wanted).select_related(
            "conversation", "sender__department__agency"
        )
        docs = [_doc(m) for m in messages if _searchable(m)]
        kept = {int(d.key.split(":")[1]) for d in docs}
        return docs, [key for pk, key in wanted.items() if pk not in kept]

    def rows(self) -> Any:
        from chat.models import Message, MessageKind

        return Message.objects.exclude(kind=MessageKind.SYSTEM).filter(
            recalled_at__isnull=True, purged_at__isnull=True
        )


SOURCES: list[Source] = [MessageSource()]
