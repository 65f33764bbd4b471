"""The 收文 pages as people use them: the task page of each step, refusals that keep what was typed,
收文登记 by hand, the 收文登记簿 and its export, the 收文处理单, and a 收文 on the document page."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import load_workbook
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from documents.models import DocumentState, IncomingRecord, OfficialDocument
from workflows.incoming import IncomingStepInput, claim_incoming, complete_incoming_step
from workflows.models import IncomingProcess, Opinion

SCANNED_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n% scanned paper document\n%%EOF\n"


# --- helpers ------------------------------------------------------------------------------------


def signed_for(receiving: Any, **fields: Any) -> OfficialDocument:
    """省府办公厅's document, signed for by 省财政厅's 收发员: the 收文 with its 登记 task open."""
    from documents.exchange import receive

    record = receiving.sent_to_finance(**fields)
    receive(record, actor=receiving.clerk)
    return IncomingRecord.objects.get(exchange=record).document


def open_task(document: OfficialDocument, step: str) -> Task:
    return Task.objects.get(
        process__incomingprocess__document=document,
        flow_task__endswith=f".{step}",
        status__in=[STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED],
    )


def open_tasks(document: OfficialDocument, step: str) -> list[Task]:
    return list(
        Task.objects.filter(
            process__incomingprocess__document=document,
            flow_task__endswith=f".{step}",
            status__in=[STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED],
        ).order_by("pk")
    )


def advance(document: OfficialDocument, step: str, actor: Any, **values: Any) -> None:
    complete_incoming_step(open_task(document, step), actor=actor, step_input=IncomingStepInput(**values))


def to_instruct(receiving: Any, **fields: Any) -> OfficialDocument:
    """Registered, screened and proposed for 刘副厅长's 批办 (批办性, 预算处 主办 proposed)."""
    document = signed_for(receiving, **fields)
    advance(document, "register", receiving.clerk)
    advance(document, "screen", receiving.secretary)
    advance(
        document,
        "propose",
        receiving.director,
        handling_kind="action",
        leader=receiving.leader,
        lead_unit=receiving.budget,
        opinion="拟请刘副厅长阅批，预算处主办。",
    )
    return document


def to_handle(receiving: Any) -> OfficialDocument:
    """Instructed (预算处 主办, 国库处 协办) and routed: both units have a 承办 task."""
    document = to_instruct(receiving)
    advance(
        document,
        "instruct",
        receiving.leader,
        lead_unit=receiving.budget,
        co_units=[receiving.treasury],
        deadline=timezone.localdate() + timedelta(days=10),
        opinion="请预算处抓紧研究办理。",
    )
    advance(document, "assign", receiving.secretary)
    return document


def task_url(task: Task) -> str:
    return f"/workflows/incoming/tasks/{task.pk}/"


# --- the task page ------------------------------------------------------------------------------


def test_the_register_task_shows_the_facts_the_received_file_and_a_prefilled_form(
    receiving: Any, sign_in: Any
) -> None:
    document = signed_for(receiving, title="关于下达2026年省级预算的通知")
    task = open_task(document, "register")

    page = sign_in(receiving.clerk).get(task_url(task)).content.decode()

    assert "关于下达2026年省级预算的通知" in page
    assert "粤府办〔2026〕1号" in page  # 来文字号, prefilled
    assert "广东省人民政府办公厅" in page or "省府办公厅" in page
    assert "来文文件" in page and document.attachments.first().title in page
    assert 'name="received_on"' in page and "登记完毕" in page


def test_registering_without_a_title_keeps_what_was_typed_and_gives_no_number(
    receiving: Any, sign_in: Any
) -> None:
    document = signed_for(receiving)
    task = open_task(document, "register")

    response = sign_in(receiving.clerk).post(
        task_url(task),
        {
            "decision": "agree",
            "title": "",
            "doc_type": "notice",
            "source_name": "省人民政府办公厅",
            "source_number": "粤府办〔2026〕77号",
            "copies": "3",
            "urgency": "urgent",
            "received_on": timezone.localdate().isoformat(),
            "opinion": "已核对份数",
        },
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "粤府办〔2026〕77号" in page and "已核对份数" in page
    document.incoming.refresh_from_db()
    assert document.incoming.number == ""
    assert open_task(document, "register").pk == task.pk


def test_registering_assigns_the_incoming_number_and_hands_on_to_screening(
    receiving: Any, sign_in: Any
) -> None:
    document = signed_for(receiving)
    task = open_task(document, "register")

    response = sign_in(receiving.clerk).post(
        task_url(task),
        {
            "decision": "agree",
            "title": document.title,
            "doc_type": "notice",
            "source_name": "广东省人民政府办公厅",
            "source_number": "粤府办〔2026〕1号",
            "copies": "2",
            "urgency": "normal",
            "received_on": timezone.localdate().isoformat(),
        },
    )

    assert response.status_code == 302
    document.incoming.refresh_from_db()
    assert document.incoming.number and document.incoming.copies == 2
    screen = open_task(document, "screen")
    assert "初审" in sign_in(receiving.secretary).get(task_url(screen)).content.decode()


def test_sending_back_without_a_reason_is_refused_and_then_returns_the_document(
    receiving: Any, sign_in: Any
) -> None:
    document = signed_for(receiving)
    advance(document, "register", receiving.clerk)
    task = open_task(document, "screen")
    client = sign_in(receiving.secretary)

    refused = client.post(task_url(task), {"decision": "send_back", "return_note": "不属于我厅职责"})
    done = client.post(
        task_url(task),
        {"decision": "send_back", "return_reason": "not_ours", "return_note": "应由省教育厅办理"},
    )

    assert refused.status_code == 400
    assert "请选择退文理由。" in refused.content.decode()
    assert "不属于我厅职责" in refused.content.decode()
    assert done.status_code == 302
    document.refresh_from_db()
    assert document.state == DocumentState.RETURNED
    assert document.incoming.exchange.state == "returned"


def test_an_urgent_document_cannot_be_instructed_without_a_deadline_and_the_instruction_is_kept(
    receiving: Any, sign_in: Any
) -> None:
    document = to_instruct(receiving, urgency="urgent")
    task = open_task(document, "instruct")
    client = sign_in(receiving.leader)

    response = client.post(
        task_url(task),
        {"decision": "agree", "lead_unit": receiving.budget.pk, "opinion": "请预算处会同国库处研究。"},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "紧急公文必须确定办理时限。" in page
    assert "请预算处会同国库处研究。" in page
    assert open_task(document, "instruct").pk == task.pk


def test_a_refused_step_shows_the_services_message_and_changes_nothing(receiving: Any, sign_in: Any) -> None:
    document = to_instruct(receiving)
    task = open_task(document, "instruct")
    yesterday = timezone.localdate() - timedelta(days=1)

    response = sign_in(receiving.leader).post(
        task_url(task),
        {
            "decision": "agree",
            "lead_unit": receiving.budget.pk,
            "deadline": yesterday.isoformat(),
            "opinion": "请阅办。",
        },
    )

    assert response.status_code == 400
    assert "办理时限不能早于今天。" in response.content.decode()
    process = IncomingProcess.objects.get(document=document)
    assert process.deadline != yesterday
    assert not Opinion.objects.filter(document=document, step="instruct").exists()


def test_the_leaders_instruction_is_highlighted_on_the_handling_units_page(
    receiving: Any, sign_in: Any
) -> None:
    document = to_handle(receiving)
    lead_task = next(t for t in open_tasks(document, "handle") if t.data["unit"]["id"] == receiving.budget.pk)

    page = sign_in(receiving.budget_head).get(task_url(lead_task)).content.decode()

    assert "领导批示" in page and "请预算处抓紧研究办理。" in page
    assert 'class="instruction"' in page
    assert "指派承办人" in page


def test_a_unit_head_assigns_a_handler_and_the_co_units_report_is_shown_to_the_lead_unit(
    receiving: Any, sign_in: Any
) -> None:
    document = to_handle(receiving)
    tasks = {t.data["unit"]["role"]: t for t in open_tasks(document, "handle")}
    head = sign_in(receiving.budget_head)

    assigned = head.post(
        task_url(tasks["lead"]), {"action": "assign_handler", "handler": receiving.budget_staff.pk}
    )
    treasury = sign_in(receiving.treasury_head)
    treasury.post(task_url(tasks["co"]), {"action": "claim"})
    reported = treasury.post(
        task_url(tasks["co"]), {"decision": "agree", "result": "国库处已核对库款，无异议。"}
    )
    page = sign_in(receiving.budget_staff).get(task_url(open_task(document, "handle"))).content.decode()

    assert assigned.status_code == 302
    assert reported.status_code == 302
    assert "协办单位办理情况" in page and "国库处已核对库款，无异议。" in page


def test_handling_without_a_report_keeps_the_page_and_not_ours_needs_a_reason(
    receiving: Any, sign_in: Any
) -> None:
    document = to_handle(receiving)
    task = next(t for t in open_tasks(document, "handle") if t.data["unit"]["role"] == "co")
    client = sign_in(receiving.treasury_head)
    client.post(task_url(task), {"action": "claim"})

    empty = client.post(task_url(task), {"decision": "agree", "opinion": "已阅"})
    not_ours = client.post(task_url(task), {"decision": "not_ours"})

    assert empty.status_code == 400 and "请填写办理情况。" in empty.content.decode()
    assert not_ours.status_code == 400 and "请说明为何不属于本单位职责。" in not_ours.content.decode()
    assert task.pk in [t.pk for t in open_tasks(document, "handle")]


def test_someone_outside_the_receiving_agency_gets_404_and_a_viewer_gets_no_form(
    receiving: Any, sign_in: Any
) -> None:
    document = signed_for(receiving)
    task = open_task(document, "register")

    outsider = sign_in(receiving.cast.outsider).get(task_url(task))
    sender = sign_in(receiving.cast.drafter).get(task_url(task))
    viewer = sign_in(receiving.secretary).get(task_url(task))

    assert outsider.status_code == 404
    assert sender.status_code == 404
    assert viewer.status_code == 200
    assert 'id="step-form"' not in viewer.content.decode()
    assert sign_in(receiving.cast.outsider).post(task_url(task), {"decision": "agree"}).status_code == 404


def test_a_reply_draft_is_started_from_the_reply_step_and_links_both_ways(
    receiving: Any, sign_in: Any
) -> None:
    document = to_handle(receiving)
    for t in open_tasks(document, "handle"):
        head = receiving.budget_head if t.data["unit"]["role"] == "lead" else receiving.treasury_head
        claim_incoming(t, actor=head)
        complete_incoming_step(t, actor=head, step_input=IncomingStepInput(result="已研究办理。"))
    reply = open_task(document, "reply")
    client = sign_in(reply.owner)

    response = client.post(
        task_url(reply), {"action": "start_reply", "doc_type": "letter", "reply_title": "关于预算事项的复函"}
    )

    draft = OfficialDocument.objects.get(in_reply_to=document)
    assert response.status_code == 302
    assert response["Location"].startswith("/workflows/tasks/")
    assert "答复来文" in client.get(f"/documents/{draft.pk}/").content.decode()
    assert "关于预算事项的复函" in client.get(f"/documents/{document.pk}/").content.decode()


# --- 收文登记 by hand -------------------------------------------------------------------------------


def _by_hand(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "关于报送2026年度财政决算的函",
        "doc_type": "letter",
        "source_name": "中华人民共和国财政部",
        "source_number": "财库函〔2026〕8号",
        "urgency": "normal",
        "received_on": timezone.localdate().isoformat(),
        "copies": "1",
        "scanned_file": SimpleUploadedFile("扫描件.pdf", SCANNED_PDF, content_type="application/pdf"),
    }
    data.update(overrides)
    return data


def test_the_clerk_registers_a_paper_document_by_hand_and_lands_on_its_register_task(
    receiving: Any, sign_in: Any
) -> None:
    response = sign_in(receiving.clerk).post("/workflows/incoming/new/", _by_hand())

    record = IncomingRecord.objects.get(source_number="财库函〔2026〕8号")
    assert record.by_hand
    assert response.status_code == 302
    assert response["Location"] == task_url(open_task(record.document, "register"))
    assert record.document.attachments.count() == 1


def test_a_refused_scanned_file_keeps_the_typed_fields(receiving: Any, sign_in: Any) -> None:
    bad = SimpleUploadedFile(
        "病毒.exe", b"MZ\x90\x00" + b"\x00" * 100, content_type="application/octet-stream"
    )

    response = sign_in(receiving.clerk).post("/workflows/incoming/new/", _by_hand(scanned_file=bad))

    assert response.status_code == 400
    page = response.content.decode()
    assert "财库函〔2026〕8号" in page and "关于报送2026年度财政决算的函" in page
    assert "扫描件未保存" in page
    assert not IncomingRecord.objects.exists()


def test_registering_by_hand_without_a_sender_names_the_field(receiving: Any, sign_in: Any) -> None:
    response = sign_in(receiving.clerk).post("/workflows/incoming/new/", _by_hand(source_name=""))

    assert response.status_code == 400
    assert "请填写来文单位。" in response.content.decode()
    assert "财库函〔2026〕8号" in response.content.decode()


def test_a_receipt_date_after_today_is_refused_by_hand_and_at_registration_keeping_the_form(
    receiving: Any, sign_in: Any
) -> None:
    client = sign_in(receiving.clerk)
    by_hand = client.post("/workflows/incoming/new/", _by_hand(received_on="9999-12-31"))
    document = signed_for(receiving, title="关于下达2026年省级预算的通知")
    task = open_task(document, "register")
    registered = client.post(
        task_url(task),
        {
            "decision": "agree",
            "title": "关于下达2026年省级预算的通知（登记）",
            "doc_type": document.doc_type,
            "source_name": "广东省人民政府办公厅",
            "copies": "2",
            "urgency": document.urgency,
            "received_on": "9999-12-31",
        },
    )

    assert by_hand.status_code == 400
    assert "收文日期不能晚于今天。" in by_hand.content.decode()
    assert "关于报送2026年度财政决算的函" in by_hand.content.decode()
    assert registered.status_code == 400
    assert "收文日期不能晚于今天。" in registered.content.decode()
    assert "关于下达2026年省级预算的通知（登记）" in registered.content.decode()
    assert open_task(document, "register").pk == task.pk


def test_a_deadline_before_the_receipt_date_is_refused_by_hand_as_at_registration(
    receiving: Any, sign_in: Any
) -> None:
    today = timezone.localdate()
    response = sign_in(receiving.clerk).post(
        "/workflows/incoming/new/",
        _by_hand(received_on=today.isoformat(), deadline=(today - timedelta(days=3)).isoformat()),
    )

    assert response.status_code == 400
    assert "办理时限不能早于收文日期。" in response.content.decode()
    assert "关于报送2026年度财政决算的函" in response.content.decode()
    assert not IncomingRecord.objects.filter(source_name="中华人民共和国财政部").exists()


def test_only_the_agencys_office_may_register_by_hand(receiving: Any, sign_in: Any) -> None:
    assert sign_in(receiving.budget_staff).get("/workflows/incoming/new/").status_code == 403
    assert sign_in(receiving.clerk).get("/workflows/incoming/new/").status_code == 200


# --- 收文登记簿 -------------------------------------------------------------------------------------


def test_the_register_lists_filters_and_marks_overdue_documents(receiving: Any, sign_in: Any) -> None:
    late = signed_for(receiving, number="粤府办〔2026〕11号", title="关于做好防汛工作的通知")
    advance(late, "register", receiving.clerk)
    OfficialDocument.objects.filter(pk=late.pk).update(deadline=timezone.localdate() - timedelta(days=3))
    other = signed_for(receiving, number="粤府办〔2026〕12号", title="关于开展安全生产检查的通知")
    client = sign_in(receiving.secretary)

    everything = client.get("/workflows/incoming/").content.decode()
    searched = client.get("/workflows/incoming/", {"q": "安全生产"}).content.decode()
    overdue = client.get("/workflows/incoming/", {"state": "overdue"}).content.decode()

    assert late.title in everything and other.title in everything
    assert "已超期" in everything
    assert other.title in searched and late.title not in searched
    assert late.title in overdue and other.title not in overdue


def test_the_register_exports_to_excel_as_filtered(receiving: Any, sign_in: Any) -> None:
    document = signed_for(receiving, title='=HYPERLINK("x")关于某事的通知')
    advance(document, "register", receiving.clerk)

    response = sign_in(receiving.clerk).get("/workflows/incoming/export.xlsx")

    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert response.status_code == 200
    assert rows[0][0] == "收文号"
    assert rows[1][4] == document.title  # stays text, never a formula
    assert rows[1][0] == IncomingRecord.objects.get(document=document).number


def test_an_export_longer_than_the_cap_says_so_in_its_last_row(
    receiving: Any, sign_in: Any, monkeypatch: Any
) -> None:
    from workflows.views import incoming as incoming_views

    for title in ("关于甲事项的通知", "关于乙事项的通知"):
        advance(signed_for(receiving, title=title), "register", receiving.clerk)
    monkeypatch.setattr(incoming_views, "EXPORT_MAX_ROWS", 1)

    response = sign_in(receiving.clerk).get("/workflows/incoming/export.xlsx")

    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 3  # header, one 收文, the note
    assert rows[2][0].startswith("仅导出前 1 条")


def test_the_register_is_the_offices_alone(receiving: Any, sign_in: Any) -> None:
    assert sign_in(receiving.budget_head).get("/workflows/incoming/").status_code == 403
    assert sign_in(receiving.cast.clerk).get("/workflows/incoming/").content.decode().count("<tr") == 2


# --- 收文处理单 and the document page ---------------------------------------------------------------


def test_the_processing_sheet_prints_facts_opinions_and_instruction_in_order(
    receiving: Any, sign_in: Any
) -> None:
    document = to_handle(receiving)
    client = sign_in(receiving.secretary)

    page = client.get(f"/workflows/incoming/documents/{document.pk}/sheet/").content.decode()
    docx = client.get(f"/workflows/incoming/documents/{document.pk}/sheet/", {"format": "docx"})

    assert "收文处理单" in page and document.incoming.number in page
    assert page.index("拟请刘副厅长阅批") < page.index("请预算处抓紧研究办理。")
    assert 'class="instruction"' in page
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    from docx import Document

    text = "\n".join(
        cell.text
        for table in Document(io.BytesIO(docx.content)).tables
        for row in table.rows
        for cell in row.cells
    )
    assert "请预算处抓紧研究办理。" in text and "粤府办〔2026〕1号" in text


def test_the_processing_sheet_is_404_for_an_outsider_and_for_an_outgoing_document(
    receiving: Any, sign_in: Any
) -> None:
    document = signed_for(receiving)
    outgoing = document.incoming.source_document

    assert (
        sign_in(receiving.cast.outsider)
        .get(f"/workflows/incoming/documents/{document.pk}/sheet/")
        .status_code
        == 404
    )
    assert (
        sign_in(receiving.cast.office_secretary)
        .get(f"/workflows/incoming/documents/{outgoing.pk}/sheet/")
        .status_code
        == 404
    )


def test_the_document_page_of_a_received_document_shows_its_facts_position_and_task(
    receiving: Any, sign_in: Any
) -> None:
    document = to_instruct(receiving)

    page = sign_in(receiving.leader).get(f"/documents/{document.pk}/").content.decode()

    assert "来文单位" in page and "粤府办〔2026〕1号" in page
    assert "收文办理情况" in page
    assert task_url(open_task(document, "instruct")) in page
    assert "收文处理单" in page


def test_my_documents_lists_a_received_document_with_its_number_and_sender(
    receiving: Any, sign_in: Any
) -> None:
    document = signed_for(receiving, title="关于财政专项资金管理的通知")
    advance(document, "register", receiving.clerk)

    page = sign_in(receiving.clerk).get("/documents/").content.decode()

    assert "关于财政专项资金管理的通知" in page
    assert IncomingRecord.objects.get(document=document).number in page
    assert "收文" in page


def test_returning_needs_a_reason_and_then_sends_the_step_back(receiving: Any, sign_in: Any) -> None:
    document = signed_for(receiving)
    advance(document, "register", receiving.clerk)
    advance(document, "screen", receiving.secretary)
    task = open_task(document, "propose")
    client = sign_in(receiving.director)

    refused = client.post(task_url(task), {"decision": "return", "return_to": "register"})
    done = client.post(
        task_url(task),
        {"decision": "return", "return_to": "register", "opinion": "来文字号登记有误，请更正。"},
    )

    assert refused.status_code == 400 and "退回时必须填写理由。" in refused.content.decode()
    assert done.status_code == 302
    again = open_task(document, "register")
    page = sign_in(again.owner).get(task_url(again)).content.decode()
    assert "来文字号登记有误，请更正。" in page


def test_the_holder_transfers_a_task_to_a_colleague_of_the_agency(receiving: Any, sign_in: Any) -> None:
    document = signed_for(receiving)
    task = open_task(document, "register")
    client = sign_in(receiving.clerk)

    form = client.get(f"/workflows/incoming/tasks/{task.pk}/transfer/")
    response = client.post(
        f"/workflows/incoming/tasks/{task.pk}/transfer/",
        {"to_user": receiving.second_clerk.pk, "reason": "出差，请代为登记"},
    )

    assert form.status_code == 200 and "孙收发" in form.content.decode()
    assert "预算处长" in form.content.decode()  # the agency's people, not the sender's
    assert receiving.cast.drafter not in form.context["form"].fields["to_user"].queryset
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.owner_id == receiving.second_clerk.pk
    assert (
        sign_in(receiving.cast.outsider).get(f"/workflows/incoming/tasks/{task.pk}/transfer/").status_code
        == 404
    )
    assert (
        sign_in(receiving.budget_staff).get(f"/workflows/incoming/tasks/{task.pk}/transfer/").status_code
        == 404
    )


def test_the_archive_package_part_is_the_incoming_sheet_for_a_received_document_only(receiving: Any) -> None:
    from workflows.incoming_sheet import archive_part

    document = to_instruct(receiving)

    name, content = archive_part(document) or ("", b"")

    assert name == "收文处理单.docx" and content[:2] == b"PK"
    assert archive_part(document.incoming.source_document) is None


def test_the_register_page_costs_the_same_queries_for_five_or_twenty_documents(
    receiving: Any, sign_in: Any, django_assert_max_num_queries: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = sign_in(receiving.secretary)
    for n in range(5):
        signed_for(receiving, number=f"粤府办〔2026〕{100 + n}号")
    with CaptureQueriesContext(connection) as five:
        client.get("/workflows/incoming/")
    for n in range(15):
        signed_for(receiving, number=f"粤府办〔2026〕{200 + n}号")

    with django_assert_max_num_queries(len(five.captured_queries)):
        page = client.get("/workflows/incoming/").content.decode()

    assert page.count("粤府办〔2026〕2") == 15
