"""The documents API (/api/v1/documents/): who sees which document through which token, the list's
filters and cursor pages, downloads as the page serves them (watermark, audit), exchange status.

The data is built through the real services (create_draft, add_attachment, distribute, withdraw,
receive); only the rows that just fill a list (to count queries or fill a page) are inserted in bulk,
as 收文 of the 省财政厅."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader, PdfWriter

from documents.access import documents_for_app, visible_documents
from documents.models import (
    DocType,
    DocumentCategory,
    DocumentState,
    ExchangeRecord,
    OfficialDocument,
    Rendering,
    RenderKind,
    RenderStatus,
)
from officeapp.audit.models import AuditEvent
from tests.documents.exchange_factories import many_agencies
from tests.documents.factories import make_document

pytestmark = pytest.mark.django_db

BASE = "/api/v1/documents/"
READ = "documents.read"
EXCHANGE = "exchange.read"
BOTH = [READ, EXCHANGE]


# --- building documents --------------------------------------------------------------------------


def pdf_bytes(width: int = 595, height: int = 842) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=width, height=height)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_bytes(text: str) -> bytes:
    from docx import Document

    out = io.BytesIO()
    word = Document()
    word.add_paragraph(text)
    word.save(out)
    return out.getvalue()


def add_rendering(document: OfficialDocument, kind: str, content: bytes) -> Rendering:
    from officeapp.blobs.services import put

    return Rendering.objects.create(
        document=document,
        version=document.current_version,
        kind=kind,
        status=RenderStatus.READY,
        blob=put(io.BytesIO(content), actor=None),
        finished_at=timezone.now(),
    )


def sent_document(
    cast: Any,
    *,
    recipients: list[Any],
    number: str = "粤府办〔2026〕71号",
    title: str = "关于做好2026年防汛防台风工作的通知",
    attachment: bool = False,
    renderings: bool = True,
) -> OfficialDocument:
    """A 省府办公厅 通知 with (optionally) a PDF attachment, numbered, sealed, typeset (PDF and .docx)
    and distributed to `recipients` by its 文秘."""
    from documents.attachments import add_attachment
    from documents.exchange import distribute

    document = make_document(cast, title=title, main_recipients=recipients, cc_recipients=[])
    if attachment:
        upload = SimpleUploadedFile("责任人名单.pdf", pdf_bytes(600, 400), content_type="application/pdf")
        add_attachment(document, actor=cast.drafter, upload=upload, title="责任人名单")
    document.doc_number = number
    document.state = DocumentState.DISTRIBUTE
    document.issued_on = timezone.localdate()
    document.signer_names = "王德明"
    document.save()
    # 用印 done: the sealed PDF every recipient gets (distribute needs it); the 排版稿 and plain PDF.
    add_rendering(document, RenderKind.SEALED_PDF, pdf_bytes(500, 700) + number.encode())
    if renderings:
        add_rendering(document, RenderKind.PDF, pdf_bytes())
        add_rendering(document, RenderKind.DOCX, docx_bytes(f"排版稿 {number}"))
    distribute(document, actor=cast.office_secretary)
    document.refresh_from_db()
    return document


def finance_incoming(cast: Any, count: int, **fields: Any) -> list[OfficialDocument]:
    """`count` 收文 of the 省财政厅 (registered by its 收发员), inserted in one statement."""
    fields.setdefault("state", DocumentState.REGISTER)
    return OfficialDocument.objects.bulk_create(
        [
            OfficialDocument(
                category=DocumentCategory.INCOMING,
                agency=cast.finance,
                department=cast.finance_office,
                drafter=cast.other_clerk,
                title=f"关于报送第{i}批项目资金使用情况的函",
                **fields,
            )
            for i in range(count)
        ]
    )


@dataclass
class World:
    sent: OfficialDocument  # distributed to the 省财政厅, with an attachment and both renderings
    attachment_id: int
    draft: OfficialDocument  # the drafter's 拟稿, 省府办公厅
    finance_app: Any  # owned by the 省财政厅, the recipient
    education_app: Any  # owned by the 省教育厅, neither sender nor recipient
    office_app: Any  # owned by the 省府办公厅, the sender


@pytest.fixture
def world(cast: Any, make_app: Any) -> World:
    sent = sent_document(cast, recipients=[cast.finance], attachment=True)
    draft = make_document(cast, title="关于开展安全生产大检查的通知（草稿）")
    return World(
        sent=sent,
        attachment_id=sent.attachments.get().pk,
        draft=draft,
        finance_app=make_app(cast.finance, name="财政业务系统", scopes=BOTH),
        education_app=make_app(cast.education, name="教育管理系统", scopes=BOTH),
        office_app=make_app(cast.gov_office, name="办公厅督查系统", scopes=BOTH),
    )


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# --- who sees what, endpoint by endpoint ---------------------------------------------------------

ENDPOINTS = {
    "detail": "{d}/",
    "rendering": "{d}/rendering?format=pdf",
    "attachments": "{d}/attachments/",
    "attachment": "{d}/attachments/{a}/",
    "exchange": "{d}/exchange/",
}


def _url(world: World, endpoint: str) -> str:
    return BASE + ENDPOINTS[endpoint].format(d=world.sent.pk, a=world.attachment_id)


def _scope_of(endpoint: str) -> str:
    return EXCHANGE if endpoint == "exchange" else READ


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_a_user_token_reads_what_the_page_shows_that_user(
    endpoint: str, cast: Any, world: World, token_for: Any, api: Any
) -> None:
    # The recipient's 收发员 opens the document; the sender's 文秘 follows its 分发情况.
    user = cast.office_secretary if endpoint == "exchange" else cast.other_clerk
    token = token_for(world.finance_app, user=user, scopes=["openid", *BOTH])

    assert api("GET", _url(world, endpoint), token=token).status_code == 200


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_a_user_token_of_someone_the_page_refuses_gets_the_404_of_a_missing_document(
    endpoint: str, cast: Any, world: World, token_for: Any, api: Any
) -> None:
    token = token_for(world.finance_app, user=cast.outsider, scopes=["openid", *BOTH])

    response = api("GET", _url(world, endpoint), token=token)

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "对象不存在或无权访问。"}}


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_the_recipient_agencys_app_reads_the_distributed_document_with_its_own_token(
    endpoint: str, world: World, token_for: Any, api: Any
) -> None:
    token = token_for(world.finance_app, scopes=BOTH)

    assert api("GET", _url(world, endpoint), token=token).status_code == 200


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_another_agencys_app_gets_404(endpoint: str, world: World, token_for: Any, api: Any) -> None:
    token = token_for(world.education_app, scopes=BOTH)

    assert api("GET", _url(world, endpoint), token=token).status_code == 404
    assert world.sent.pk not in ids(api("GET", BASE, token=token))


@pytest.mark.parametrize("endpoint", [*ENDPOINTS, "list"])
def test_a_token_without_the_endpoints_scope_gets_403_naming_it(
    endpoint: str, world: World, token_for: Any, api: Any
) -> None:
    url = BASE if endpoint == "list" else _url(world, endpoint)
    needed = READ if endpoint == "list" else _scope_of(endpoint)
    other = EXCHANGE if needed == READ else READ
    token = token_for(world.finance_app, scopes=other)

    response = api("GET", url, token=token)

    assert response.status_code == 403
    label = "读取公文交换状态" if needed == EXCHANGE else "读取公文及附件"
    assert response.json()["error"]["message"] == f"访问令牌未获授权：{label}。"


@pytest.mark.parametrize("endpoint", [*ENDPOINTS, "list"])
def test_an_expired_token_gets_401(endpoint: str, world: World, token_for: Any, api: Any) -> None:
    url = BASE if endpoint == "list" else _url(world, endpoint)
    token = token_for(world.finance_app, scopes=BOTH, minutes=-1)

    response = api("GET", url, token=token)

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "访问令牌无效或已过期。"


def test_the_list_gives_each_caller_exactly_its_documents(
    cast: Any, world: World, token_for: Any, api: Any
) -> None:
    finance = ids(api("GET", BASE, token=token_for(world.finance_app, scopes=READ)))
    education = ids(api("GET", BASE, token=token_for(world.education_app, scopes=READ)))
    drafter = ids(api("GET", BASE, token=token_for(world.finance_app, user=cast.drafter, scopes=READ)))
    outsider = ids(api("GET", BASE, token=token_for(world.finance_app, user=cast.outsider, scopes=READ)))

    assert finance == [world.sent.pk]
    assert education == []
    # A user token: the page's rule, whichever app carries it (the drafter sees their own draft).
    assert drafter == [world.draft.pk, world.sent.pk]
    assert outsider == []


def test_drafts_are_never_seen_by_an_app_token_even_of_the_drafting_agency(
    world: World, token_for: Any, api: Any
) -> None:
    token = token_for(world.office_app, scopes=READ)

    assert ids(api("GET", BASE, token=token)) == [world.sent.pk]
    assert api("GET", f"{BASE}{world.draft.pk}/", token=token).status_code == 404
    assert api("GET", f"{BASE}{world.draft.pk}/rendering", token=token).status_code == 404


def test_a_withdrawn_distribution_disappears_for_the_recipients_app(
    cast: Any, world: World, token_for: Any, api: Any
) -> None:
    from documents.exchange import withdraw

    token = token_for(world.finance_app, scopes=BOTH)
    assert api("GET", f"{BASE}{world.sent.pk}/", token=token).status_code == 200

    record = ExchangeRecord.objects.get(document=world.sent, recipient=cast.finance)
    withdraw(record, actor=cast.office_secretary, reason="误发，撤回重发")

    assert world.sent.pk not in ids(api("GET", BASE, token=token))
    for endpoint in ENDPOINTS:
        assert api("GET", _url(world, endpoint), token=token).status_code == 404, endpoint


def test_an_app_token_sees_what_a_clerk_of_its_agencies_sees_on_the_pages(
    cast: Any, world: World, make_app: Any
) -> None:
    from documents.exchange import receive, withdraw

    # Beside the world's documents: one withdrawn from the 省财政厅, one sent elsewhere only, one
    # signed for (its 收文 is the 省财政厅's own record), and 收文 registered by hand.
    withdrawn = sent_document(cast, recipients=[cast.finance], number="粤府办〔2026〕72号", renderings=False)
    withdraw(withdrawn.exchange_records.get(), actor=cast.office_secretary, reason="误发")
    sent_document(cast, recipients=[cast.education], number="粤府办〔2026〕73号", renderings=False)
    signed = sent_document(cast, recipients=[cast.finance], number="粤府办〔2026〕74号", renderings=False)
    receive(signed.exchange_records.get(), actor=cast.other_clerk)
    finance_incoming(cast, 2)

    clerk_sees = set(visible_documents(cast.other_clerk).values_list("pk", flat=True))
    app_sees = set(documents_for_app(world.finance_app).values_list("pk", flat=True))

    assert app_sees == clerk_sees
    assert withdrawn.pk not in app_sees and world.sent.pk in app_sees
    assert OfficialDocument.objects.filter(pk__in=app_sees, category=DocumentCategory.INCOMING).count() == 3


def test_the_data_agencies_replace_the_owner_and_a_suspended_app_sees_nothing(
    cast: Any, world: World, make_app: Any
) -> None:
    from officeapp.integration.models import AppStatus

    reads_for_finance = make_app(cast.education, name="代办系统", scopes=BOTH, data_agencies=[cast.finance])

    assert list(documents_for_app(reads_for_finance)) == [world.sent]
    reads_for_finance.status = AppStatus.SUSPENDED
    assert not documents_for_app(reads_for_finance).exists()


# --- list: fields, filters, pages, queries ---------------------------------------------------------


def test_a_list_item_names_codes_with_labels_and_links_but_carries_no_text(
    world: World, token_for: Any, api: Any
) -> None:
    (item,) = api("GET", BASE, token=token_for(world.finance_app, scopes=READ)).json()["results"]

    assert item["title"] == world.sent.title
    assert item["doc_number"] == "粤府办〔2026〕71号"
    assert (item["doc_type"], item["doc_type_label"]) == ("notice", "通知")
    assert (item["category"], item["category_label"]) == ("outgoing", "发文")
    assert (item["state"], item["state_label"]) == ("distribute", "分发")
    assert (item["urgency"], item["urgency_label"]) == ("normal", "平件")
    assert item["agency"] == {"id": world.sent.agency_id, "name": "广东省人民政府办公厅"}
    assert item["issued_on"] == timezone.localdate().isoformat()
    assert {"created_at", "updated_at"} <= set(item)
    assert item["links"] == {
        "self": f"http://testserver{BASE}{world.sent.pk}/",
        "rendering": f"http://testserver{BASE}{world.sent.pk}/rendering",
        "attachments": f"http://testserver{BASE}{world.sent.pk}/attachments/",
    }
    assert "body_text" not in item and "防汛" not in str({k: v for k, v in item.items() if k != "title"})


def test_the_filters_narrow_the_list(cast: Any, world: World, token_for: Any, api: Any) -> None:
    old_letter, report, urgent = finance_incoming(cast, 3)
    OfficialDocument.objects.filter(pk=old_letter.pk).update(
        doc_type=DocType.LETTER,
        created_at=timezone.make_aware(datetime(2024, 5, 6, 10, 0)),
        updated_at=timezone.make_aware(datetime(2024, 5, 6, 10, 0)),
        title="关于核拨防汛经费的函",
    )
    OfficialDocument.objects.filter(pk=report.pk).update(
        doc_type=DocType.REPORT, state=DocumentState.HANDLE, issued_on=date(2025, 12, 30)
    )
    OfficialDocument.objects.filter(pk=urgent.pk).update(doc_type=DocType.REPORT)
    token = token_for(world.finance_app, scopes=READ)

    def listed(query: str) -> set[int]:
        return set(ids(api("GET", f"{BASE}?{query}", token=token)))

    assert listed("category=outgoing") == {world.sent.pk}
    assert listed("category=incoming") == {old_letter.pk, report.pk, urgent.pk}
    assert listed("doc_type=report") == {report.pk, urgent.pk}
    assert listed("state=handle") == {report.pk}
    assert listed(f"agency={cast.gov_office.pk}") == {world.sent.pk}
    assert listed("year=2025") == {report.pk}  # 成文日期's year
    assert listed("year=2024") == {old_letter.pk}  # no 成文日期: the year it was created
    assert listed("updated_since=2025-01-01T00:00:00%2B08:00") == {world.sent.pk, report.pk, urgent.pk}
    assert listed("q=防汛") == {world.sent.pk, old_letter.pk}
    assert listed("q=防汛&category=incoming&doc_type=letter") == {old_letter.pk}


@pytest.mark.parametrize(
    "query,field",
    [
        ("state=unknown", "state"),
        ("year=abc", "year"),
        ("updated_since=yesterday", "updated_since"),
        ("q=" + "长" * 51, "q"),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_field(
    query: str, field: str, world: World, token_for: Any, api: Any
) -> None:
    response = api("GET", f"{BASE}?{query}", token=token_for(world.finance_app, scopes=READ))

    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "invalid" and body["message"] == "请求内容无效。"
    assert list(body["fields"]) == [field]


def test_the_cursors_next_link_walks_every_document_once(
    cast: Any, world: World, token_for: Any, api: Any
) -> None:
    rows = finance_incoming(cast, 4)
    token = token_for(world.finance_app, scopes=READ)

    seen: list[int] = []
    url: str | None = f"{BASE}?page_size=2"
    while url:
        page = api("GET", url, token=token).json()
        assert len(page["results"]) <= 2
        seen += [row["id"] for row in page["results"]]
        url = page["next"]

    assert seen == sorted([world.sent.pk, *(r.pk for r in rows)], reverse=True)


def test_a_page_holds_at_most_200_documents(cast: Any, world: World, token_for: Any, api: Any) -> None:
    finance_incoming(cast, 201)

    page = api("GET", f"{BASE}?page_size=1000", token=token_for(world.finance_app, scopes=READ)).json()

    assert len(page["results"]) == 200
    assert page["next"]


@pytest.mark.parametrize("who", ["app", "user"])
def test_the_lists_query_count_does_not_grow_with_the_page(
    who: str, cast: Any, make_app: Any, token_for: Any, api: Any, django_assert_num_queries: Any
) -> None:
    app = make_app(cast.finance, name="财政业务系统", scopes=BOTH)
    sent_document(cast, recipients=[cast.finance], renderings=False)
    finance_incoming(cast, 2)

    def token() -> str:
        return (
            token_for(app, scopes=READ)
            if who == "app"
            else token_for(app, user=cast.other_clerk, scopes=READ)
        )

    api("GET", BASE, token=token())  # warm: content types and the like, cached per process
    first = token()
    with CaptureQueriesContext(connection) as three:
        assert len(ids(api("GET", BASE, token=first))) == 3
    finance_incoming(cast, 27)
    second = token()
    with django_assert_num_queries(len(three.captured_queries)):
        assert len(ids(api("GET", BASE, token=second))) == 30


# --- detail ------------------------------------------------------------------------------------------


def test_the_detail_has_the_attachments_the_current_version_and_its_text(
    cast: Any, world: World, token_for: Any, api: Any
) -> None:
    response = api("GET", f"{BASE}{world.sent.pk}/", token=token_for(world.finance_app, scopes=READ))

    detail = response.json()
    assert detail["department"] == {"id": cast.general_dept.pk, "name": "综合处"}
    assert detail["classification_label"] == "非密"
    assert detail["current_version"]["number"] == world.sent.current_version.number
    assert detail["current_version"]["author"] == {"id": cast.drafter.pk, "name": "林小梅"}
    assert detail["body_text"].splitlines()[1] == "一、提高思想认识"
    (attachment,) = detail["attachments"]
    assert attachment["title"] == "责任人名单"
    assert attachment["filename"] == "责任人名单.pdf"
    assert attachment["content_type"] == "application/pdf"
    assert attachment["size"] > 0
    assert (
        attachment["download"] == f"http://testserver{BASE}{world.sent.pk}/attachments/{world.attachment_id}/"
    )
    assert AuditEvent.objects.filter(action="documents.viewed", object_id=str(world.sent.pk)).count() == 1


def test_the_attachment_list_links_each_download(world: World, token_for: Any, api: Any) -> None:
    token = token_for(world.finance_app, scopes=READ)

    (attachment,) = api("GET", f"{BASE}{world.sent.pk}/attachments/", token=token).json()

    assert api("GET", attachment["download"], token=token).status_code == 200


# --- downloads ---------------------------------------------------------------------------------------


def _pdf_text(response: Any) -> str:
    return (
        PdfReader(
            io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
        )
        .pages[0]
        .extract_text()
    )


def test_an_apps_own_download_carries_the_apps_name_and_is_audited_as_on_the_page(
    world: World, token_for: Any, api: Any
) -> None:
    response = api(
        "GET", f"{BASE}{world.sent.pk}/rendering?format=pdf", token=token_for(world.finance_app, scopes=READ)
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert "应用：财政业务系统" in _pdf_text(response)
    event = AuditEvent.objects.get(action="documents.rendering.download")
    rendering = Rendering.objects.get(document=world.sent, kind=RenderKind.SEALED_PDF)
    assert (event.object_type, event.object_id) == ("documents.rendering", str(rendering.pk))
    assert event.actor is None and event.actor_label == "应用：财政业务系统"
    assert event.details["app"] == world.finance_app.pk and event.details["watermarked"] is True
    assert event.chain == f"app:{world.finance_app.pk}"


def test_a_users_download_carries_the_users_watermark_and_audits_the_user(
    cast: Any, world: World, token_for: Any, api: Any
) -> None:
    token = token_for(world.finance_app, user=cast.other_clerk, scopes=READ)

    response = api("GET", f"{BASE}{world.sent.pk}/attachments/{world.attachment_id}/", token=token)

    assert "李国华 CZT001" in _pdf_text(response)
    event = AuditEvent.objects.get(action="documents.attachment.download")
    assert event.actor == cast.other_clerk
    assert event.actor_label == "李国华（经应用：财政业务系统）"
    assert event.object_id == str(world.attachment_id)


def test_the_docx_rendering_is_the_word_file_with_the_callers_mark_in_the_header(
    world: World, token_for: Any, api: Any
) -> None:
    from docx import Document

    response = api(
        "GET", f"{BASE}{world.sent.pk}/rendering?format=docx", token=token_for(world.finance_app, scopes=READ)
    )

    assert response.status_code == 200
    word = Document(io.BytesIO(response.content))
    assert "应用：财政业务系统" in word.sections[0].header.paragraphs[-1].text
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''" + quote(
        "粤府办〔2026〕71号.docx"
    )


def test_pdf_is_the_sealed_file_else_the_plain_one_and_without_a_rendering_the_404_says_so(
    world: World, token_for: Any, api: Any
) -> None:
    token = token_for(world.finance_app, scopes=READ)

    def served() -> str:
        response = api("GET", f"{BASE}{world.sent.pk}/rendering", token=token)  # pdf by default
        assert response.status_code == 200
        return AuditEvent.objects.filter(action="documents.rendering.download").latest("id").object_id

    sealed, plain = (
        Rendering.objects.get(document=world.sent, kind=k) for k in (RenderKind.SEALED_PDF, RenderKind.PDF)
    )
    assert served() == str(sealed.pk)
    Rendering.objects.filter(pk=sealed.pk).update(status=RenderStatus.FAILED)
    assert served() == str(plain.pk)

    Rendering.objects.filter(document=world.sent, kind=RenderKind.DOCX).delete()
    missing = api("GET", f"{BASE}{world.sent.pk}/rendering?format=docx", token=token)
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {"code": "no_rendering", "message": "该公文当前版本尚未生成排版稿（.docx）。"}
    }
    bad = api("GET", f"{BASE}{world.sent.pk}/rendering?format=ofd", token=token)
    assert bad.status_code == 400 and list(bad.json()["error"]["fields"]) == ["format"]


def test_a_removed_attachment_is_not_found(cast: Any, world: World, token_for: Any, api: Any) -> None:
    from documents.models import Attachment

    Attachment.objects.filter(pk=world.attachment_id).update(removed_at=timezone.now())

    response = api(
        "GET",
        f"{BASE}{world.sent.pk}/attachments/{world.attachment_id}/",
        token=token_for(world.finance_app, scopes=READ),
    )

    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="documents.attachment.download").exists()


# --- exchange status -------------------------------------------------------------------------------


@pytest.fixture
def to_two(cast: Any, world: World) -> OfficialDocument:
    """Distributed to the 省财政厅 (which signs for it) and to a county that has not yet signed."""
    from documents.exchange import receive

    (county,) = many_agencies(1, prefix="API")
    document = sent_document(
        cast, recipients=[cast.finance, county], number="粤府办〔2026〕80号", renderings=False
    )
    receive(document.exchange_records.get(recipient=cast.finance), actor=cast.other_clerk)
    return document


def test_the_sender_sees_every_recipients_state_who_signed_and_when(
    cast: Any, world: World, to_two: OfficialDocument, token_for: Any, api: Any
) -> None:
    token = token_for(world.finance_app, user=cast.office_secretary, scopes=EXCHANGE)

    rows = api("GET", f"{BASE}{to_two.pk}/exchange/", token=token).json()["results"]

    by_recipient = {row["recipient"]["name"]: row for row in rows}
    assert len(rows) == 2
    finance = by_recipient["广东省财政厅"]
    assert (finance["state"], finance["state_label"]) == ("received", "已签收")
    assert finance["received_by"] == {"id": cast.other_clerk.pk, "name": "李国华"}
    assert finance["received_at"] is not None
    assert finance["sender"]["name"] == "广东省人民政府办公厅"
    (county,) = [row for name, row in by_recipient.items() if name != "广东省财政厅"]
    assert (county["state_label"], county["received_by"], county["return_reason"]) == ("待签收", None, "")
    assert {"returned_at", "return_note", "completed_at", "withdrawn_at", "kind_label"} <= set(county)
    # The sending agency's own app (its 收发员 follow the distribution) sees the same rows.
    sender_app = token_for(world.office_app, scopes=EXCHANGE)
    assert len(api("GET", f"{BASE}{to_two.pk}/exchange/", token=sender_app).json()["results"]) == 2


def test_a_recipients_app_sees_only_its_own_agencys_record(
    cast: Any, world: World, to_two: OfficialDocument, token_for: Any, api: Any
) -> None:
    rows = api(
        "GET", f"{BASE}{to_two.pk}/exchange/", token=token_for(world.finance_app, scopes=EXCHANGE)
    ).json()

    assert [row["recipient"]["id"] for row in rows["results"]] == [cast.finance.pk]


def test_the_recipients_clerk_is_not_shown_the_senders_tracking(
    cast: Any, world: World, to_two: OfficialDocument, token_for: Any, api: Any
) -> None:
    token = token_for(world.finance_app, user=cast.other_clerk, scopes=[READ, EXCHANGE])

    assert api("GET", f"{BASE}{to_two.pk}/", token=token).status_code == 200
    assert api("GET", f"{BASE}{to_two.pk}/exchange/", token=token).status_code == 404


def test_the_openapi_schema_describes_the_documents_endpoints(client: Any) -> None:
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]

    assert {
        "/api/v1/documents/",
        "/api/v1/documents/{document_id}/",
        "/api/v1/documents/{document_id}/rendering",
        "/api/v1/documents/{document_id}/attachments/",
        "/api/v1/documents/{document_id}/attachments/{attachment_id}/",
        "/api/v1/documents/{document_id}/exchange/",
    } <= set(paths)
    parameters = {p["name"] for p in paths["/api/v1/documents/"]["get"]["parameters"]}
    assert {
        "category",
        "doc_type",
        "state",
        "agency",
        "year",
        "updated_since",
        "q",
        "cursor",
        "page_size",
    } <= parameters
