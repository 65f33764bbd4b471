"""{% unread_notification_count %}: the bell's number (one query on the partial unread index)."""

from __future__ import annotations

from typing import Any

from django import template

from officeapp.notify.access import unread_count_for, unread_label

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notification_count(context: template.Context) -> str:
    request = context.get("request")
    user: Any = getattr(request, "user", None) or context.get("user")
    count = unread_count_for(user) if user is not None else 0
    return unread_label(count) if count else ""
