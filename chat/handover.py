"""工作交接 of chat: the groups a disabled or transferred user owns get a new owner.

Registered in officeapp.registries.handover_providers (chat.department_groups.register); called by
officeapp.org.services.disable_user and transfer_user inside their transaction, so the groups pass
on together with the rest of the person's open work, or not at all.

Who becomes the owner of each group: the named successor when they are a current member of it,
else its oldest admin, else its oldest member (by joining time). A group in which the leaving user
is alone has nobody to pass it to and is not counted. 1:1 chats have no owner; 部门群 have no owner
(their membership follows the org).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from chat.models import Conversation, ConversationKind, MemberRole, Membership
from officeapp.org.models import User


class GroupOwnershipHandover:
    name = "chat.group_owner"
    label = "群聊（群主）"

    def _owned(self, user: User) -> QuerySet[Membership]:
        return Membership.objects.filter(
            user=user,
            role=MemberRole.OWNER,
            left_at__isnull=True,
            conversation__kind=ConversationKind.GROUP,
            conversation__dissolved_at__isnull=True,
            conversation__member_count__gt=1,
        )

    def open_items(self, user: User) -> int:
        return self._owned(user).count()

    def hand_over(self, from_user: User, to_user: User, *, actor: Any) -> int:
        from chat import services

        moved = 0
        conversation_ids = list(
            self._owned(from_user).order_by("conversation_id").values_list("conversation_id", flat=True)
        )
        for conversation in Conversation.objects.filter(pk__in=conversation_ids).order_by("pk"):
            new_owner = next_owner(conversation, from_user=from_user, successor=to_user)
            if new_owner is None:
                continue
            services.transfer_ownership(conversation, new_owner, actor=from_user)
            moved += 1
        return moved


def next_owner(conversation: Conversation, *, from_user: User, successor: User | None) -> User | None:
    """The successor if a current member, else the oldest admin, else the oldest member."""
    others = (
        Membership.objects.filter(conversation=conversation, left_at__isnull=True, user__is_active=True)
        .exclude(user=from_user)
        .select_related("user")
    )
    if successor is not None:
        named = others.filter(user=successor).first()
        if named is not None:
            return named.user
    for candidates in (others.filter(role=MemberRole.ADMIN), others):
        first = candidates.order_by("joined_at", "pk").first()
        if first is not None:
            return first.user
    return None
