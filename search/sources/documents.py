"""Search sources for 发文, 收文 and exchange: official documents ("document:<pk>") and their
attachments ("attachment:<pk>", kind "attachment").

Who may see an item: `documents.access.document_principals`, the item side of `visible_documents`
(an attachment carries its document's principals, as the blobs referrer serves its file to exactly
those who may open the document). Anything that changes those principals — a task owner or reader
added (documents.participants.changed), a state change (documents.document.state_changed), 分发,
撤回, 签收 (documents.exchange.*) — refreshes the document *and all its attachments*.

Attachment text comes from `search.extract` (ExtractedText, keyed by the file's sha256). build()
extracts a file not yet read, bounded in size and time; build() runs in the worker (the outbox
consumer) or in `manage.py search_reindex`, never in a web request.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from documents.access import document_principals
from documents.bodytext import text_from_blocks
from documents.models import (
    Attachment,
    DocNumber,
    DocumentCategory,
    ExchangeRecord,
    OfficialDocument,
)
from officeapp.outbox.models import OutboxEvent
from search.interface import MAX_BODY_CHARS, MAX_TITLE_CHARS, IndexDoc
from search.sources import RowSource, Source

DOCUMENT = "document"
ATTACHMENT = "attachment"

# Events on the document itself (created, changed, state_changed, participants.changed, archived,
# number.assigned, sealed, exchange.sent, incoming.created, workflows.incoming.reply_started …).
_DOCUMENT_TYPE = "documents.officialdocument"
# Events on another object whose payload names the document.
_PAYLOAD_TYPES = frozenset(
    {
        "documents.exchangerecord",  # 签收, 退文, 撤回, 催办, 办结
        "documents.incomingrecord",  # 收文号, 办结
        "workflows.circulation",  # 传阅 started / read (readers become participants)
        "workflows.outgoingprocess",  # process started
        "workflows.incomingprocess",
    }
)
_TASK_TYPE = "viewflow.task"  # workflows.task.completed / transferred
_NUMBER_TYPE = "documents.docnumber"  # 文号 voided


def _key(prefix: str, pk: Any) -> str:
    return f"{prefix}:{pk}"


def _ids(keys: Iterable[str]) -> list[int]:
    ids: list[int] = []
    for key in keys:
        try:
            ids.append(int(key.split(":", 1)[1]))
        except (IndexError, ValueError):
            continue
    return ids


def document_ids_for(event: OutboxEvent) -> list[int]:
    """The documents whose index entries `event` may have changed (at most one query)."""
    object_type = event.object_type
    if not object_type.startswith(("documents.", "workflows.", "viewflow.")):
        return []
    payload = event.payload if isinstance(event.payload, dict) else {}
    if object_type == _DOCUMENT_TYPE:
        ids = [event.object_id]
        if payload.get("reply"):  # 拟写答复: the reply draft is a document of its own
            ids.append(payload["reply"])
    elif object_type in _PAYLOAD_TYPES:
        if payload.get("document"):
            ids = [payload["document"]]
        elif object_type == "documents.exchangerecord":
            ids = list(
                ExchangeRecord.objects.filter(pk=event.object_id).values_list("document_id", flat=True)
            )
        else:
            return []
    elif object_type == _TASK_TYPE:
        from viewflow.workflow.models import Task

        row = (
            Task.objects.filter(pk=event.object_id)
            .values_list("process__outgoingprocess__document_id", "process__incomingprocess__document_id")
            .first()
        )
        ids = [i for i in row or () if i is not None]
    elif object_type == _NUMBER_TYPE:
        ids = list(
            DocNumber.objects.filter(pk=event.object_id, document__isnull=False).values_list(
                "document_id", flat=True
            )
        )
    else:
        return []
    result: list[int] = []
    for value in ids:
        try:
            result.append(int(value))
        except (TypeError, ValueError):
            continue
    return result


def _text_only(event: OutboxEvent) -> bool:
    """A new version of 正文 changes the document's body and nothing its attachments show."""
    payload = event.payload if isinstance(event.payload, dict) else {}
    return event.topic == "documents.document.changed" and set(payload) == {"version"}


def _date_of(document: OfficialDocument) -> datetime:
    # In local time: the engines take the year facet from the datetime as given, and a document
    # made at 00:30 on 1 January (Beijing) belongs to the new year, not to the old one in UTC.
    if document.issued_on is not None:
        return timezone.make_aware(datetime.combine(document.issued_on, time.min))
    return timezone.localtime(document.created_at)


def _agency_name(document: OfficialDocument) -> str:
    return document.agency.short_name or document.agency.name


def _incoming_of(document: OfficialDocument) -> Any:
    try:
        return document.incoming if document.category == DocumentCategory.INCOMING else None
    except OfficialDocument.incoming.RelatedObjectDoesNotExist:
        return None


def _doc_number(document: OfficialDocument) -> str:
    """文号 as printed: the 发文字号, or for a 收文 the sender's (来文字号)."""
    incoming = _incoming_of(document)
    return document.doc_number or (incoming.source_number if incoming is not None else "")


def _subtitle(document: OfficialDocument) -> str:
    parts = [document.get_category_display(), _agency_name(document), document.get_state_display()]
    incoming = _incoming_of(document)
    if incoming is not None and incoming.source_name:
        parts.append(f"来文：{incoming.source_name}")
    return " · ".join(parts)


def _body(document: OfficialDocument) -> str:
    version = document.current_version
    text = text_from_blocks(version.body if version is not None else [])
    incoming = _incoming_of(document)
    if incoming is not None:
        # The 收文登记 a 收发员 searches by: 收文号, 来文单位, 来文字号.
        facts = [
            f"收文号：{incoming.number}" if incoming.number else "",
            f"来文单位：{incoming.source_name}" if incoming.source_name else "",
            f"来文字号：{incoming.source_number}" if incoming.source_number else "",
        ]
        text = "\n".join([text, *[f for f in facts if f]]).strip()
    return text[:MAX_BODY_CHARS]


def _common(document: OfficialDocument) -> dict[str, Any]:
    return {
        "principals": document_principals(document),
        "date": _date_of(document),
        "agency_id": document.agency_id,
        "agency_name": _agency_name(document),
        "doc_number": _doc_number(document),
        "doc_type": document.doc_type,
        "doc_type_label": document.get_doc_type_display(),
        "status": document.state,
        "status_label": document.get_state_display(),
    }


def _documents(ids: list[int]) -> QuerySet[OfficialDocument]:
    return (
        OfficialDocument.objects.filter(pk__in=ids)
        .select_related("agency", "current_version", "incoming")
        .prefetch_related("participants", "co_issuers", "exchange_records")
    )


class DocumentSource(RowSource):
    """公文: title, 文号, current 正文, agency, 文种, status, 成文日期."""

    kind = DOCUMENT
    prefix = DOCUMENT

    def refs_for(self, event: OutboxEvent) -> list[str]:
        return [_key(DOCUMENT, i) for i in document_ids_for(event)]

    def build(self, keys: list[str]) -> tuple[list[IndexDoc], list[str]]:
        found = {d.pk: d for d in _documents(_ids(keys))}
        docs: list[IndexDoc] = []
        gone: list[str] = []
        for key in keys:
            ids = _ids([key])
            document = found.get(ids[0]) if ids else None
            if document is None:
                gone.append(key)
                continue
            docs.append(
                IndexDoc(
                    key=key,
                    kind=DOCUMENT,
                    title=document.title[:MAX_TITLE_CHARS],
                    body=_body(document),
                    url=reverse("documents:detail", args=[document.pk]),
                    subtitle=_subtitle(document),
                    **_common(document),
                )
            )
        return docs, gone

    def rows(self) -> Any:
        return OfficialDocument.objects.all()


class AttachmentSource(RowSource):
    """附件 of a document: its name and extracted text, seen by whoever may open the document."""

    kind = ATTACHMENT
    prefix = ATTACHMENT

    def refs_for(self, event: OutboxEvent) -> list[str]:
        if _text_only(event):
            return []
        ids = document_ids_for(event)
        if not ids:
            return []
        # Removed ones too: their keys are then deleted (build skips them).
        pks = Attachment.objects.filter(document_id__in=ids).order_by("pk").values_list("pk", flat=True)
        return [_key(ATTACHMENT, pk) for pk in pks]

    def build(self, keys: list[str]) -> tuple[list[IndexDoc], list[str]]:
        from search.extract import ensure_extracted
        from search.models import ExtractedText

        attachments = {
            a.pk: a
            for a in Attachment.objects.filter(pk__in=_ids(keys), removed_at__isnull=True)
            .select_related("blob", "document__agency", "document__incoming")
            .prefetch_related("document__participants", "document__co_issuers", "document__exchange_records")
        }
        texts = {
            t.sha256: t.text
            for t in ExtractedText.objects.filter(sha256__in={a.blob.sha256 for a in attachments.values()})
        }
        docs: list[IndexDoc] = []
        gone: list[str] = []
        for key in keys:
            ids = _ids([key])
            attachment = attachments.get(ids[0]) if ids else None
            if attachment is None:
                gone.append(key)
                continue
            sha = attachment.blob.sha256
            if sha not in texts:
                # Worker only (see the module docstring): bounded by search.extract's limits.
                texts[sha] = ensure_extracted(attachment.blob, filename=attachment.filename).text
            document = attachment.document
            body = "\n".join(t for t in (attachment.title, texts[sha]) if t)
            docs.append(
                IndexDoc(
                    key=key,
                    kind=ATTACHMENT,
                    title=(attachment.filename or attachment.title)[:MAX_TITLE_CHARS],
                    body=body[:MAX_BODY_CHARS],
                    url=reverse("documents:attachment_preview", args=[document.pk, attachment.pk]),
                    subtitle=f"附件 · {_doc_number(document) or document.title}",
                    **_common(document),
                )
            )
        return docs, gone

    def rows(self) -> Any:
        return Attachment.objects.filter(removed_at__isnull=True)


SOURCES: list[Source] = [DocumentSource(), AttachmentSource()]
