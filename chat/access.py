"""Who may see or do what in chat. Entry points (views, socket handlers) look up only through here;
services re-check.

The rule is membership: a conversation, its messages and its files exist for its current members
and for nobody else — not an administrator, not a leader of the members' agency. A member sees the
messages after the one that was last when they joined (seq > joined_seq). Someone who left or was
removed gets the same 404 as a stranger from that moment, over HTTP and over the socket.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from chat.models import Conversation, ConversationKind, MemberRole, Membership, Message
from officeapp.access import NOT_FOUND_MESSAGE, is_audit_admin, is_security_admin

# 撤回 by the sender within this window; a group admin may recall any message at any time.
RECALL_WINDOW = timedelta(minutes=2)


def may_chat(user: Any) -> bool:
    """Every signed-in, active person chats, except the 审计管理员, who reads the audit log and
    nothing else (三员分立, as for the 通讯录)."""
    return bool(getattr(user, "is_authenticated", False)) and user.is_active and not is_audit_admin(user)


def current_memberships(user: Any) -> QuerySet[Membership]:
    if not may_chat(user):
        return Membership.objects.none()
    return Membership.objects.filter(user=user, left_at__isnull=True)


def visible_conversations(user: Any) -> QuerySet[Conversation]:
    """Conversations the user is a current member of (dissolved ones included: their history stays
    readable to those who were members when it was dissolved)."""
    if not may_chat(user):
        return Conversation.objects.none()
    return Conversation.objects.filter(memberships__user=user, memberships__left_at__isnull=True)


# The largest id a database column holds (bigint): a larger number in a URL or a socket frame is
# simply not found, never an overflow deep in the database driver.
MAX_ID = 2**63 - 1


def parse_id(value: Any) -> int | None:
    """A positive database id from a URL part or a frame field, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or not 0 < value <= MAX_ID:
        return None
    return value


def get_membership_for(user: Any, conversation_id: Any) -> Membership:
    """The user's current membership of the conversation, conversation joined in; else 404."""
    parsed = parse_id(conversation_id)
    if parsed is None:
        raise Http404(NOT_FOUND_MESSAGE)
    try:
        return current_memberships(user).select_related("conversation").get(conversation_id=parsed)
    except Membership.DoesNotExist as exc:
        raise Http404(NOT_FOUND_MESSAGE) from exc


def get_conversation_for(user: Any, conversation_id: Any) -> Conversation:
    """The conversation with `.membership` (the user's own row) set; else the same 404."""
    membership = get_membership_for(user, conversation_id)
    conversation = membership.conversation
    conversation.membership = membership  # type: ignore[attr-defined]
    return conversation


def visible_messages(membership: Membership) -> QuerySet[Message]:
    """The messages of the member's conversation that the member may see."""
    return Message.objects.filter(conversation_id=membership.conversation_id, seq__gt=membership.joined_seq)


def get_message_for(user: Any, message_id: Any) -> Message:
    """A message the user may see (member of its conversation, sent after they joined); else 404.
    The message carries `.membership`."""
    try:
        message = Message.objects.select_related("conversation").get(pk=int(message_id))
    except (Message.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(NOT_FOUND_MESSAGE) from exc
    membership = current_memberships(user).filter(conversation_id=message.conversation_id).first()
    if membership is None or message.seq <= membership.joined_seq:
        raise Http404(NOT_FOUND_MESSAGE)
    message.membership = membership  # type: ignore[attr-defined]
    return message


# --- what a member may do ------------------------------------------------------------------------


def can_send(membership: Membership) -> bool:
    return membership.is_current and membership.conversation.is_active


def can_manage(membership: Membership) -> bool:
    """Rename, notice, add and remove members, @所有人: the owner and the admins of a group. A 1:1
    chat has nothing to manage; a 部门群's membership follows the org, but its admins still keep the
    name and the notice."""
    conversation = membership.conversation
    return (
        membership.is_current
        and conversation.is_active
        and conversation.kind != ConversationKind.DIRECT
        and membership.is_admin
    )


def can_change_members(membership: Membership) -> bool:
    """Adding or removing people by hand: group admins, never in a 部门群 (the org decides)."""
    return can_manage(membership) and membership.conversation.kind == ConversationKind.GROUP


def is_owner(membership: Membership) -> bool:
    return membership.is_current and membership.role == MemberRole.OWNER


def can_mention_all(membership: Membership) -> bool:
    return can_manage(membership)


def can_recall(membership: Membership, message: Message, *, now: Any = None) -> bool:
    """The sender within RECALL_WINDOW, or a group admin at any time; never a system message or one
    already recalled."""
    if not can_send(membership) or message.is_recalled or message.sender_id is None:
        return False
    if can_manage(membership):
        return True
    now = now or timezone.now()
    return message.sender_id == membership.user_id and now - message.created_at <= RECALL_WINDOW


def can_export(membership: Membership) -> bool:
    """The owner of a group exports its history; in a 1:1 chat either person may."""
    if membership.conversation.kind == ConversationKind.DIRECT:
        return membership.is_current
    return is_owner(membership)


def can_set_retention(user: Any) -> bool:
    return is_security_admin(user)


def send_rate() -> tuple[int, int]:
    """(messages, seconds) a person may send before being asked to slow down."""
    return settings.CHAT_SEND_RATE


# --- search (issue 9) -------------------------------------------------------------------------------
# An indexed message carries the one principal "conv:<conversation id>" and its seq as acl_seq; a
# member's principal has her joined_seq as floor, so she finds exactly `visible_messages`. Someone
# who left or was removed has no principal from that moment: nothing in the index changes.


def search_principals_of(user: Any) -> dict[str, int | None]:
    """{"conv:<id>": joined_seq} for the user's current memberships (nothing for whoever may not chat)."""
    rows = current_memberships(user).values_list("conversation_id", "joined_seq")
    return {f"conv:{cid}": joined_seq for cid, joined_seq in rows}
