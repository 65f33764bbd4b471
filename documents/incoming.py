"""收文 records: the receiving agency's own copy of a document it received (flows.md §2 steps 1–2).

A 收文 is an `OfficialDocument` of category INCOMING in the receiving agency, with an
`IncomingRecord` (来文单位, 来文字号, 份数, 收文日期, 收文号 …). It is created when a 收发员 signs for
an exchange record (`create_from_exchange`: everything prefilled from the sender's document, the
sender's files shared, not copied) or registered by hand for a paper document or one from an outside
system (`create_by_hand`: a scanned file, checked before anything is stored). The 收文号 is given
once, at 登记, gap-free per agency and year (`assign_incoming_number`).

The 收文 flow (workflows/incoming.py) drives these; its steps call them inside their transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from documents.errors import DocumentError
from documents.models import (
    Attachment,
    Classification,
    DocType,
    DocumentCategory,
    DocumentState,
    DocumentVersion,
    ExchangeRecord,
    IncomingRecord,
    IncomingSequence,
    OfficialDocument,
    Participant,
    ParticipantKind,
    Retention,
    Urgency,
)
from documents.services import direction_for, layout_for
from officeapp.access import has_role
from officeapp.audit.services import record as audit
from officeapp.blobs.checks import UploadRefused, check_upload, msg_not_allowed
from officeapp.calendar.workdays import add_working_days
from officeapp.org.models import Agency, Department, Role
from officeapp.outbox.services import emit

# 办理时限 by 紧急程度, in 工作日 after the 收文日期. 特急 and 加急 follow the usual reading of the
# 条例's "紧急公文应当按照时限要求办理": 特急 within 2 working days (handled at once, with a day for
# 批办 and one for the unit), 加急 within a working week (5); 平件 within two weeks (10), the common
# office rule for ordinary 收文 and the span the reminder scan escalates from.
DEADLINE_WORKING_DAYS: dict[str, int] = {
    Urgency.EXTRA_URGENT: 2,
    Urgency.URGENT: 5,
    Urgency.NORMAL: 10,
}

# What a scanned 收文 may be: the scan itself (PDF, images) or the document as sent (.docx).
SCAN_TYPES = frozenset({"pdf", "docx", "png", "jpeg", "gif", "webp"})
SCAN_KINDS = ("document", "image")

# Who registers a 收文 for an agency: its 收发员, 文秘 and 办公室主任 (the flow falls back to him).
REGISTRAR_ROLES = (Role.CLERK, Role.OFFICE_SECRETARY, Role.OFFICE_DIRECTOR)

_SEQUENCE_RETRIES = 5


def default_deadline(urgency: str, received_on: date) -> date:
    """办理时限 defaulted from 紧急程度: so many 工作日 after the 收文日期 (the maintained calendar;
    a year without data falls back to plain weekends)."""
    days = DEADLINE_WORKING_DAYS.get(urgency, DEADLINE_WORKING_DAYS[Urgency.NORMAL])
    return add_working_days(received_on, days).due_on


def incoming_prefix(agency: Agency) -> str:
    """ "粤财收" from the agency's 机关代字 "粤财"; "收文" for an agency without one."""
    return f"{agency.number_prefix}收" if agency.number_prefix else "收文"


def format_incoming_number(prefix: str, year: int, serial: int) -> str:
    return f"{prefix}〔{year}〕{serial}号"


def _may_register(actor: Any, agency_id: int) -> bool:
    return any(has_role(actor, role, agency=agency_id) for role in REGISTRAR_ROLES)


def _sequence(agency_id: int, year: int) -> IncomingSequence:
    """The agency's counter for the year, locked FOR UPDATE. Two first registrations of a year may
    both insert the row: the loser's insert fails inside its savepoint and it retries, by then
    finding the winner's row and waiting on its lock."""
    for _attempt in range(_SEQUENCE_RETRIES):
        try:
            with transaction.atomic():
                sequence, _ = IncomingSequence.objects.get_or_create(agency_id=agency_id, year=year)
        except IntegrityError:
            continue
        return IncomingSequence.objects.select_for_update().get(pk=sequence.pk)
    raise DocumentError("登记的人较多，请稍后重试。")


def assign_incoming_number(document: OfficialDocument, *, actor: Any) -> str:
    """收文号 at 登记: the next serial of the agency's year, once. A document that has one keeps it
    (a step re-run after a lost response does not take a second number)."""
    with transaction.atomic():
        record = IncomingRecord.objects.select_for_update().select_related("agency").get(document=document)
        if record.number:
            return record.number
        # The 收文登记簿 of a year lists what was registered that year.
        year = timezone.localdate().year
        sequence = _sequence(record.agency_id, year)
        sequence.last_serial += 1
        sequence.save(update_fields=["last_serial"])
        record.year = year
        record.serial = sequence.last_serial
        record.number = format_incoming_number(incoming_prefix(record.agency), year, sequence.last_serial)
        record.save(update_fields=["year", "serial", "number"])
        audit(
            "documents.incoming_numbered",
            actor=actor,
            obj=document,
            details={"year": year, "serial": record.serial},
        )
        emit(
            "documents.incoming.numbered", record, payload={"document": document.pk, "number": record.number}
        )
    cached = document._state.fields_cache.get("incoming")
    if cached is not None:
        cached.year, cached.serial, cached.number = record.year, record.serial, record.number
    return record.number


def _keeping_department(actor: Any, agency: Agency) -> Department:
    """The department a 收文 is kept under: the 收发员's own when it is in the receiving agency; else
    (a delegate from elsewhere, a clerk granted at agency level with no department) the agency's
    办公室, then its 文电处/秘书处, then any active department."""
    own = getattr(actor, "department", None)
    if own is not None and own.agency_id == agency.pk:
        return own
    kinds = [Department.Kind.OFFICE, Department.Kind.SECRETARIAT]
    departments = list(Department.objects.filter(agency=agency, is_active=True).order_by("pk"))
    for department in sorted(
        departments, key=lambda d: kinds.index(d.kind) if d.kind in kinds else len(kinds)
    ):
        return department
    raise DocumentError(f"{agency.name}尚未设置任何部门，无法登记收文，请联系单位管理员。")


def _new_incoming(
    *,
    actor: Any,
    agency: Agency,
    title: str,
    doc_type: str,
    urgency: str,
    issued_on: date | None,
    classification: str,
    deadline: date | None,
) -> OfficialDocument:
    now = timezone.now()
    department = _keeping_department(actor, agency)
    return OfficialDocument.objects.create(
        category=DocumentCategory.INCOMING,
        agency=agency,
        department=department,
        drafter=actor,
        doc_type=doc_type,
        direction=direction_for(doc_type),
        layout=layout_for(doc_type),
        title=title,
        urgency=urgency,
        issued_on=issued_on,
        classification=classification,
        deadline=deadline,
        state=DocumentState.REGISTER,
        created_at=now,
        updated_at=now,
    )


def create_from_exchange(record: ExchangeRecord, *, actor: Any) -> OfficialDocument:
    """The receiving agency's 收文 for an exchange record just signed for (签收), in the 签收's
    transaction. Everything the 登记 form needs is prefilled from the sender's document; the sealed
    PDF and the sender's attachments become the 收文's attachments (the same stored files)."""
    from documents.exchange import sealed_file

    with transaction.atomic():
        locked = (
            ExchangeRecord.objects.select_for_update(of=("self",))
            .select_related("document__current_version", "sender", "recipient")
            .get(pk=record.pk)
        )
        if IncomingRecord.objects.filter(exchange=locked).exists():
            raise DocumentError("该公文已签收登记，不能重复登记。")
        source = locked.document
        today = timezone.localdate()
        document = _new_incoming(
            actor=actor,
            agency=locked.recipient,
            title=source.title,
            doc_type=source.doc_type,
            urgency=source.urgency,
            issued_on=source.issued_on,
            classification=source.classification,
            deadline=default_deadline(source.urgency, today),
        )
        if source.current_version is not None:
            # The sender's text, as it was issued, for reading on the 收文's page (never edited here).
            version = DocumentVersion.objects.create(
                document=document,
                number=1,
                body=source.current_version.body,
                author=actor,
                comment="来文正文",
                step=DocumentState.REGISTER,
            )
            document.current_version = version
            document.save(update_fields=["current_version"])
        IncomingRecord.objects.create(
            document=document,
            agency=locked.recipient,
            exchange=locked,
            source_document=source,
            source_agency=locked.sender,
            source_name=locked.sender.name,
            source_number=source.doc_number,
            copies=1,
            received_on=today,
        )
        files: list[tuple[str, Any, str]] = []
        sealed = sealed_file(source)
        if sealed is not None:
            name = source.doc_number or source.title
            files.append(("正式文件（盖章）", sealed.blob, f"{name}.pdf"))
        for attachment in source.attachments.filter(removed_at__isnull=True).order_by("order", "pk"):
            files.append((attachment.title, attachment.blob, attachment.filename))
        _attach_all(document, files, actor=actor)
        Participant.objects.create(document=document, user=actor, kind=ParticipantKind.DRAFTER)
        audit(
            "documents.incoming_created",
            actor=actor,
            obj=document,
            details={"exchange": locked.pk, "source_document": source.pk},
        )
        emit(
            "documents.incoming.created",
            document,
            payload={"exchange": locked.pk, "agency": document.agency_id, "by_hand": False},
        )
    return document


def _attach_all(document: OfficialDocument, files: list[tuple[str, Any, str]], *, actor: Any) -> None:
    Attachment.objects.bulk_create(
        [
            Attachment(
                document=document,
                order=n,
                title=title[:200],
                blob=blob,
                filename=filename[:200],
                added_by=actor,
            )
            for n, (title, blob, filename) in enumerate(files, 1)
        ]
    )


def check_scanned_file(upload: Any) -> Any:
    """The blob store's upload checks, narrowed to what a scanned 收文 may be. Raises DocumentError
    with the reason; nothing is stored."""
    try:
        checked = check_upload(upload, allowed_kinds=SCAN_KINDS)
        if checked.type.key not in SCAN_TYPES:
            raise UploadRefused(msg_not_allowed(SCAN_TYPES))
    except UploadRefused as exc:
        raise DocumentError(f"扫描件未保存：{exc.message}") from exc
    return checked


def check_registration(
    *,
    title: str,
    source_name: str,
    copies: Any,
    received_on: date | None,
    urgency: str,
    doc_type: str | None = None,
) -> None:
    """The 登记 fields every 收文 needs; the first one missing is named."""
    if not (title or "").strip():
        raise DocumentError("请填写标题。")
    if not (source_name or "").strip():
        raise DocumentError("请填写来文单位。")
    try:
        copies_ok = int(copies) >= 1
    except (TypeError, ValueError):
        copies_ok = False
    if not copies_ok:
        raise DocumentError("请填写份数（至少1份）。")
    if received_on is None:
        raise DocumentError("请填写收文日期。")
    # A 收文 is registered once it has come in; a mistyped year (9999) would otherwise also break
    # the 办理时限 counted from it.
    if received_on > timezone.localdate():
        raise DocumentError("收文日期不能晚于今天。")
    if urgency not in Urgency.values:
        raise DocumentError("请选择紧急程度。")
    if doc_type is not None and doc_type not in DocType.values:
        raise DocumentError("请选择文种。")


def create_by_hand(
    *,
    actor: Any,
    title: str,
    doc_type: str,
    source_agency: Agency | None,
    source_name: str,
    source_number: str,
    urgency: str,
    issued_on: date | None,
    received_on: date | None,
    copies: int,
    deadline: date | None,
    scanned_file: Any,
    attachments: Iterable[Any] = (),
) -> OfficialDocument:
    """手工登记: a paper document or one from an outside system, with its scanned file (and more
    files as attachments). Every check runs, and every file is checked, before anything is stored."""
    agency_id = getattr(actor, "agency_id", None)
    if agency_id is None or not _may_register(actor, agency_id):
        raise DocumentError("只有本机关的收发员或办公室人员可以登记收文。")
    source_name = (source_name or "").strip() or (source_agency.name if source_agency else "")
    check_registration(
        title=title,
        source_name=source_name,
        copies=copies,
        received_on=received_on,
        urgency=urgency,
        doc_type=doc_type,
    )
    # The same rule as at 登记 (workflows/incoming.py), so a 收文 is never overdue on arrival by a slip.
    if deadline is not None and received_on is not None and deadline < received_on:
        raise DocumentError("办理时限不能早于收文日期。")
    if scanned_file is None:
        raise DocumentError("请上传来文扫描件。")
    checked = [check_scanned_file(scanned_file), *(check_scanned_file(f) for f in attachments)]
    from officeapp.blobs.services import put

    # Stored before the transaction (content-addressed; an unused blob is removed by retention).
    blobs = [(c, put(c, actor=actor)) for c in checked]
    assert received_on is not None
    with transaction.atomic():
        agency = Agency.objects.get(pk=agency_id)
        document = _new_incoming(
            actor=actor,
            agency=agency,
            title=title.strip(),
            doc_type=doc_type,
            urgency=urgency,
            issued_on=issued_on,
            classification=Classification.NONE,
            deadline=deadline or default_deadline(urgency, received_on),
        )
        IncomingRecord.objects.create(
            document=document,
            agency=agency,
            source_agency=source_agency,
            source_name=source_name[:100],
            source_number=(source_number or "").strip()[:40],
            copies=int(copies),
            received_on=received_on,
            by_hand=True,
        )
        files = [
            ("来文扫描件" if n == 0 else c.name.rsplit(".", 1)[0], blob, c.name)
            for n, (c, blob) in enumerate(blobs)
        ]
        _attach_all(document, files, actor=actor)
        Participant.objects.create(document=document, user=actor, kind=ParticipantKind.DRAFTER)
        audit(
            "documents.incoming_created",
            actor=actor,
            obj=document,
            details={"by_hand": True, "files": [b.pk for _, b in blobs]},
        )
        emit(
            "documents.incoming.created",
            document,
            payload={"agency": agency.pk, "by_hand": True},
        )
    return document


def complete_record(document: OfficialDocument, *, actor: Any, result: str) -> IncomingRecord:
    """办结: the 办理结果 and time on the 收文登记."""
    with transaction.atomic():
        record = IncomingRecord.objects.select_for_update().get(document=document)
        record.result = result
        record.completed_at = timezone.now()
        record.save(update_fields=["result", "completed_at"])
        audit("documents.incoming_completed", actor=actor, obj=document, details={"record": record.pk})
        emit("documents.incoming.completed", record, payload={"document": document.pk})
    return record


def archive_incoming(document: OfficialDocument, *, actor: Any, retention: str) -> OfficialDocument:
    """归档 of a 收文 at the end of its flow. `documents.archiving.archive` refuses anything that was
    not distributed (it was written for 发文); until it accepts a 收文 at 待归档, this does the same
    with the 收文's rule: the receiving agency's 档案员 or 文秘, at the 归档 step only."""
    from django.core.exceptions import PermissionDenied

    from documents.access import can_archive

    if retention not in Retention.values:
        raise DocumentError("请选择保管期限（永久、30年或10年）。")
    with transaction.atomic():
        locked = OfficialDocument.objects.select_for_update().get(pk=document.pk)
        if not locked.is_incoming:
            raise DocumentError("不是收文。")
        if not can_archive(actor, locked):
            raise PermissionDenied("只有本机关的档案员或文秘可以归档。")
        if locked.state == DocumentState.ARCHIVED:
            raise DocumentError("该公文已归档，不能重复归档。")
        if locked.state != DocumentState.ARCHIVE:
            raise DocumentError("收文尚未办结，不能归档。")
        now = timezone.now()
        locked.retention = retention
        locked.state = DocumentState.ARCHIVED
        locked.archived_at = now
        locked.updated_at = now
        locked.save(update_fields=["retention", "state", "archived_at", "updated_at"])
        audit("documents.archived", actor=actor, obj=locked, details={"retention": retention})
        emit("documents.document.archived", locked, payload={"retention": retention})
    for name in ("retention", "state", "archived_at", "updated_at"):
        setattr(document, name, getattr(locked, name))
    return locked


__all__ = [
    "DEADLINE_WORKING_DAYS",
    "archive_incoming",
    "assign_incoming_number",
    "check_registration",
    "check_scanned_file",
    "complete_record",
    "create_by_hand",
    "create_from_exchange",
    "default_deadline",
    "format_incoming_number",
    "incoming_prefix",
]
