"""Chat's place in the shell: the 消息 entry of the top navigation and the 工作台 tile listing the
conversations with unread messages (muted ones left out, as in the unread total).

The tile is one query for its count and its lines (officeapp.workbench.tiles.head_and_count): a 1:1
chat is titled with the other person's name through a subquery, not a query per line."""

from __future__ import annotations

from typing import Any

from django.db.models import F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Greatest, NullIf

from chat import access
from chat.models import Membership

TILE_KEY = "chat.unread"


def _unread_conversations(user: Any) -> Any:
    other_name = (
        Membership.objects.filter(conversation_id=OuterRef("conversation_id"))
        .exclude(user_id=user.pk)
        .order_by("pk")
        .values("user__real_name")[:1]
    )
    return (
        access.current_memberships(user)
        .filter(muted=False)
        .annotate(unread=F("conversation__last_seq") - Greatest(F("last_read_seq"), F("joined_seq")))
        .filter(unread__gt=0)
        .annotate(
            title=Coalesce(NullIf(F("conversation__name"), Value("")), Subquery(other_name)),
            when=F("conversation__last_message_at"),
        )
        .order_by("-pinned", F("conversation__last_message_at").desc(nulls_last=True), "-pk")
        .only("pk", "conversation_id", "pinned")
    )


def unread_loader(user: Any, limit: int) -> tuple[int | None, list[Any]]:
    from officeapp.workbench.tiles import TileItem, head_and_count

    if not access.may_chat(user):
        return None, []
    count, head = head_and_count(_unread_conversations(user), limit)
    return count, [
        TileItem(
            title=row.title or "会话",
            url=f"/chat/c/{row.conversation_id}/",
            when=row.when,
            meta=f"{row.unread}条未读" if row.unread < 100 else "99+条未读",
        )
        for row in head
    ]


def start_chat_action(viewer: Any, entry: Any) -> Any:
    """发消息 on a person's 通讯录 card: a POST that opens (or creates) the 1:1 chat."""
    from django.urls import reverse

    from officeapp.org.directory import PersonAction

    if entry.is_self or not access.may_chat(viewer):
        return None
    return PersonAction("发消息", reverse("chat:start", args=[entry.id]))


def register() -> None:
    """Registrations into officeapp's registries, called once from ChatConfig.ready()."""
    from chat.history import unread_total
    from officeapp.registries import nav_entries, person_actions, workbench_tiles
    from officeapp.workbench.navigation import NavEntry
    from officeapp.workbench.tiles import loaded

    # The unread total beside 消息 on every page: one indexed aggregate over the user's memberships.
    nav_entries.register("chat", NavEntry("消息", "chat:index", 10, access.may_chat, badge=unread_total))
    person_actions.register("chat.start", start_chat_action)
    # The 安全管理员 keeps how long messages are kept, next to the other security settings.
    nav_entries.register(
        "chat.retention", NavEntry("消息保存期限", "chat:retention", 90, access.can_set_retention)
    )
    workbench_tiles.register(
        TILE_KEY,
        loaded(TILE_KEY, "消息", 15, unread_loader, url="chat:index", empty_text="没有未读消息。"),
    )
