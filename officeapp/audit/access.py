"""Who may read the audit log: the 审计管理员 only (三员分立), and nobody may change it."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from officeapp.access import is_audit_admin
from officeapp.audit.models import AuditEvent


def can_read_audit(user: Any) -> bool:
    return is_audit_admin(user)


def visible_events(user: Any) -> QuerySet[AuditEvent]:
    """The audit events `user` may read: all of them for the 审计管理员, none for anyone else."""
    if can_read_audit(user):
        return AuditEvent.objects.all()
    return AuditEvent.objects.none()
