"""Background work of notifications (run by the django-q2 worker)."""

from __future__ import annotations

from officeapp.notify import services


def deliver_offline(notification_id: int) -> str:
    """Idempotent: see services.deliver_offline."""
    return services.deliver_offline(notification_id)
