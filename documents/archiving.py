"""归档 and the archive packages (flows.md §1 step 11).

`archive` ends a document's life: 保管期限 set, state ARCHIVED, nothing changes afterwards —
versions.save_version refuses by state, and the guards below refuse any change to attachments
and renderings of an archived document. `archive_package` is the zip an archivist takes away:
sealed PDF, 定稿 .docx, 处理单 and any other part registered in `archive_parts`, attachments,
metadata.json. `year_package` streams every archived document of an agency and year.

The 处理单 comes from workflows, which documents may not import: workflows registers a producer
in `archive_parts` from its AppConfig.ready().
"""

from __future__ import annotations

import json
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, datetime
from io import BytesIO
from typing import IO, Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.signals import pre_delete, pre_save
from django.utils import timezone

from documents.access import can_archive
from documents.errors import DocumentError, DocumentFrozen
from documents.models import (
    Attachment,
    DocumentState,
    ExchangeRecord,
    ExchangeState,
    OfficialDocument,
    Rendering,
    RenderKind,
    RenderStatus,
    Retention,
)
from officeapp.access import grants_of, has_role
from officeapp.audit.services import record
from officeapp.blobs.models import Blob
from officeapp.blobs.services import open_blob
from officeapp.org.models import Agency, Role
from officeapp.outbox.services import emit
from officeapp.registries import Registry

ArchivePart = Callable[[OfficialDocument], "tuple[str, bytes] | None"]

# "<key>" -> part(document) -> (file name, bytes) | None: extra files of every archive package.
# workflows registers the 发文处理单 (.docx) here; None means "nothing for this document".
archive_parts: Registry[ArchivePart] = Registry("archive_parts")

FROZEN_MESSAGE = "公文已归档，附件和排版文件均不能再修改。"
CHUNK = 1024 * 1024


# Who reads an agency's archive: its 档案员 and its office (文秘, 办公室主任).
ARCHIVE_READERS = frozenset({Role.ARCHIVIST, Role.OFFICE_SECRETARY, Role.OFFICE_DIRECTOR})


def reading_agencies(user: Any) -> list[int]:
    """Agencies whose archive the user may read (agency grants, or a grant in one of its departments)."""
    if not getattr(user, "is_active", False):
        return []
    ids: list[int] = []
    for grant in grants_of(user):
        if grant.role not in ARCHIVE_READERS:
            continue
        agency_id = (
            grant.agency_id if grant.agency_id is not None else getattr(grant.department, "agency_id", None)
        )
        if agency_id is not None and agency_id not in ids:
            ids.append(agency_id)
    return ids


def can_read_archive(user: Any, agency_id: int) -> bool:
    return any(has_role(user, role, agency=agency_id) for role in ARCHIVE_READERS)


# --- 归档 ---------------------------------------------------------------------------------------


def archive(document: OfficialDocument, *, actor: Any, retention: str) -> OfficialDocument:
    """归档: set 保管期限 and make the document read-only. The issuing agency's 档案员 or 文秘 only;
    refused before 分发 (the archive holds what was actually sent) and when already archived."""
    if retention not in Retention.values:
        raise DocumentError("请选择保管期限（永久、30年或10年）。")
    with transaction.atomic():
        locked = OfficialDocument.objects.select_for_update().get(pk=document.pk)
        if not can_archive(actor, locked):
            raise PermissionDenied("只有发文机关的档案员或文秘可以归档。")
        if locked.state == DocumentState.ARCHIVED:
            raise DocumentError("该公文已归档，不能重复归档。")
        distributed = (
            ExchangeRecord.objects.filter(document=locked).exclude(state=ExchangeState.WITHDRAWN).exists()
        )
        if locked.state not in (DocumentState.DISTRIBUTE, DocumentState.ARCHIVE) or not distributed:
            raise DocumentError("公文尚未分发，不能归档。请先完成分发。")
        now = timezone.now()
        locked.retention = retention
        locked.state = DocumentState.ARCHIVED
        locked.archived_at = now
        locked.updated_at = now
        locked.save(update_fields=["retention", "state", "archived_at", "updated_at"])
        record("documents.archived", actor=actor, obj=locked, details={"retention": retention})
        emit("documents.document.archived", locked, payload={"retention": retention})
    for name in ("retention", "state", "archived_at", "updated_at"):
        setattr(document, name, getattr(locked, name))
    return locked


def ensure_not_archived(document_id: int) -> None:
    """For services that change a document's files: refuse once it is archived."""
    if OfficialDocument.objects.filter(pk=document_id, state=DocumentState.ARCHIVED).exists():
        raise DocumentFrozen(FROZEN_MESSAGE)


def _refuse_change_when_archived(sender: type, instance: Attachment | Rendering, **kwargs: Any) -> None:
    # Fixtures loading raw rows (loaddata) are not changes made by a person.
    if kwargs.get("raw"):
        return
    if (
        isinstance(instance, Rendering)
        and instance.pk is not None
        and Rendering.objects.filter(pk=instance.pk, status=RenderStatus.PENDING).exists()
    ):
        # The worker finishing a PDF requested before 归档 (排版 asks for it, the worker may be
        # slower than the office): it is the version already there, in another form, not a change.
        return
    if instance.document_id is not None:
        ensure_not_archived(instance.document_id)


def connect_archive_guards() -> None:
    """Refuse saving or deleting an attachment or rendering of an archived document, whichever
    service tries. Idempotent (dispatch_uid); runs on import, and DocumentsConfig.ready() imports
    this module so the guards hold from start-up."""
    for model in (Attachment, Rendering):
        for signal in (pre_save, pre_delete):
            signal.connect(
                _refuse_change_when_archived,
                sender=model,
                dispatch_uid=f"documents.archive_guard.{signal is pre_save}.{model.__name__}",
            )


connect_archive_guards()


# --- packages -------------------------------------------------------------------------------------

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def safe_name(name: str, fallback: str = "文件") -> str:
    """A file name fit for a zip entry on any system: no path separators or reserved characters."""
    cleaned = _UNSAFE.sub("_", name).strip(" .")
    return cleaned[:120] or fallback


def _latest_ready(document: OfficialDocument, kind: str) -> Rendering | None:
    return (
        Rendering.objects.filter(document=document, kind=kind, status=RenderStatus.READY, blob__isnull=False)
        .select_related("blob", "version")
        .order_by("-created_at", "-pk")
        .first()
    )


def _stamp(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat()
    return value.isoformat()


def _person(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "name": user.real_name}


def _blob_info(blob: Blob | None) -> dict[str, Any] | None:
    if blob is None:
        return None
    return {"sha256": blob.sha256, "size": blob.size, "content_type": blob.content_type}


def metadata(document: OfficialDocument) -> dict[str, Any]:
    """Everything the archive must tell without the platform: fields, numbers, participants,
    versions, seals (with digests and signatures), exchange records, files with their digests."""
    fields: dict[str, Any] = {}
    for f in OfficialDocument._meta.concrete_fields:
        value = getattr(document, f.attname)
        if isinstance(value, datetime | date):
            value = _stamp(value)
        fields[f.attname] = value
        if f.choices:
            fields[f"{f.attname}_label"] = getattr(document, f"get_{f.name}_display")()
    signed = document.signed_version
    final = document.current_version
    return {
        "format": "officeapp.archive/1",
        "exported_at": _stamp(timezone.now()),
        "document": fields,
        "agency": {"id": document.agency_id, "name": document.agency.name},
        "department": {"id": document.department_id, "name": document.department.name},
        "drafter": _person(document.drafter),
        "main_recipients": [{"id": a.pk, "name": a.name} for a in document.main_recipients.order_by("pk")],
        "cc_recipients": [{"id": a.pk, "name": a.name} for a in document.cc_recipients.order_by("pk")],
        "co_issuers": [
            {"id": c.agency_id, "name": c.agency.name, "order": c.order}
            for c in document.co_issuers.select_related("agency")
        ],
        "numbers": [
            {
                "text": n.text,
                "serial": n.serial,
                "state": n.state,
                "reason": n.reason,
                "created_at": _stamp(n.created_at),
                "voided_at": _stamp(n.voided_at),
            }
            for n in document.numbers.order_by("pk")
        ],
        "participants": [
            {**(_person(p.user) or {}), "kind": p.kind, "since": _stamp(p.since)}
            for p in document.participants.select_related("user").order_by("since", "pk")
        ],
        "versions": [
            {
                "number": v.number,
                "author": _person(v.author),
                "created_at": _stamp(v.created_at),
                "comment": v.comment,
                "step": v.step,
                "restored_from": v.restored_from,
            }
            for v in document.versions.select_related("author").order_by("number")
        ],
        # 签发稿 and 定稿 (flows.md §1 step 11): the text the signer approved and the text issued.
        "signed_version": {"number": signed.number, "body": signed.body} if signed else None,
        "final_version": {"number": final.number, "body": final.body} if final else None,
        "attachments": [
            {"order": a.order, "title": a.title, "filename": a.filename, "file": _blob_info(a.blob)}
            for a in document.attachments.filter(removed_at__isnull=True).select_related("blob")
        ],
        "renderings": [
            {
                "kind": r.kind,
                "version": r.version.number,
                "created_at": _stamp(r.finished_at or r.created_at),
                "file": _blob_info(r.blob),
            }
            for r in document.renderings.filter(status=RenderStatus.READY).select_related("blob", "version")
        ],
        "seals": [
            {
                "agency": {"id": s.agency_id, "name": s.agency.name},
                "seal": s.seal.name,
                "algorithm": s.seal.algorithm,
                "fingerprint": s.seal.fingerprint,
                "public_key_pem": s.seal.public_key_pem,
                "digest_algorithm": s.digest_algorithm,
                "digest": s.digest,
                "signature": s.signature,
                "authorised_by": _person(s.authorised_by),
                "authorised_at": _stamp(s.authorised_at),
                "signed_at": _stamp(s.signed_at),
                "file": _blob_info(s.sealed_blob),
            }
            for s in document.seal_applications.select_related(
                "agency", "seal", "authorised_by", "sealed_blob"
            )
        ],
        "exchange_records": [
            {
                "recipient": {"id": e.recipient_id, "name": e.recipient.name},
                "kind": e.kind,
                "state": e.state,
                "sent_at": _stamp(e.sent_at),
                "sent_by": _person(e.sent_by),
                "received_at": _stamp(e.received_at),
                "received_by": _person(e.received_by),
            }
            for e in document.exchange_records.select_related("recipient", "sent_by", "received_by").order_by(
                "pk"
            )
        ],
    }


def _extension(filename: str, fallback: str) -> str:
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return f".{suffix}" if suffix.isalnum() and len(suffix) <= 5 else fallback


def _copy_blob(zf: zipfile.ZipFile, name: str, blob: Blob) -> None:
    # Streamed chunk by chunk: a large attachment never sits in memory whole.
    with zf.open(name, "w", force_zip64=blob.size > 2**31) as out:
        for chunk in open_blob(blob):
            out.write(chunk)


def _unique(name: str, used: set[str]) -> str:
    if name not in used:
        used.add(name)
        return name
    stem, dot, ext = name.rpartition(".")
    stem, ext = (stem, f".{ext}") if dot else (name, "")
    n = 2
    while f"{stem}({n}){ext}" in used:
        n += 1
    used.add(f"{stem}({n}){ext}")
    return f"{stem}({n}){ext}"


def write_package(zf: zipfile.ZipFile, document: OfficialDocument, prefix: str = "") -> None:
    """Write one document's package into `zf`, every entry under `prefix` (a folder, or "")."""
    used: set[str] = set()
    sealed = _latest_ready(document, RenderKind.SEALED_PDF)
    if sealed is not None:
        _copy_blob(zf, prefix + _unique("正式文件（盖章）.pdf", used), sealed.blob)
    final_docx = _latest_ready(document, RenderKind.DOCX)
    if final_docx is not None:
        _copy_blob(zf, prefix + _unique("定稿.docx", used), final_docx.blob)
    for _key, part in archive_parts.items():
        produced = part(document)
        if produced is None:
            continue
        filename, content = produced
        zf.writestr(prefix + _unique(safe_name(filename), used), content)
    for attachment in document.attachments.filter(removed_at__isnull=True).select_related("blob"):
        ext = _extension(attachment.filename, ".bin")
        title = safe_name(attachment.title, "附件")
        name = f"附件/附件{attachment.order} {title}{'' if title.lower().endswith(ext) else ext}"
        _copy_blob(zf, prefix + _unique(name, used), attachment.blob)
    content = json.dumps(metadata(document), ensure_ascii=False, indent=2, default=str)
    zf.writestr(prefix + "metadata.json", content.encode("utf-8"))


def package_name(document: OfficialDocument) -> str:
    """`粤府办〔2026〕1号 关于…的通知`, short enough for every file system."""
    label = f"{document.doc_number} {document.title}" if document.doc_number else document.title
    return safe_name(label, f"公文{document.pk}")[:80]


def archive_package(document: OfficialDocument) -> bytes:
    """The zip of one document (names in UTF-8: zipfile sets the flag for non-ASCII names)."""
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        write_package(zf, document)
    return buffer.getvalue()


def archived_in(agency: Agency | int, year: int) -> QuerySet[OfficialDocument]:
    """The agency's archived documents of a 归档年度: the year of 成文日期 (the year the document
    was formed), or of 归档 for a document without one."""
    agency_id = agency.pk if isinstance(agency, Agency) else agency
    return (
        OfficialDocument.objects.filter(agency_id=agency_id, state=DocumentState.ARCHIVED)
        .filter(Q(issued_on__year=year) | Q(issued_on__isnull=True, archived_at__year=year))
        .select_related("agency", "department", "drafter", "current_version", "signed_version")
        .order_by("doc_number", "pk")
    )


def _stream_and_close(handle: IO[bytes]) -> Iterator[bytes]:
    try:
        handle.seek(0)
        while chunk := handle.read(CHUNK):
            yield chunk
    finally:
        handle.close()


def year_package(agency: Agency | int, year: int) -> Iterator[bytes]:
    """A zip of every archived document of the agency and year, one folder per document.

    Built in a temporary file (deleted when closed), then streamed: memory stays at one chunk
    whatever the year holds. Built before the first byte is returned, so a storage failure is
    raised to the caller before a response starts."""
    handle = tempfile.TemporaryFile(prefix="archive-year-")  # noqa: SIM115 - closed by the stream or below
    try:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            used: set[str] = set()
            for document in archived_in(agency, year).iterator(chunk_size=100):
                folder = _unique(package_name(document), used)
                write_package(zf, document, prefix=f"{folder}/")
    except BaseException:
        handle.close()
        raise
    return _stream_and_close(handle)


__all__ = [
    "archive",
    "archive_package",
    "archive_parts",
    "archived_in",
    "connect_archive_guards",
    "ensure_not_archived",
    "metadata",
    "year_package",
]
