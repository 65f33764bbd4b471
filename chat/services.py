"""Every change to chat: conversations, members, messages, read state.

Each service is one transaction with a keyword-only actor; it re-checks chat.access (a person who
is not a current member gets the same Http404 as for a missing conversation), refuses with a
ChatError carrying a Chinese sentence, writes the audit event of a management action (never message
text), the outbox row of a new or recalled message, and pushes only after commit (chat.live).

Gap-free seq: every message is appended by _append() while the transaction holds the row lock of
its Conversation (select_for_update): it takes last_seq + 1, writes the message under the unique
(conversation, seq) constraint and moves last_seq. Two senders of one conversation queue on that
lock; senders of different conversations never wait for each other.

Idempotent sends: a send that carries a client_id first looks for the message that client already
stored (before the rate limit, so a retry is never refused for being frequent) and looks again once
it holds the lock (a retry racing its own first attempt waits for it and returns what it stored);
the unique (conversation, sender, client_id) constraint is the last word.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from chat import access, live
from chat.errors import ChatError
from chat.frames import MESSAGE_RELATED, conversation_frame, has_content, shared_message_event
from chat.models import Conversation, ConversationKind, MemberRole, Membership, Message, MessageKind
from officeapp.access import NOT_FOUND_MESSAGE
from officeapp.audit.services import record
from officeapp.blobs.checks import UploadRefused, check_upload
from officeapp.blobs.models import Blob
from officeapp.outbox.services import emit
from officeapp.ratelimit import within_rate

NAME_MAX_CHARS = Conversation._meta.get_field("name").max_length or 60
NOTICE_MAX_CHARS = 2000
CAPTION_MAX_CHARS = 500
CLIENT_ID_MAX_CHARS = Message._meta.get_field("client_id").max_length or 64
# The upload kinds a chat file may be (officeapp.blobs.checks.KINDS): office documents, PDF, OFD,
# text, images and zip archives (their size and compression ratio checked, their entries not opened).
FILE_KINDS = ("document", "image", "archive")
IMAGE_TYPES = frozenset({"png", "jpeg", "gif", "webp"})

MSG_EMPTY = "消息不能为空。"
MSG_TOO_FAST = "发送过于频繁，请稍后再试。"
MSG_DISSOLVED = "该群聊已解散，不能再进行此操作。"
MSG_NOT_MANAGER = "只有群主和管理员可以进行此操作。"
MSG_NOT_OWNER = "只有群主可以进行此操作。"
MSG_MENTION_ALL = "只有群主和管理员可以@所有人。"
MSG_DEPARTMENT_MEMBERS = "部门群的成员随组织架构自动调整，不能手动增减。"
MSG_BAD_CLIENT_ID = "消息编号无效，请刷新页面后重试。"
MSG_NOT_A_MEMBER = "该成员不在群聊中。"


def _too_long(limit: int) -> str:
    return f"消息过长：最多 {limit} 个字。"


def _group_too_big(limit: int) -> str:
    return f"群成员不能超过 {limit} 人。"


# --- looking up, under the rules of chat.access -----------------------------------------------


def _not_found() -> Http404:
    return Http404(NOT_FOUND_MESSAGE)


def _lock(conversation: Conversation | int) -> Conversation:
    """The conversation's row, locked until the end of the transaction: the one lock that orders
    every message and membership change of a conversation."""
    pk = conversation.pk if isinstance(conversation, Conversation) else int(conversation)
    return Conversation.objects.select_for_update().get(pk=pk)


def _membership(conversation: Conversation, user: Any) -> Membership:
    """The user's current membership, with the (locked) conversation joined in; else 404."""
    if not access.may_chat(user):
        raise _not_found()
    membership = Membership.objects.filter(
        conversation_id=conversation.pk, user=user, left_at__isnull=True
    ).first()
    if membership is None:
        raise _not_found()
    membership.conversation = conversation
    return membership


def _require_active(conversation: Conversation) -> None:
    if not conversation.is_active:
        raise ChatError(MSG_DISSOLVED)


def _require_manager(membership: Membership) -> None:
    _require_active(membership.conversation)
    if not access.can_manage(membership):
        raise ChatError(MSG_NOT_MANAGER)


def _require_member_changes(membership: Membership) -> None:
    _require_manager(membership)
    if membership.conversation.kind == ConversationKind.DEPARTMENT:
        raise ChatError(MSG_DEPARTMENT_MEMBERS)
    if not access.can_change_members(membership):
        raise ChatError(MSG_NOT_MANAGER)


def _require_owner(membership: Membership) -> None:
    _require_active(membership.conversation)
    if membership.conversation.kind == ConversationKind.DIRECT or not access.is_owner(membership):
        raise ChatError(MSG_NOT_OWNER)


def _name(user: Any) -> str:
    return (user.real_name or user.username) if user is not None else ""


def _names(users: Iterable[Any]) -> str:
    return "、".join(_name(u) for u in users)


def _display_name(conversation: Conversation) -> str:
    return conversation.name or ("单聊" if conversation.is_direct else "群聊")


def _usable(user: Any) -> None:
    """A person who can be added to a conversation: active, not the 审计管理员."""
    if user is None or not user.is_active or getattr(user, "disabled_at", None) is not None:
        raise ChatError(f"{_name(user)} 的账号已停用，不能加入聊天。")
    if not access.may_chat(user):
        raise ChatError(f"{_name(user)} 不能使用即时通讯。")


# --- pushes, after commit ------------------------------------------------------------------------


def _publish(conversation_id: int, frame: dict[str, Any]) -> None:
    transaction.on_commit(partial(live.publish, conversation_id, frame), robust=True)


def _publish_to_users(user_ids: Iterable[int], frame: dict[str, Any]) -> None:
    ids = sorted(set(user_ids))
    if ids:
        transaction.on_commit(partial(live.publish_to_users, ids, frame), robust=True)


def _shared_conversation_frame(
    conversation: Conversation, event: str, *, last_message: Message | None
) -> dict:
    """The part of a group's list entry that is the same for everyone (what a member just added
    sees: nothing unread, not muted, not pinned)."""
    neutral = Membership(conversation=conversation, joined_seq=0, last_read_seq=conversation.last_seq)
    frame = conversation_frame(
        conversation, neutral, last_message=last_message, display_name=_display_name(conversation)
    )
    return {"type": "chat.conversation", "conversation": frame, "event": event}


def _tell_members(
    conversation: Conversation, user_ids: Iterable[int], event: str, last: Message | None
) -> None:
    _publish_to_users(user_ids, _shared_conversation_frame(conversation, event, last_message=last))


def _current_user_ids(conversation: Conversation) -> list[int]:
    return list(
        Membership.objects.filter(conversation_id=conversation.pk, left_at__isnull=True).values_list(
            "user_id", flat=True
        )
    )


def _enqueue_thumbnail(message_id: int) -> None:
    from django_q.tasks import async_task

    async_task("chat.tasks.make_thumbnail", message_id, group="chat")


# --- the one way a message is written --------------------------------------------------------


def _append(conversation: Conversation, *, sender: Any = None, **fields: Any) -> Message:
    """Write the next message of a conversation whose row the caller has locked (_lock)."""
    seq = conversation.last_seq + 1
    now = timezone.now()
    message = Message.objects.create(
        conversation=conversation, seq=seq, sender=sender, created_at=now, **fields
    )
    conversation.last_seq = seq
    conversation.last_message_at = now
    conversation.save(update_fields=["last_seq", "last_message_at"])
    if sender is not None:
        # Your own message is never unread to you.
        Membership.objects.filter(conversation_id=conversation.pk, user=sender, last_read_seq__lt=seq).update(
            last_read_seq=seq
        )
    emit("chat.message", message, payload={"conversation": conversation.pk, "seq": seq})
    message = Message.objects.select_related(*MESSAGE_RELATED).get(pk=message.pk)
    _publish(
        conversation.pk,
        shared_message_event("chat.message", message),
    )
    return message


def _system(conversation: Conversation, body: str, event: str, **data: Any) -> Message:
    return _append(conversation, kind=MessageKind.SYSTEM, body=body, data={"event": event, **data})


def _check_rate(actor: Any) -> None:
    """At most CHAT_SEND_RATE = (count, seconds) sends per person per window."""
    count, seconds = access.send_rate()
    if not within_rate(f"chat.send.{actor.pk}", count=count, seconds=seconds):
        raise ChatError(MSG_TOO_FAST)


def _clean_client_id(client_id: str | None) -> str | None:
    if client_id is None or client_id == "":
        return None
    client_id = str(client_id)
    if len(client_id) > CLIENT_ID_MAX_CHARS or not client_id.isprintable():
        raise ChatError(MSG_BAD_CLIENT_ID)
    return client_id


def _stored(conversation: Conversation, actor: Any, client_id: str | None) -> Message | None:
    if client_id is None:
        return None
    return (
        Message.objects.select_related(*MESSAGE_RELATED)
        .filter(conversation_id=conversation.pk, sender=actor, client_id=client_id)
        .first()
    )


def _sendable(conversation: Conversation, actor: Any) -> Membership:
    membership = _membership(conversation, actor)
    if not access.can_send(membership):
        raise ChatError(MSG_DISSOLVED)
    return membership


def _create_once(
    conversation: Conversation, actor: Any, client_id: str | None, **fields: Any
) -> tuple[Message, bool]:
    """Append under the lock unless this client's message is already stored (a retry racing its first
    attempt has waited for the lock and finds it here). (message, created)."""
    stored = _stored(conversation, actor, client_id)
    if stored is not None:
        return stored, False
    try:
        with transaction.atomic():
            return _append(conversation, sender=actor, client_id=client_id, **fields), True
    except IntegrityError:
        stored = _stored(conversation, actor, client_id)
        if stored is None:
            raise
        return stored, False


# --- conversations ---------------------------------------------------------------------------------


def open_direct(other: Any, *, actor: Any) -> Conversation:
    """The 1:1 chat of actor and other: the existing one, or a new one — never two, even when both
    start it at the same moment (the unique direct_key)."""
    if not access.may_chat(actor):
        raise _not_found()
    if other is None or other.pk == actor.pk:
        raise ChatError("不能和自己发起单聊。")
    lo, hi = sorted([actor.pk, other.pk])
    key = f"{lo}:{hi}"
    existing = Conversation.objects.filter(direct_key=key).first()
    if existing is not None:
        return existing
    _usable(other)
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(
                kind=ConversationKind.DIRECT, direct_key=key, created_by=actor, member_count=2
            )
            Membership.objects.bulk_create(
                [Membership(conversation=conversation, user_id=uid) for uid in (actor.pk, other.pk)]
            )
            record(
                "chat.direct.open", actor=actor, obj=conversation, details={"members": [actor.pk, other.pk]}
            )
            for user, peer in ((actor, other), (other, actor)):
                membership = Membership(conversation=conversation, user=user)
                frame = conversation_frame(
                    conversation, membership, last_message=None, display_name=_name(peer)
                )
                _publish_to_users(
                    [user.pk], {"type": "chat.conversation", "conversation": frame, "event": "added"}
                )
            return conversation
    except IntegrityError:
        # The other person opened it at the same moment: theirs is the one.
        return Conversation.objects.get(direct_key=key)


def create_group(*, actor: Any, name: str, members: Iterable[Any]) -> Conversation:
    """A group owned by the actor with the chosen people; system message "X 创建了群聊"."""
    if not access.may_chat(actor):
        raise _not_found()
    people: dict[int, Any] = {}
    for user in members:
        if user is not None and user.pk != actor.pk:
            people.setdefault(user.pk, user)
    if not people:
        raise ChatError("请至少选择一位群成员。")
    for user in people.values():
        _usable(user)
    limit = settings.CHAT_GROUP_MAX_MEMBERS
    if len(people) + 1 > limit:
        raise ChatError(_group_too_big(limit))
    name = " ".join((name or "").split())
    if len(name) > NAME_MAX_CHARS:
        raise ChatError(f"群名称不能超过 {NAME_MAX_CHARS} 个字。")
    if not name:
        name = _names([actor, *list(people.values())[:3]])[:NAME_MAX_CHARS]
    with transaction.atomic():
        conversation = Conversation.objects.create(
            kind=ConversationKind.GROUP, name=name, created_by=actor, member_count=len(people) + 1
        )
        Membership.objects.bulk_create(
            [Membership(conversation=conversation, user=actor, role=MemberRole.OWNER)]
            + [Membership(conversation=conversation, user=user) for user in people.values()]
        )
        conversation = _lock(conversation)
        message = _system(
            conversation, f"{_name(actor)} 创建了群聊", "created", by=actor.pk, members=sorted(people)
        )
        record("chat.group.create", actor=actor, obj=conversation, details={"members": len(people) + 1})
        _tell_members(conversation, [actor.pk, *people], "added", message)
    return conversation


def rename(conversation: Conversation, *, actor: Any, name: str) -> Conversation:
    with transaction.atomic():
        conversation = _lock(conversation)
        _require_manager(_membership(conversation, actor))
        name = " ".join((name or "").split())
        if not name:
            raise ChatError("群名称不能为空。")
        if len(name) > NAME_MAX_CHARS:
            raise ChatError(f"群名称不能超过 {NAME_MAX_CHARS} 个字。")
        if name == conversation.name:
            return conversation
        conversation.name = name
        conversation.save(update_fields=["name"])
        message = _system(
            conversation, f"{_name(actor)} 将群名称修改为“{name}”", "renamed", by=actor.pk, name=name
        )
        record("chat.group.rename", actor=actor, obj=conversation, details={})
        _tell_members(conversation, _current_user_ids(conversation), "updated", message)
    return conversation


def set_notice(conversation: Conversation, *, actor: Any, notice: str) -> Conversation:
    """The 群公告; the members who have not muted the group are notified."""
    from officeapp.notify.services import notify

    notice = (notice or "").strip()
    if len(notice) > NOTICE_MAX_CHARS:
        raise ChatError(f"群公告不能超过 {NOTICE_MAX_CHARS} 个字。")
    with transaction.atomic():
        conversation = _lock(conversation)
        _require_manager(_membership(conversation, actor))
        conversation.notice = notice
        conversation.notice_updated_at = timezone.now()
        conversation.notice_updated_by = actor
        conversation.save(update_fields=["notice", "notice_updated_at", "notice_updated_by"])
        body = f"{_name(actor)} 更新了群公告" if notice else f"{_name(actor)} 清除了群公告"
        # The text rides in the system message so open pages update their 群公告 banner live.
        message = _system(conversation, body, "notice", by=actor.pk, notice=notice)
        record("chat.group.notice", actor=actor, obj=conversation, details={"cleared": not notice})
        if notice:
            recipients = (
                get_user_model()
                .objects.filter(
                    chat_memberships__conversation=conversation,
                    chat_memberships__left_at__isnull=True,
                    chat_memberships__muted=False,
                )
                .exclude(pk=actor.pk)
            )
            notify(
                recipients,
                kind="chat.notice",
                title=f"「{_display_name(conversation)}」有新的群公告",
                url=f"/chat/c/{conversation.pk}/#m{message.seq}",
                actor=actor,
            )
        _tell_members(conversation, _current_user_ids(conversation), "updated", message)
    return conversation


def _join(conversation: Conversation, users: Sequence[Any]) -> list[Membership]:
    """Make the users current members of the locked conversation, seeing history from now on."""
    joined: list[Membership] = []
    now = timezone.now()
    former = {
        m.user_id: m
        for m in Membership.objects.filter(conversation_id=conversation.pk, user__in=[u.pk for u in users])
    }
    for user in users:
        membership = former.get(user.pk) or Membership(conversation=conversation, user=user)
        membership.role = MemberRole.MEMBER
        membership.left_at = None
        membership.joined_at = now
        membership.joined_seq = conversation.last_seq
        membership.last_read_seq = conversation.last_seq
        membership.muted = False
        membership.pinned = False
        membership.save()
        joined.append(membership)
    conversation.member_count = Membership.objects.filter(
        conversation_id=conversation.pk, left_at__isnull=True
    ).count()
    conversation.save(update_fields=["member_count"])
    return joined


def _leave(conversation: Conversation, user_ids: Sequence[int]) -> None:
    Membership.objects.filter(
        conversation_id=conversation.pk, user_id__in=user_ids, left_at__isnull=True
    ).update(left_at=timezone.now(), pinned=False)
    conversation.member_count = Membership.objects.filter(
        conversation_id=conversation.pk, left_at__isnull=True
    ).count()
    conversation.save(update_fields=["member_count"])


def add_members(conversation: Conversation, users: Iterable[Any], *, actor: Any) -> list[Membership]:
    """Invite people into a group; system message "X 邀请 A、B 加入了群聊". Present members are skipped;
    people who left before come back and see the history from now on."""
    with transaction.atomic():
        conversation = _lock(conversation)
        _require_member_changes(_membership(conversation, actor))
        present = set(_current_user_ids(conversation))
        wanted: dict[int, Any] = {}
        for user in users:
            if user is not None and user.pk not in present:
                wanted.setdefault(user.pk, user)
        if not wanted:
            raise ChatError("所选人员都已在群聊中。")
        for user in wanted.values():
            _usable(user)
        limit = settings.CHAT_GROUP_MAX_MEMBERS
        if len(present) + len(wanted) > limit:
            raise ChatError(_group_too_big(limit))
        newcomers = list(wanted.values())
        joined = _join(conversation, newcomers)
        message = _system(
            conversation,
            f"{_name(actor)} 邀请 {_names(newcomers)} 加入了群聊",
            "added",
            by=actor.pk,
            users=[u.pk for u in newcomers],
            names=[_name(u) for u in newcomers],
        )
        record(
            "chat.members.add", actor=actor, obj=conversation, details={"users": [u.pk for u in newcomers]}
        )
        _tell_members(conversation, list(wanted), "added", message)
        _tell_members(conversation, present, "updated", message)
    return joined


def _other_member(conversation: Conversation, user: Any) -> Membership:
    """The current membership of the person an admin or owner acts on; a clear refusal otherwise."""
    target = Membership.objects.filter(
        conversation_id=conversation.pk, user=user, left_at__isnull=True
    ).first()
    if target is None:
        raise ChatError(MSG_NOT_A_MEMBER)
    return target


def remove_member(conversation: Conversation, user: Any, *, actor: Any) -> None:
    """A group admin removes someone; from this moment they get the same 404 as a stranger."""
    with transaction.atomic():
        conversation = _lock(conversation)
        membership = _membership(conversation, actor)
        _require_member_changes(membership)
        target = _other_member(conversation, user)
        if target.user_id == actor.pk:
            raise ChatError("不能移出自己，请使用“退出群聊”。")
        if target.role == MemberRole.OWNER:
            raise ChatError("不能移出群主。")
        if target.role == MemberRole.ADMIN and membership.role != MemberRole.OWNER:
            raise ChatError("只有群主可以移出管理员。")
        _leave(conversation, [user.pk])
        message = _system(
            conversation,
            f"{_name(actor)} 将 {_name(user)} 移出了群聊",
            "removed",
            by=actor.pk,
            users=[user.pk],
            names=[_name(user)],
        )
        record("chat.members.remove", actor=actor, obj=conversation, details={"users": [user.pk]})
        _tell_members(conversation, [user.pk], "removed", None)
        _tell_members(conversation, _current_user_ids(conversation), "updated", message)


def leave(conversation: Conversation, *, actor: Any) -> None:
    """Leave a group. The owner hands the group to someone first, unless nobody else is left."""
    with transaction.atomic():
        conversation = _lock(conversation)
        membership = _membership(conversation, actor)
        if conversation.kind == ConversationKind.DIRECT:
            raise ChatError("单聊不能退出。")
        if conversation.kind == ConversationKind.DEPARTMENT and conversation.is_active:
            raise ChatError("部门群的成员随组织架构自动调整，不能自行退出。")
        others = [uid for uid in _current_user_ids(conversation) if uid != actor.pk]
        if membership.role == MemberRole.OWNER and others and conversation.is_active:
            raise ChatError("群主退出前请先将群主转让给其他成员。")
        _leave(conversation, [actor.pk])
        message = None
        if conversation.is_active:
            message = _system(
                conversation, f"{_name(actor)} 退出了群聊", "left", users=[actor.pk], names=[_name(actor)]
            )
        record("chat.members.leave", actor=actor, obj=conversation, details={})
        _tell_members(conversation, [actor.pk], "removed", None)
        _tell_members(conversation, others, "updated", message)


def transfer_ownership(conversation: Conversation, to_user: Any, *, actor: Any) -> Membership:
    with transaction.atomic():
        conversation = _lock(conversation)
        membership = _membership(conversation, actor)
        _require_owner(membership)
        target = _other_member(conversation, to_user)
        if target.pk == membership.pk:
            raise ChatError("您已经是群主。")
        _usable(to_user)
        membership.role = MemberRole.MEMBER
        membership.save(update_fields=["role"])
        target.role = MemberRole.OWNER
        target.save(update_fields=["role"])
        message = _system(
            conversation,
            f"{_name(actor)} 将群主转让给 {_name(to_user)}",
            "transferred",
            by=actor.pk,
            users=[to_user.pk],
            names=[_name(to_user)],
        )
        record("chat.group.transfer", actor=actor, obj=conversation, details={"to": to_user.pk})
        _tell_members(conversation, _current_user_ids(conversation), "updated", message)
    return target


def set_admin(conversation: Conversation, user: Any, *, actor: Any, admin: bool) -> Membership:
    with transaction.atomic():
        conversation = _lock(conversation)
        _require_owner(_membership(conversation, actor))
        target = _other_member(conversation, user)
        if target.role == MemberRole.OWNER:
            raise ChatError("群主不能被设为或取消管理员。")
        role = MemberRole.ADMIN if admin else MemberRole.MEMBER
        if target.role == role:
            return target
        target.role = role
        target.save(update_fields=["role"])
        body = (
            f"{_name(actor)} 将 {_name(user)} 设为管理员"
            if admin
            else f"{_name(actor)} 取消了 {_name(user)} 的管理员身份"
        )
        message = _system(
            conversation, body, "admin", by=actor.pk, users=[user.pk], names=[_name(user)], admin=admin
        )
        record("chat.group.admin", actor=actor, obj=conversation, details={"user": user.pk, "admin": admin})
        _tell_members(conversation, _current_user_ids(conversation), "updated", message)
    return target


def dissolve(conversation: Conversation, *, actor: Any) -> Conversation:
    """The owner ends a group: the history stays readable to its members, nothing more can be sent."""
    with transaction.atomic():
        conversation = _lock(conversation)
        _require_owner(_membership(conversation, actor))
        if conversation.kind == ConversationKind.DEPARTMENT:
            raise ChatError("部门群随组织架构存在，不能解散。")
        message = _system(conversation, f"{_name(actor)} 解散了群聊", "dissolved", by=actor.pk)
        conversation.dissolved_at = timezone.now()
        conversation.save(update_fields=["dissolved_at"])
        record("chat.group.dissolve", actor=actor, obj=conversation, details={})
        _tell_members(conversation, _current_user_ids(conversation), "dissolved", message)
    return conversation


def close_department_group(conversation: Conversation) -> Conversation:
    """The org closed the department: its 部门群 becomes read-only (history kept), with a system
    message and the same live "dissolved" event as a group its owner dissolves. No access check: the
    org's own service decided (chat.department_groups calls this after the org transaction)."""
    with transaction.atomic():
        conversation = _lock(conversation)
        if conversation.dissolved_at is not None:
            return conversation
        message = _system(conversation, "该部门已撤销，部门群仅保留历史消息", "dissolved", by=None)
        conversation.dissolved_at = timezone.now()
        conversation.save(update_fields=["dissolved_at"])
        record(
            "chat.department_group.dissolve",
            obj=conversation,
            details={"department": conversation.department_id},
        )
        _tell_members(conversation, _current_user_ids(conversation), "dissolved", message)
    return conversation


def set_member_options(
    conversation: Conversation, *, actor: Any, muted: bool | None = None, pinned: bool | None = None
) -> Membership:
    """免打扰 and 置顶 of the actor's own list; a personal preference, so no audit event."""
    with transaction.atomic():
        membership = _membership(conversation, actor)
        fields = []
        if muted is not None:
            membership.muted = bool(muted)
            fields.append("muted")
        if pinned is not None:
            membership.pinned = bool(pinned)
            fields.append("pinned")
        if fields:
            membership.save(update_fields=fields)
            frame = conversation_frame(conversation, membership)
            _publish_to_users(
                [actor.pk], {"type": "chat.conversation", "conversation": frame, "event": "updated"}
            )
    return membership


# --- messages --------------------------------------------------------------------------------------


def _notify_mentions(conversation: Conversation, message: Message, *, actor: Any) -> None:
    """@ one member: they are told even if they muted the group; @所有人: every member who did not
    mute it. Never the sender, never a non-member, never the text (it may go out by SMS)."""
    from officeapp.notify.services import notify

    if not message.mentions and not message.mention_all:
        return
    members = Membership.objects.filter(conversation_id=conversation.pk, left_at__isnull=True).exclude(
        user=actor
    )
    told = Q(user_id__in=list(message.mentions))
    members = members.filter(told | Q(muted=False) if message.mention_all else told)
    recipients = get_user_model().objects.filter(pk__in=members.values("user_id"))
    where = f"在「{_display_name(conversation)}」中" if not conversation.is_direct else "在单聊中"
    notify(
        recipients,
        kind="chat.mention",
        title=f"{_name(actor)} {where}@了你",
        url=f"/chat/c/{conversation.pk}/#m{message.seq}",
        actor=actor,
    )


def send_text(
    conversation: Conversation,
    *,
    actor: Any,
    body: str,
    client_id: str | None = None,
    reply_to: Message | None = None,
    mentions: Sequence[int] = (),
    mention_all: bool = False,
) -> Message:
    """Send a text message; a retry with the same client_id returns the message already stored."""
    client_id = _clean_client_id(client_id)
    body = (body or "").strip()
    if not body:
        raise ChatError(MSG_EMPTY)
    limit = settings.CHAT_MESSAGE_MAX_CHARS
    if len(body) > limit:
        raise ChatError(_too_long(limit))
    with transaction.atomic():
        conversation = _lock(conversation)
        membership = _sendable(conversation, actor)
        stored = _stored(conversation, actor, client_id)
        if stored is not None:
            return stored
        if mention_all and not access.can_mention_all(membership):
            raise ChatError(MSG_MENTION_ALL)
        if reply_to is not None and (
            reply_to.conversation_id != conversation.pk or reply_to.seq <= membership.joined_seq
        ):
            raise ChatError("引用的消息不存在。")
        _check_rate(actor)
        mentioned: list[int] = []
        wanted = {int(uid) for uid in mentions if str(uid).isdigit()}
        if wanted:
            mentioned = sorted(
                Membership.objects.filter(
                    conversation_id=conversation.pk, left_at__isnull=True, user_id__in=wanted
                ).values_list("user_id", flat=True)
            )
        message, created = _create_once(
            conversation,
            actor,
            client_id,
            kind=MessageKind.TEXT,
            body=body,
            reply_to=reply_to,
            mentions=mentioned,
            mention_all=bool(mention_all),
        )
        if created:
            _notify_mentions(conversation, message, actor=actor)
    return message


def send_file(
    conversation: Conversation, *, actor: Any, upload: Any, client_id: str | None = None, caption: str = ""
) -> Message:
    """Send a file or an image. The upload is checked (type by its bytes, size) before anything is
    stored; then the bytes go to the blob store (before the transaction: content-addressed, a failed
    send leaves an orphan the retention job removes) and the message is written. Images get a
    thumbnail from the worker."""
    from officeapp.blobs.services import put

    client_id = _clean_client_id(client_id)
    caption = (caption or "").strip()
    if len(caption) > CAPTION_MAX_CHARS:
        raise ChatError(f"说明文字不能超过 {CAPTION_MAX_CHARS} 个字。")
    # Access, read-only state and a retry come first: nothing is stored for whoever may not send.
    _sendable(conversation, actor)
    stored = _stored(conversation, actor, client_id)
    if stored is not None:
        return stored
    if upload is None:
        raise ChatError("请选择要发送的文件。")
    try:
        checked = check_upload(upload, allowed_kinds=FILE_KINDS, max_bytes=settings.CHAT_FILE_MAX_BYTES)
    except UploadRefused as exc:
        raise ChatError(exc.message) from exc
    # Counted before the bytes are stored: a flood of uploads is refused before it fills the store.
    _check_rate(actor)
    blob = put(checked, actor=actor)
    is_image = checked.type.key in IMAGE_TYPES
    with transaction.atomic():
        conversation = _lock(conversation)
        _sendable(conversation, actor)
        message, _ = _create_once(
            conversation,
            actor,
            client_id,
            kind=MessageKind.IMAGE if is_image else MessageKind.FILE,
            body=caption,
            blob=blob,
            file_name=checked.name,
            file_size=checked.size,
        )
        if is_image and message.thumbnail_id is None and message.blob_id == blob.pk:
            transaction.on_commit(partial(_enqueue_thumbnail, message.pk), robust=True)
    return message


def forward(
    message: Message, to_conversation: Conversation, *, actor: Any, client_id: str | None = None
) -> Message:
    """Send a copy of a message the actor can see into another conversation they are in, keeping
    who wrote it first and where."""
    client_id = _clean_client_id(client_id)
    # As it is now: the caller's copy may predate a recall.
    message = Message.objects.select_related("sender").get(pk=message.pk)
    source = Membership.objects.filter(
        conversation_id=message.conversation_id, user=actor, left_at__isnull=True
    ).first()
    if source is None or message.seq <= source.joined_seq or not access.may_chat(actor):
        raise _not_found()
    if message.kind == MessageKind.SYSTEM:
        raise ChatError("系统消息不能转发。")
    if not has_content(message):
        raise ChatError("该消息已撤回或已过保存期限，不能转发。")
    origin_conversation = Conversation.objects.get(pk=message.conversation_id)
    if message.forwarded_from_id is not None or message.origin_sender_name:
        origin_sender_name, origin_name = message.origin_sender_name, message.origin_conversation_name
    else:
        origin_sender_name = _name(message.sender)
        origin_name = _display_name(origin_conversation)
    with transaction.atomic():
        locked = _lock(to_conversation)
        _sendable(locked, actor)
        stored = _stored(locked, actor, client_id)
        if stored is not None:
            return stored
        _check_rate(actor)
        message, created = _create_once(
            locked,
            actor,
            client_id,
            kind=message.kind,
            body=message.body,
            blob_id=message.blob_id,
            file_name=message.file_name,
            file_size=message.file_size,
            thumbnail_id=message.thumbnail_id,
            forwarded_from=message,
            origin_sender_name=origin_sender_name[:40],
            origin_conversation_name=origin_name[:60],
        )
        if created and message.kind == MessageKind.IMAGE and message.thumbnail_id is None:
            transaction.on_commit(partial(_enqueue_thumbnail, message.pk), robust=True)
    return message


def _empty(message: Message) -> list[str]:
    message.body = ""
    message.blob = None
    message.thumbnail = None
    message.file_name = ""
    message.file_size = None
    return ["body", "blob", "thumbnail", "file_name", "file_size"]


def recall(message: Message, *, actor: Any) -> Message:
    """撤回: the sender within two minutes, a group admin at any time. Every member sees the
    "消息已撤回" marker; the text and the file are gone from every view, download and search."""
    with transaction.atomic():
        conversation = _lock(message.conversation_id)
        membership = _membership(conversation, actor)
        message = Message.objects.select_for_update().get(pk=message.pk)
        if message.seq <= membership.joined_seq:
            raise _not_found()
        if message.is_recalled:
            raise ChatError("该消息已撤回。")
        if message.sender_id is None:
            raise ChatError("系统消息不能撤回。")
        _require_active(conversation)
        if not access.can_recall(membership, message):
            if message.sender_id != actor.pk:
                raise ChatError("只能撤回自己发送的消息。")
            raise ChatError("消息发送已超过2分钟，不能撤回。")
        by_admin = message.sender_id != actor.pk
        message.recalled_at = timezone.now()
        message.recalled_by = actor
        fields = _empty(message)
        message.save(update_fields=[*fields, "recalled_at", "recalled_by"])
        record(
            "chat.message.recall",
            actor=actor,
            obj=message,
            details={"conversation": conversation.pk, "seq": message.seq, "by_admin": by_admin},
        )
        emit("chat.message.recalled", message, payload={"conversation": conversation.pk, "seq": message.seq})
        message = Message.objects.select_related(*MESSAGE_RELATED).get(pk=message.pk)
        _publish(
            conversation.pk,
            shared_message_event("chat.recalled", message),
        )
    return message


def mark_read(conversation: Conversation, *, actor: Any, seq: int) -> Membership:
    """Move the actor's read mark forward (never back), at most to the last message."""
    with transaction.atomic():
        membership = _membership(conversation, actor)
        last_seq = Conversation.objects.filter(pk=conversation.pk).values_list("last_seq", flat=True).get()
        target = max(0, min(int(seq), last_seq))
        moved = Membership.objects.filter(pk=membership.pk, last_read_seq__lt=target).update(
            last_read_seq=target
        )
        if moved:
            membership.last_read_seq = target
            _publish(
                conversation.pk,
                {"type": "chat.read", "conversation": conversation.pk, "user": actor.pk, "seq": target},
            )
        else:
            membership.refresh_from_db(fields=["last_read_seq"])
    return membership


def sync_members(
    conversation: Conversation, *, wanted_user_ids: set[int], actor: Any = None
) -> tuple[list[int], list[int]]:
    """Make the current members exactly `wanted_user_ids` (部门群 following the org): no access check,
    the caller is the org sync. Returns (added, removed) user ids; one system message each way."""
    with transaction.atomic():
        conversation = _lock(conversation)
        present = set(_current_user_ids(conversation))
        users = {
            u.pk: u
            for u in get_user_model().objects.filter(pk__in=set(wanted_user_ids) - present, is_active=True)
            if access.may_chat(u)
        }
        added = sorted(users)
        removed = sorted(present - set(wanted_user_ids))
        if added:
            newcomers = [users[pk] for pk in added]
            _join(conversation, newcomers)
            message = _system(
                conversation,
                f"{_names(newcomers)} 加入了群聊",
                "added",
                users=added,
                names=[_name(u) for u in newcomers],
            )
            _tell_members(conversation, added, "added", message)
        if removed:
            gone = list(get_user_model().objects.filter(pk__in=removed))
            _leave(conversation, removed)
            _system(
                conversation,
                f"{_names(gone)} 离开了群聊",
                "removed",
                users=removed,
                names=[_name(u) for u in gone],
            )
            _tell_members(conversation, removed, "removed", None)
        if added or removed:
            record(
                "chat.members.sync",
                actor=actor,
                obj=conversation,
                details={"added": added, "removed": removed},
            )
    return added, removed


def purge_message(message: Message) -> None:
    """Retention: empty an old message's content and let go of its file; the row stays (no gap)."""
    with transaction.atomic():
        fields = _empty(message)
        message.purged_at = timezone.now()
        message.save(update_fields=[*fields, "purged_at"])
        # As the retention job's batches do: the search index drops what it held of this message.
        emit("chat.messages.purged", message, payload={"ids": [message.pk]})


def record_download(message: Message, *, actor: Any) -> None:
    """The audit event of a chat file download (the file view calls it): who, which message."""
    record(
        "chat.file.download",
        actor=actor,
        obj=message,
        details={"conversation": message.conversation_id, "seq": message.seq, "size": message.file_size},
    )


# --- registrations -----------------------------------------------------------------------------------


class ChatFilesReferrer:
    """Files and thumbnails of chat messages: readable by the current members who can see the message
    (chat.access: membership and joined_seq); a recalled or purged message claims nothing."""

    name = "chat.files"

    def can_read(self, user: Any, blob: Blob) -> bool:
        if not access.may_chat(user):
            return False
        for field in ("blob", "thumbnail"):
            holders = Message.objects.filter(
                **{field: blob}, recalled_at__isnull=True, purged_at__isnull=True
            ).values_list("conversation_id", "seq")[:50]
            for conversation_id, seq in holders:
                if (
                    access.current_memberships(user)
                    .filter(conversation_id=conversation_id, joined_seq__lt=seq)
                    .exists()
                ):
                    return True
        return False

    def referenced_blob_ids(self) -> Any:
        return Blob.objects.filter(
            Q(pk__in=Message.objects.filter(blob__isnull=False).values("blob_id"))
            | Q(pk__in=Message.objects.filter(thumbnail__isnull=False).values("thumbnail_id"))
        ).values_list("pk", flat=True)


def register() -> None:
    """Registrations into officeapp's registries, called once from ChatConfig.ready(). The hand-over
    of group ownership is chat/handover.py's (registered by its owner)."""
    from officeapp.blobs.referrers import register_referrer

    register_referrer(ChatFilesReferrer())
