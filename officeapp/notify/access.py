"""Who sees which notification: only its recipient. Missing and foreign give the same 404."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from officeapp.access import get_or_404
from officeapp.notify.models import Notification

# The bell shows "99+" beyond this: counting further would grow with a user's backlog.
UNREAD_COUNT_CAP = 100


def visible_notifications(user: Any) -> QuerySet[Notification]:
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient_id=user.pk)


def unread_notifications(user: Any) -> QuerySet[Notification]:
    return visible_notifications(user).filter(read_at__isnull=True)


def get_notification_for(user: Any, notification_id: int | str) -> Notification:
    return get_or_404(visible_notifications(user), pk=notification_id)


def unread_count_for(user: Any) -> int:
    """One query on the partial unread index, bounded by UNREAD_COUNT_CAP."""
    return unread_notifications(user).order_by()[:UNREAD_COUNT_CAP].count()


def unread_label(count: int) -> str:
    """The bell's text for an unread count from unread_count_for: "99+" at the cap."""
    return f"{UNREAD_COUNT_CAP - 1}+" if count >= UNREAD_COUNT_CAP else str(count)


def can_mark_read(user: Any, notification: Notification) -> bool:
    return getattr(user, "is_authenticated", False) and notification.recipient_id == user.pk
