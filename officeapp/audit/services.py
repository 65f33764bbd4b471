"""record(): the one way to write an audit event, inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from officeapp.audit.access import can_read_audit
from officeapp.audit.export import ExportedFile, write_events
from officeapp.audit.models import AuditEvent, Outcome


def _chain_for(actor: Any) -> str:
    # One chain per agency keeps writers of different agencies independent.
    agency_id = getattr(getattr(actor, "department", None), "agency_id", None)
    return f"agency:{agency_id}" if agency_id else "platform"


def record(
    action: str,
    *,
    actor: Any = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    outcome: str = Outcome.SUCCESS,
    details: dict[str, Any] | None = None,
    client_address: str | None = None,
    actor_label: str = "",
    chain: str = "",
) -> AuditEvent:
    """Write one AuditEvent. `details` holds ids and kinds only, never document or message text.
    `chain` names the hash chain when the actor's agency is not the right one (an app's calls have a
    chain of their own, so busy apps never queue behind an agency's writers)."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    user = actor if getattr(actor, "is_authenticated", False) else None
    if client_address is None:
        from officeapp.accounts.middleware import current_client_address

        client_address = current_client_address()
    return AuditEvent.objects.create(
        action=action,
        actor=user,
        actor_label=actor_label or (str(user) if user else ""),
        client_address=client_address,
        object_type=object_type,
        object_id=str(object_id),
        outcome=outcome,
        details=details or {},
        chain=chain or _chain_for(user),
    )


def record_view(
    request: HttpRequest,
    obj: models.Model,
    *,
    action: str = "file.view",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record that the signed-in user viewed or downloaded `obj` (a file, a document): views and
    downloads of files are audited like changes. Call it from the view after the access check
    passed; a download's `action` is "<app>.<thing>.download"."""
    return record(
        action,
        actor=request.user,
        obj=obj,
        details=details,
        client_address=getattr(request, "client_address", None),
    )


@transaction.atomic
def export_events(
    *, actor: Any, events: QuerySet[AuditEvent], fmt: str, filters: dict[str, str]
) -> ExportedFile:
    """Export the filtered audit events as xlsx or csv, and audit the export itself.

    `filters` is what the 审计管理员 filtered by (for the export's own audit event: who exported
    what); `events` is already narrowed by the caller's access check and filters, and the check
    is made again here: only the 审计管理员 may take the log away."""
    if not can_read_audit(actor):
        raise PermissionDenied("仅审计管理员可导出审计日志。")
    exported = write_events(events, fmt=fmt)
    record(
        "audit.export",
        actor=actor,
        object_type="audit.auditevent",
        details={"format": fmt, "rows": exported.rows, "truncated": exported.truncated, "filters": filters},
    )
    return exported
