"""The documents source: what a 公文 and its 附件 look like in the index, and which outbox events
reach which keys (a new document, a new version, 分发 and 撤回, a new task owner, an attachment)."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from reportlab.pdfgen import canvas

from documents.access import document_principals, search_principals_of
from documents.attachments import add_attachment, remove_attachment
from documents.exchange import distribute, receive, withdraw
from documents.models import Attachment, DocumentCategory, DocumentState, ExchangeRecord, OfficialDocument
from documents.services import set_state
from documents.versions import save_version
from officeapp.outbox.models import OutboxEvent
from search.interface import IndexDoc
from search.models import ExtractedText, ExtractionStatus
from search.sources.documents import SOURCES, AttachmentSource, DocumentSource
from tests.documents.exchange_factories import make_sealed
from tests.documents.factories import make_document

documents_source = DocumentSource()
attachments_source = AttachmentSource()


def _marker() -> int:
    return OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _keys_since(marker: int) -> list[str]:
    keys: dict[str, None] = {}
    for event in OutboxEvent.objects.filter(id__gt=marker).order_by("id"):
        for source in SOURCES:
            keys.update(dict.fromkeys(source.refs_for(event)))
    return list(keys)


def _built(key: str) -> IndexDoc:
    source = documents_source if key.startswith("document:") else attachments_source
    docs, gone = source.build([key])
    assert gone == [], f"{key} was not built"
    return docs[0]


def _sees(user: Any, item: IndexDoc) -> bool:
    return bool(set(search_principals_of(user)) & item.principals)


def _pdf(text: str) -> bytes:
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, text)
    page.showPage()
    page.save()
    return out.getvalue()


def test_a_sent_document_is_indexed_with_title_number_body_and_status(cast: Any) -> None:
    document = make_sealed(cast, number="粤府办〔2026〕12号")
    OfficialDocument.objects.filter(pk=document.pk).update(issued_on=date(2026, 5, 8))

    item = _built(f"document:{document.pk}")

    assert item.kind == "document"
    assert item.title == "关于做好2026年防汛防台风工作的通知"
    assert "严格落实以行政首长负责制为核心的防汛责任制。" in item.body
    assert "（一）落实防汛责任制" in item.body
    assert item.doc_number == "粤府办〔2026〕12号"
    assert (item.status, item.status_label) == (DocumentState.DISTRIBUTE, "分发")
    assert (item.doc_type, item.doc_type_label) == ("notice", "通知")
    assert (item.agency_id, item.agency_name) == (cast.gov_office.pk, "省府办公厅")
    assert item.date.date() == date(2026, 5, 8) and item.date.tzinfo is not None
    assert item.url == reverse("documents:detail", args=[document.pk])
    assert item.subtitle == "发文 · 省府办公厅 · 分发"
    assert item.principals == document_principals(OfficialDocument.objects.get(pk=document.pk))


def test_a_new_document_reaches_the_index_and_its_drafter_and_office_see_it(cast: Any) -> None:
    marker = _marker()

    document = make_document(cast, title="关于乡村振兴资金安排的请示")

    assert f"document:{document.pk}" in _keys_since(marker)
    item = _built(f"document:{document.pk}")
    assert _sees(cast.drafter, item) and _sees(cast.office_secretary, item)
    assert not _sees(cast.clerk, item)  # the 收发员 sees it from 分发 on
    assert not _sees(cast.other_clerk, item) and not _sees(cast.outsider, item)
    assert item.date == document.created_at  # no 成文日期 yet


def test_the_year_of_a_document_made_just_after_new_year_is_the_new_year(cast: Any) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    document = make_document(cast)
    new_year = datetime(2027, 1, 1, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai"))  # 2026-12-31 16:30 UTC
    OfficialDocument.objects.filter(pk=document.pk).update(created_at=new_year)

    assert _built(f"document:{document.pk}").year == 2027


def test_a_new_version_refreshes_the_document_and_not_its_attachments(cast: Any) -> None:
    document = make_document(cast)
    add_attachment(document, actor=cast.drafter, upload=SimpleUploadedFile("a.pdf", _pdf("annex")))
    marker = _marker()

    save_version(
        document,
        actor=cast.drafter,
        body=[{"kind": "p", "text": "修改后的正文：防汛抗旱指挥部"}],
        based_on=document.current_version.number,
    )

    assert _keys_since(marker) == [f"document:{document.pk}"]
    assert "防汛抗旱指挥部" in _built(f"document:{document.pk}").body


def test_distribution_lets_the_recipients_clerk_find_it_and_withdrawal_takes_it_away(cast: Any) -> None:
    document = make_sealed(cast, number="粤府办〔2026〕20号", cc_recipients=[])
    attachment = Attachment.objects.create(
        document=document,
        title="名单",
        filename="名单.pdf",
        blob=_stored(_pdf("list")),
        added_by=cast.drafter,
    )
    key, attachment_key = f"document:{document.pk}", f"attachment:{attachment.pk}"
    assert not _sees(cast.other_clerk, _built(key))

    marker = _marker()
    distribute(document, actor=cast.office_secretary)
    assert {key, attachment_key} <= set(_keys_since(marker))
    assert _sees(cast.other_clerk, _built(key))
    assert _sees(cast.other_clerk, _built(attachment_key))

    marker = _marker()
    withdraw(
        ExchangeRecord.objects.get(document=document, recipient=cast.finance),
        actor=cast.office_secretary,
        reason="文号有误",
    )
    assert {key, attachment_key} <= set(_keys_since(marker))
    assert not _sees(cast.other_clerk, _built(key))
    assert not _sees(cast.other_clerk, _built(attachment_key))
    assert _sees(cast.clerk, _built(key))  # the issuing agency's 收发员 keeps it


def test_signing_for_a_document_indexes_the_recipients_own_record_with_the_senders_number(
    cast: Any,
) -> None:
    document = make_sealed(cast, number="粤府办〔2026〕21号", cc_recipients=[])
    distribute(document, actor=cast.office_secretary)
    marker = _marker()

    receive(ExchangeRecord.objects.get(document=document), actor=cast.other_clerk)

    incoming = OfficialDocument.objects.get(category=DocumentCategory.INCOMING)
    keys = _keys_since(marker)
    assert f"document:{incoming.pk}" in keys and f"document:{document.pk}" in keys
    item = _built(f"document:{incoming.pk}")
    assert item.doc_number == "粤府办〔2026〕21号"
    assert item.subtitle.startswith("收文 · 省财政厅")
    assert "来文单位：广东省人民政府办公厅" in item.body
    assert _sees(cast.other_clerk, item) and not _sees(cast.clerk, item)
    # The sealed file and the sender's attachments became the 收文's attachments: indexed too.
    assert any(k.startswith("attachment:") for k in keys)


def test_a_new_task_owner_reaches_the_index_through_the_participants_event(cast: Any) -> None:
    from tests.workflows.test_outgoing_flow import agree, open_task
    from workflows import services as flows

    document = make_document(cast)
    flows.start_outgoing(document, actor=cast.drafter)
    marker = _marker()

    agree(open_task(document, "draft"), cast.drafter)  # 处室审核 goes to the department head

    topics = set(OutboxEvent.objects.filter(id__gt=marker).values_list("topic", flat=True))
    assert {"documents.participants.changed", "documents.document.state_changed"} <= topics
    assert f"document:{document.pk}" in _keys_since(marker)
    item = _built(f"document:{document.pk}")
    assert _sees(cast.dept_head, item)
    assert item.status == DocumentState.DEPT_REVIEW


def test_a_state_change_alone_reaches_the_index(cast: Any) -> None:
    document = make_document(cast)
    marker = _marker()

    set_state(document, DocumentState.TERMINATED)

    assert _keys_since(marker) == [f"document:{document.pk}"]
    assert _built(f"document:{document.pk}").status_label == "已终止"


def test_an_attachment_added_is_indexed_with_its_text_and_its_documents_principals(cast: Any) -> None:
    document = make_document(cast)
    marker = _marker()

    attachment = add_attachment(
        document,
        actor=cast.drafter,
        upload=SimpleUploadedFile("reservoirs.pdf", _pdf("Reservoir safety checklist")),
        title="水库安全检查表",
    )

    key = f"attachment:{attachment.pk}"
    assert key in _keys_since(marker)
    item = _built(key)
    assert item.kind == "attachment"
    assert item.title == "reservoirs.pdf"
    assert "水库安全检查表" in item.body and "Reservoir safety checklist" in item.body
    assert item.principals == _built(f"document:{document.pk}").principals
    assert item.url == reverse("documents:attachment_preview", args=[document.pk, attachment.pk])
    assert ExtractedText.objects.get(sha256=attachment.blob.sha256).status == ExtractionStatus.OK


def test_a_removed_attachment_and_a_missing_document_are_deleted_from_the_index(cast: Any) -> None:
    document = make_document(cast)
    attachment = add_attachment(document, actor=cast.drafter, upload=SimpleUploadedFile("a.pdf", _pdf("x")))
    marker = _marker()

    remove_attachment(attachment, actor=cast.drafter)

    key = f"attachment:{attachment.pk}"
    assert key in _keys_since(marker)
    assert attachments_source.build([key]) == ([], [key])
    assert documents_source.build(["document:999999"]) == ([], ["document:999999"])


def test_reindex_lists_every_document_and_every_live_attachment(cast: Any) -> None:
    first = make_document(cast)
    second = make_document(cast, title="第二份")
    kept = add_attachment(first, actor=cast.drafter, upload=SimpleUploadedFile("a.pdf", _pdf("a")))
    gone = add_attachment(first, actor=cast.drafter, upload=SimpleUploadedFile("b.pdf", _pdf("b")))
    remove_attachment(gone, actor=cast.drafter)

    assert list(documents_source.all_keys()) == [f"document:{first.pk}", f"document:{second.pk}"]
    assert documents_source.count() == 2
    assert list(attachments_source.all_keys()) == [f"attachment:{kept.pk}"]
    assert attachments_source.count() == 1


def test_events_of_other_apps_map_to_no_document_key(cast: Any) -> None:
    event = OutboxEvent(topic="chat.message", object_type="chat.message", object_id="1", payload={})

    assert documents_source.refs_for(event) == []
    assert attachments_source.refs_for(event) == []


def _stored(data: bytes) -> Any:
    from officeapp.blobs.services import put

    return put(io.BytesIO(data), actor=None)


def _refs(event: OutboxEvent) -> list[str]:
    return [k for source in SOURCES for k in source.refs_for(event)]


def test_a_completed_flow_task_maps_to_its_document(cast: Any) -> None:
    from tests.workflows.test_outgoing_flow import agree, open_task
    from workflows import services as flows

    document = make_document(cast)
    flows.start_outgoing(document, actor=cast.drafter)
    marker = _marker()
    agree(open_task(document, "draft"), cast.drafter)

    completed = OutboxEvent.objects.get(id__gt=marker, topic="workflows.task.completed")

    assert _refs(completed) == [f"document:{document.pk}"]


def test_circulation_makes_the_readers_find_the_document(cast: Any) -> None:
    from workflows.circulation import circulate

    document = make_document(cast)
    assert not _sees(cast.leader, _built(f"document:{document.pk}"))
    marker = _marker()

    circulate(document, actor=cast.office_secretary, readers=[cast.leader], in_order=False)

    started = OutboxEvent.objects.get(id__gt=marker, topic="workflows.circulation.started")
    assert _refs(started) == [f"document:{document.pk}"]
    assert _sees(cast.leader, _built(f"document:{document.pk}"))
