"""Notifications: create (notify), read (mark_read, mark_all_read) and the urgent offline delivery.

Pushes happen only after commit (a rolled-back change tells nobody anything); see
officeapp/notify/relay.py for how a push crosses processes at both scales.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from officeapp.audit.services import record
from officeapp.notify import presence
from officeapp.notify.access import can_mark_read, unread_count_for
from officeapp.notify.models import Notification, OfflineChannel, Urgency
from officeapp.notify.push import send_to_groups
from officeapp.notify.relay import user_group
from officeapp.notify.sms import get_sms_backend

TITLE_MAX = Notification._meta.get_field("title").max_length or 200
BODY_MAX = Notification._meta.get_field("body").max_length or 500


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def end_socket_sessions(user_id: int) -> None:
    """After commit, close every open socket of the user ("sign out everywhere", disabling): the
    session check runs at connect, so sockets opened before must be told."""
    transaction.on_commit(
        partial(send_to_groups, [(user_group(user_id), {"type": "session.end"})]), robust=True
    )


def _enqueue_offline_delivery(notification_ids: list[int]) -> None:
    for notification_id in notification_ids:
        async_task("officeapp.notify.tasks.deliver_offline", notification_id, group="notify")


def notify(
    recipients: Iterable[Any],
    *,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    urgency: str = Urgency.NORMAL,
    actor: Any = None,
) -> list[Notification]:
    """Tell users something, in the caller's transaction.

    `kind` is a dotted identifier of the event ("documents.sign_off"); `url` a path inside this site
    (never another host: it becomes a link); `body` a short summary, never document text. After
    commit each row is pushed to its recipient's sockets; an urgent one is handed to the worker,
    which texts or mails the recipient when no socket of theirs is open.
    """
    if urgency not in Urgency.values:
        raise ValueError(f"unknown urgency {urgency!r}")
    if url and (not url.startswith("/") or url.startswith("//")):
        raise ValueError("notification url must be a path on this site")
    if not kind:
        raise ValueError("notification kind is required")
    title = _shorten(title, TITLE_MAX)
    if not title:
        raise ValueError("notification title is required")
    body = _shorten(body, BODY_MAX)
    unique: dict[int, Any] = {}
    for user in recipients:
        if user is not None and user.is_active:
            unique.setdefault(user.pk, user)
    if not unique:
        return []
    now = timezone.now()
    # Every refusal is raised above, so nothing below is expected to fail and be caught: inside a
    # caller's transaction (a flow step) no savepoint of its own, and on its own one transaction.
    with transaction.atomic(savepoint=False):
        rows = Notification.objects.bulk_create(
            [
                Notification(
                    recipient_id=pk,
                    kind=kind,
                    title=title,
                    body=body,
                    url=url,
                    urgency=urgency,
                    created_at=now,
                )
                for pk in unique
            ]
        )
        record(
            "notify.send",
            actor=actor,
            obj=rows[0],
            details={"kind": kind, "urgency": urgency, "recipients": len(rows)},
        )
        frames = [(user_group(row.recipient_id), row.as_frame()) for row in rows]
        transaction.on_commit(partial(send_to_groups, frames), robust=True)
        if urgency == Urgency.URGENT:
            transaction.on_commit(partial(_enqueue_offline_delivery, [row.pk for row in rows]), robust=True)
    return rows


def _push_read_state(user: Any, ids: list[int] | str) -> None:
    send_to_groups(
        [(user_group(user.pk), {"type": "notifications.read", "ids": ids, "unread": unread_count_for(user)})]
    )


def mark_read(notification: Notification, *, actor: Any) -> Notification:
    """Mark one of the actor's own notifications read; other tabs of the actor update their bell."""
    with transaction.atomic():
        if not can_mark_read(actor, notification):
            raise PermissionDenied("只能标记自己的通知。")
        now = timezone.now()
        changed = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        if changed:
            notification.read_at = now
            record("notify.mark_read", actor=actor, obj=notification)
            transaction.on_commit(partial(_push_read_state, actor, [notification.pk]), robust=True)
        elif notification.read_at is None:
            notification.refresh_from_db(fields=["read_at"])
    return notification


def mark_all_read(*, actor: Any) -> int:
    """Mark every unread notification of the actor read; returns how many changed."""
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("请先登录。")
    with transaction.atomic():
        changed = Notification.objects.filter(recipient_id=actor.pk, read_at__isnull=True).update(
            read_at=timezone.now()
        )
        if changed:
            record(
                "notify.mark_all_read",
                actor=actor,
                object_type="notify.notification",
                details={"count": changed},
            )
            transaction.on_commit(partial(_push_read_state, actor, "all"), robust=True)
    return changed


def _offline_text(notification: Notification) -> str:
    return f"【协同办公】{notification.title}"


def deliver_offline(notification_id: int) -> str:
    """Text (or, without a mobile number, mail) an urgent notification to a recipient who has no
    open socket. Idempotent: the row's offline_sent_at marks it done, under a row lock, so a retried
    or duplicated task sends nothing twice. Returns the channel used."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .select_related("recipient")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None:
            return ""
        if notification.offline_sent_at is not None:
            return notification.offline_channel
        user = notification.recipient
        if notification.read_at is not None or presence.is_online(user.pk):
            channel = OfflineChannel.SOCKET
        elif user.mobile:
            # Sent while holding the row lock: a concurrent duplicate waits and then finds the marker.
            # A crash between the gateway call and the commit can repeat one message on retry.
            get_sms_backend().send(user.mobile, _offline_text(notification))
            channel = OfflineChannel.SMS
        elif user.email:
            text = _offline_text(notification)
            if notification.url:
                text += f"\n\n请登录协同办公平台查看：{notification.url}"
            send_mail(
                subject=f"【紧急】{notification.title}",
                message=text,
                from_email=None,
                recipient_list=[user.email],
            )
            channel = OfflineChannel.EMAIL
        else:
            channel = OfflineChannel.NONE
        notification.offline_channel = channel
        notification.offline_sent_at = timezone.now()
        notification.save(update_fields=["offline_channel", "offline_sent_at"])
        record("notify.offline_delivery", actor=None, obj=notification, details={"channel": channel})
    return channel
