"""正文 versions (痕迹保留): every save is a new DocumentVersion, never changed.

A save names the version it was based on; when someone saved in between, the save is refused
(StaleVersion) with the newer version attached, so the editor can show it instead of silently
overwriting a colleague's work. Restoring an older version writes it again as a new version.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from documents.errors import DocumentFrozen, StaleVersion
from documents.models import BODY_EDITABLE_STATES, DocumentVersion, OfficialDocument
from officeapp.audit.services import record
from officeapp.outbox.services import emit

HEADING_KINDS = ("h1", "h2", "h3", "h4")
BLOCK_KINDS = (*HEADING_KINDS, "p")


def normalise_body(body: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Keep only known block kinds and non-empty text; strip trailing spaces."""
    cleaned: list[dict[str, str]] = []
    for block in body or []:
        kind = str(block.get("kind", "p"))
        text = str(block.get("text", "")).strip()
        if not text:
            continue
        cleaned.append({"kind": kind if kind in BLOCK_KINDS else "p", "text": text})
    return cleaned


def _lock_document(document: OfficialDocument) -> OfficialDocument:
    return OfficialDocument.objects.select_for_update().get(pk=document.pk)


def save_version(
    document: OfficialDocument,
    *,
    actor: Any,
    body: list[dict[str, Any]],
    based_on: int | None,
    comment: str = "",
    source_blob: Any = None,
    restored_from: int | None = None,
) -> DocumentVersion:
    """Write a new version of 正文. The caller (a flow step) has checked that `actor` holds the task.

    Refused when the document is frozen (排版 on) or archived, and when `based_on` is not the
    latest version (someone saved in between): StaleVersion carries the latest for the editor.
    """
    with transaction.atomic():
        locked = _lock_document(document)
        if locked.state not in BODY_EDITABLE_STATES:
            raise DocumentFrozen("正文已定稿（排版后不能再修改），如需修改请联系办公室。")
        latest = locked.current_version
        if latest is not None and based_on != latest.number:
            raise StaleVersion(
                f"保存未成功：{latest.author.real_name or latest.author.username}已于"
                f"{timezone.localtime(latest.created_at):%m月%d日 %H:%M}保存了第{latest.number}版，"
                "请在最新版本上修改。",
                latest=latest,
            )
        number = (latest.number if latest else 0) + 1
        version = DocumentVersion.objects.create(
            document=locked,
            number=number,
            body=normalise_body(body),
            source_blob=source_blob,
            author=actor,
            comment=comment[:200],
            step=locked.state,
            restored_from=restored_from,
        )
        locked.current_version = version
        locked.updated_at = timezone.now()
        locked.save(update_fields=["current_version", "updated_at"])
        document.current_version = version
        record(
            "documents.version_saved",
            actor=actor,
            obj=locked,
            details={"version": number, "restored_from": restored_from, "step": locked.state},
        )
        emit("documents.document.changed", locked, payload={"version": number})
    return version


def restore_version(
    document: OfficialDocument, *, actor: Any, version: DocumentVersion, based_on: int | None
) -> DocumentVersion:
    """An older version written again as the newest one (history is never rewritten)."""
    if version.document_id != document.pk:
        raise ValueError("version of another document")
    return save_version(
        document,
        actor=actor,
        body=version.body,
        based_on=based_on,
        comment=f"恢复第{version.number}版",
        restored_from=version.number,
    )
