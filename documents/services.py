"""Creating and describing documents. Steps of the 发文 flow call these from workflows/services.py.

Numbering (numbering.py), versions (versions.py), rendering (rendering.py), seals (sealing.py),
exchange (exchange.py) and the archive (archiving.py) have modules of their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from documents.errors import ClassifiedRefused, DocumentError, DocumentFrozen
from documents.models import (
    UPWARD_TYPES,
    Classification,
    CoIssuer,
    Direction,
    DocType,
    Layout,
    Letterhead,
    OfficialDocument,
    Participant,
    ParticipantKind,
)
from documents.versions import save_version
from officeapp.audit.services import record
from officeapp.org.models import Agency, Department
from officeapp.outbox.services import emit

# Fields a drafter (or a reviewer holding the task) may set; the rest are set by flow steps.
DETAIL_FIELDS = (
    "doc_type",
    "title",
    "main_recipients_text",
    "urgency",
    "disclosure",
    "classification",
    "secrecy_period",
    "remark",
    "deadline",
    "letterhead",
    "copy_number",
    "minutes_attendees",
    "minutes_on_leave",
    "minutes_observers",
)


def direction_for(doc_type: str) -> str:
    if doc_type in UPWARD_TYPES:
        return Direction.UPWARD
    if doc_type == DocType.LETTER:
        return Direction.PARALLEL
    return Direction.DOWNWARD


def layout_for(doc_type: str) -> str:
    if doc_type == DocType.LETTER:
        return Layout.LETTER
    if doc_type == DocType.MINUTES:
        return Layout.MINUTES
    return Layout.STANDARD


def check_details(fields: dict[str, Any], main_recipients: Iterable[Agency] | None) -> None:
    """Refusals that follow from the rules, not from the form's field types."""
    classification = fields.get("classification", Classification.NONE)
    if classification != Classification.NONE and not settings.ALLOW_CLASSIFIED:
        label = Classification(classification).label
        raise ClassifiedRefused(
            f"本平台用于处理非涉密公文，不能起草“{label}”级公文。涉密公文请通过涉密网络和专用系统办理。"
        )
    if classification != Classification.NONE and not str(fields.get("secrecy_period", "")).strip():
        raise DocumentError("涉密公文须注明保密期限。")
    title = str(fields.get("title", "")).strip()
    if not title:
        raise DocumentError("请填写标题。")
    recipients = list(main_recipients or [])
    if fields.get("doc_type") == DocType.REQUEST and len(recipients) > 1:
        # 条例 第十五条: 请示 一文一事, 一般只写一个主送机关.
        raise DocumentError("请示应当一文一事，只能有一个主送机关。")


def default_letterhead(agency: Agency, layout: str, *, joint: bool = False) -> Letterhead | None:
    return (
        Letterhead.objects.filter(agency=agency, layout=layout, is_joint=joint, is_active=True)
        .order_by("-is_default", "pk")
        .first()
    )


def create_draft(
    *,
    actor: Any,
    department: Department,
    title: str,
    doc_type: str = DocType.NOTICE,
    body: list[dict[str, Any]] | None = None,
    main_recipients: Iterable[Agency] = (),
    cc_recipients: Iterable[Agency] = (),
    co_issuers: Iterable[Agency] = (),
    **fields: Any,
) -> OfficialDocument:
    """拟稿: a new document in the drafter's department with its first version of 正文."""
    fields = {k: v for k, v in fields.items() if k in DETAIL_FIELDS}
    fields.update(doc_type=doc_type, title=title.strip())
    main = list(main_recipients)
    check_details(fields, main)
    co = [a for a in co_issuers if a.pk != department.agency_id]
    with transaction.atomic():
        now = timezone.now()
        layout = layout_for(doc_type)
        letterhead = fields.pop("letterhead", None) or default_letterhead(
            department.agency, layout, joint=bool(co)
        )
        document = OfficialDocument.objects.create(
            agency=department.agency,
            department=department,
            drafter=actor,
            direction=direction_for(doc_type),
            layout=layout,
            letterhead=letterhead,
            printed_by=department.agency,
            created_at=now,
            updated_at=now,
            **fields,
        )
        document.main_recipients.set(main)
        document.cc_recipients.set(list(cc_recipients))
        for order, agency in enumerate(co, 1):
            CoIssuer.objects.create(document=document, agency=agency, order=order)
        Participant.objects.create(document=document, user=actor, kind=ParticipantKind.DRAFTER)
        record("documents.drafted", actor=actor, obj=document, details={"doc_type": doc_type})
        emit("documents.document.created", document)
        save_version(document, actor=actor, body=body or [], based_on=None, comment="起草")
    return document


def update_details(
    document: OfficialDocument,
    *,
    actor: Any,
    main_recipients: Iterable[Agency] | None = None,
    cc_recipients: Iterable[Agency] | None = None,
    **fields: Any,
) -> OfficialDocument:
    """Change the document's description (not its text). Refused once it is frozen."""
    fields = {k: v for k, v in fields.items() if k in DETAIL_FIELDS}
    with transaction.atomic():
        locked = OfficialDocument.objects.select_for_update().get(pk=document.pk)
        if locked.is_frozen:
            raise DocumentFrozen("公文已定稿，不能再修改文头信息。")
        merged = {f: getattr(locked, f) for f in DETAIL_FIELDS}
        merged.update(fields)
        main = list(main_recipients) if main_recipients is not None else list(locked.main_recipients.all())
        check_details(merged, main)
        changed = sorted(f for f, v in fields.items() if getattr(locked, f) != v)
        for f, v in fields.items():
            setattr(locked, f, v)
        if "doc_type" in fields:
            locked.direction = direction_for(locked.doc_type)
            locked.layout = layout_for(locked.doc_type)
        locked.updated_at = timezone.now()
        locked.save()
        if main_recipients is not None:
            locked.main_recipients.set(main)
            changed.append("main_recipients")
        if cc_recipients is not None:
            locked.cc_recipients.set(list(cc_recipients))
            changed.append("cc_recipients")
        record("documents.details_changed", actor=actor, obj=locked, details={"fields": changed})
        emit("documents.document.changed", locked)
    return locked


def set_state(document: OfficialDocument, state: str) -> None:
    """Called by the flow's services inside their transaction: the document mirrors the step."""
    OfficialDocument.objects.filter(pk=document.pk).update(state=state, updated_at=timezone.now())
    document.state = state
    # The state is a search filter and decides what the 收发员 see (分发 on): the index follows
    # (some callers — 撤回 a step, 终止 — write no outbox row of their own).
    emit("documents.document.state_changed", document, payload={"state": str(state)})


def add_participants(
    document: OfficialDocument, users: Iterable[Any], kind: str = ParticipantKind.HANDLER
) -> None:
    """Whoever holds or may claim a task of the document may open it (documents/access.py). One
    insert; people already listed are left as they are (the unique constraint skips them)."""
    unique = {u.pk: u for u in users}
    Participant.objects.bulk_create(
        [Participant(document=document, user=u, kind=kind) for u in unique.values()], ignore_conflicts=True
    )
    if unique:
        # Who may see the document changed: the search index follows (加签, new task owners …).
        emit("documents.participants.changed", document, payload={"users": sorted(unique)})


__all__ = [
    "add_participants",
    "check_details",
    "create_draft",
    "set_state",
    "update_details",
]
