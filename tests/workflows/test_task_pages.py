"""The 发文 pages as people use them: 拟稿, the task page, 正文 saves, refusals that keep input."""

from __future__ import annotations

from typing import Any

from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from documents.models import DocumentState, OfficialDocument
from tests.documents.factories import make_document
from workflows import services
from workflows.models import Opinion


def _open(document: Any, step: str) -> Task:
    return Task.objects.get(
        process__outgoingprocess__document=document,
        flow_task__endswith=f".{step}",
        status__in=[STATUS.NEW, STATUS.ASSIGNED],
    )


def test_drafting_creates_the_document_and_opens_its_draft_task(cast: Any, sign_in: Any) -> None:
    client = sign_in(cast.drafter)

    response = client.post(
        "/workflows/outgoing/new/",
        {
            "doc_type": "notice",
            "title": "关于做好2026年防汛防台风工作的通知",
            "main_recipients": [cast.finance.pk],
            "urgency": "urgent",
            "disclosure": "public",
            "classification": "none",
            "body": "现就有关事项通知如下。\n一、提高认识\n各地要高度重视。",
        },
    )

    document = OfficialDocument.objects.get()
    task = _open(document, "draft")
    assert response.status_code == 302
    assert response["Location"] == f"/workflows/tasks/{task.pk}/"
    assert [b["kind"] for b in document.current_version.body] == ["p", "h1", "p"]
    assert document.urgency == "urgent"


def test_a_classified_draft_is_refused_and_the_form_keeps_what_was_typed(cast: Any, sign_in: Any) -> None:
    client = sign_in(cast.drafter)

    response = client.post(
        "/workflows/outgoing/new/",
        {
            "doc_type": "notice",
            "title": "关于某涉密事项的通知",
            "main_recipients": [cast.finance.pk],
            "urgency": "normal",
            "disclosure": "not_public",
            "classification": "secret",
            "secrecy_period": "1年",
            "body": "这是起草人辛苦写的正文。",
        },
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "非涉密" in page
    assert "这是起草人辛苦写的正文。" in page
    assert "关于某涉密事项的通知" in page
    assert OfficialDocument.objects.count() == 0


def test_a_draft_without_recipients_is_refused_with_a_field_message(cast: Any, sign_in: Any) -> None:
    client = sign_in(cast.drafter)

    response = client.post(
        "/workflows/outgoing/new/",
        {
            "doc_type": "notice",
            "title": "通知",
            "urgency": "normal",
            "disclosure": "public",
            "classification": "none",
        },
    )

    assert response.status_code == 200
    assert "请选择主送机关" in response.content.decode()


def test_the_holder_saves_the_text_and_a_stale_save_shows_the_newer_version(cast: Any, sign_in: Any) -> None:
    document = make_document(cast)
    services.start_outgoing(document, actor=cast.drafter)
    task = _open(document, "draft")
    client = sign_in(cast.drafter)
    url = f"/workflows/tasks/{task.pk}/"

    saved = client.post(url, {"action": "save_body", "body": "第二版正文", "based_on": 1, "comment": "改"})
    stale = client.post(url, {"action": "save_body", "body": "基于旧版的修改", "based_on": 1})

    assert saved.status_code == 302
    assert stale.status_code == 409
    page = stale.content.decode()
    assert "第2版" in page and "第二版正文" in page
    assert "基于旧版的修改" in page  # what she typed is still in the box
    document.refresh_from_db()
    assert document.current_version.number == 2


def test_submitting_the_draft_moves_it_to_the_department_head(cast: Any, sign_in: Any) -> None:
    document = make_document(cast)
    services.start_outgoing(document, actor=cast.drafter)
    task = _open(document, "draft")

    response = sign_in(cast.drafter).post(
        f"/workflows/tasks/{task.pk}/", {"action": "complete", "decision": "agree", "opinion": "请审核"}
    )

    assert response.status_code == 302
    assert _open(document, "dept_review").owner == cast.dept_head
    document.refresh_from_db()
    assert document.state == DocumentState.DEPT_REVIEW


def test_a_return_without_a_reason_re_renders_with_the_message(cast: Any, sign_in: Any) -> None:
    document = make_document(cast)
    services.start_outgoing(document, actor=cast.drafter)
    services.complete_step(_open(document, "draft"), actor=cast.drafter, step_input=services.StepInput())
    task = _open(document, "dept_review")

    response = sign_in(cast.dept_head).post(
        f"/workflows/tasks/{task.pk}/", {"action": "complete", "decision": "return", "return_to": "draft"}
    )

    assert response.status_code == 400
    assert "必须填写理由" in response.content.decode()
    assert _open(document, "dept_review").pk == task.pk


def test_posting_a_finished_task_again_says_it_is_done(cast: Any, sign_in: Any) -> None:
    document = make_document(cast)
    services.start_outgoing(document, actor=cast.drafter)
    task = _open(document, "draft")
    client = sign_in(cast.drafter)
    client.post(f"/workflows/tasks/{task.pk}/", {"action": "complete", "decision": "agree"})
    tasks = Task.objects.count()

    again = client.post(f"/workflows/tasks/{task.pk}/", {"action": "complete", "decision": "agree"})

    assert "该任务已办理" in again.content.decode()
    assert Task.objects.count() == tasks


def test_a_handwritten_signature_is_stored_and_shown_under_the_opinion(cast: Any, sign_in: Any) -> None:
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGBA", (40, 20), (0, 0, 0, 255)).save(buffer, format="PNG")
    data_url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    document = make_document(cast)
    services.start_outgoing(document, actor=cast.drafter)
    task = _open(document, "draft")
    client = sign_in(cast.drafter)

    client.post(
        f"/workflows/tasks/{task.pk}/", {"action": "complete", "decision": "agree", "signature": data_url}
    )

    opinion = Opinion.objects.get(document=document)
    assert opinion.signature is not None
    page = client.get(f"/documents/{document.pk}/").content.decode()
    assert "林小梅的签名" in page
    image = client.get(f"/files/{opinion.signature_id}/签名.png")
    assert image.status_code == 200


def test_the_processing_sheet_lists_every_step_and_opinion(cast: Any, sign_in: Any) -> None:
    document = make_document(cast)
    services.start_outgoing(document, actor=cast.drafter)
    services.complete_step(
        _open(document, "draft"), actor=cast.drafter, step_input=services.StepInput(opinion="请审核")
    )
    services.complete_step(
        _open(document, "dept_review"),
        actor=cast.dept_head,
        step_input=services.StepInput(opinion="同意，请办公室审核"),
    )

    page = sign_in(cast.drafter).get(f"/workflows/documents/{document.pk}/sheet/").content.decode()

    assert "拟稿" in page and "处室审核" in page
    assert "同意，请办公室审核" in page and "陈志强" in page


def test_common_opinions_are_personal(cast: Any, sign_in: Any) -> None:
    client = sign_in(cast.leader)
    client.post("/workflows/common-opinions/", {"text": "同意。请办公室按程序办理。"})

    mine = client.get("/workflows/common-opinions/").content.decode()
    others = sign_in(cast.drafter).get("/workflows/common-opinions/").content.decode()

    assert "请办公室按程序办理" in mine
    assert "请办公室按程序办理" not in others


def test_the_processing_sheet_downloads_as_docx_with_the_opinions(cast: Any, sign_in: Any) -> None:
    import io

    import docx

    document = make_document(cast)
    services.start_outgoing(document, actor=cast.drafter)
    services.complete_step(
        _open(document, "draft"), actor=cast.drafter, step_input=services.StepInput(opinion="请审核")
    )

    response = sign_in(cast.drafter).get(f"/workflows/documents/{document.pk}/sheet/?format=docx")

    assert response.status_code == 200
    text = "\n".join(
        cell.text
        for table in docx.Document(io.BytesIO(response.content)).tables
        for row in table.rows
        for cell in row.cells
    )
    assert "拟稿" in text and "林小梅" in text and "请审核" in text


def test_the_archive_package_holds_the_processing_sheet(cast: Any) -> None:
    import io
    import zipfile

    from documents.archiving import write_package

    document = make_document(cast)
    services.start_outgoing(document, actor=cast.drafter)
    services.complete_step(
        _open(document, "draft"), actor=cast.drafter, step_input=services.StepInput(opinion="请审核")
    )
    buffer = io.BytesIO()

    with zipfile.ZipFile(buffer, "w") as zf:
        write_package(zf, document)

    assert "发文处理单.docx" in zipfile.ZipFile(buffer).namelist()


def _docx_bytes(*paragraphs: str) -> bytes:
    import io

    import docx

    doc = docx.Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def test_the_holder_uploads_a_docx_as_the_new_text(cast: Any, sign_in: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    document = make_document(cast)
    services.start_outgoing(document, actor=cast.drafter)
    task = _open(document, "draft")
    upload = SimpleUploadedFile(
        "正文.docx", _docx_bytes("现就有关事项通知如下。", "一、总体要求", "各地要抓好落实。")
    )

    response = sign_in(cast.drafter).post(
        f"/workflows/tasks/{task.pk}/", {"action": "save_body", "based_on": 1, "docx": upload}
    )

    assert response.status_code == 302
    document.refresh_from_db()
    assert [b["kind"] for b in document.current_version.body] == ["p", "h1", "p"]


def test_an_attachment_is_added_and_a_wrong_file_is_refused_before_storage(cast: Any, sign_in: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from officeapp.blobs.models import Blob

    document = make_document(cast)
    services.start_outgoing(document, actor=cast.drafter)
    task = _open(document, "draft")
    client = sign_in(cast.drafter)
    url = f"/workflows/tasks/{task.pk}/"

    added = client.post(
        url,
        {
            "action": "add_attachment",
            "title": "防汛责任人名单",
            "file": SimpleUploadedFile("名单.docx", _docx_bytes("名单")),
        },
    )
    blobs = Blob.objects.count()
    refused = client.post(
        url,
        {
            "action": "add_attachment",
            "title": "病毒",
            "file": SimpleUploadedFile("run.exe", b"MZ\x90\x00" + b"\x00" * 100),
        },
    )

    assert added.status_code == 302
    assert list(document.attachments.values_list("title", flat=True)) == ["防汛责任人名单"]
    assert refused.status_code == 400
    assert "病毒" in refused.content.decode()  # the typed title stays
    assert Blob.objects.count() == blobs
    document.refresh_from_db()
    assert "防汛责任人名单" in document.attachment_note


def test_someone_who_does_not_hold_the_task_cannot_attach(cast: Any, sign_in: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    document = make_document(cast)
    services.start_outgoing(document, actor=cast.drafter)
    task = _open(document, "draft")

    response = sign_in(cast.office_secretary).post(
        f"/workflows/tasks/{task.pk}/",
        {
            "action": "add_attachment",
            "title": "名单",
            "file": SimpleUploadedFile("名单.docx", _docx_bytes("名单")),
        },
    )

    assert response.status_code == 400
    assert "不是该任务的办理人" in response.content.decode()
    assert document.attachments.count() == 0


def test_the_head_sees_the_drafters_countersign_choice_and_keeps_it_by_default(
    cast: Any, sign_in: Any
) -> None:
    from workflows.services import party_for

    document = make_document(cast)
    services.start_outgoing(document, actor=cast.drafter)
    services.complete_step(
        _open(document, "draft"),
        actor=cast.drafter,
        step_input=services.StepInput(countersign_parties=[party_for(cast.supervision_dept)]),
    )
    task = _open(document, "dept_review")
    client = sign_in(cast.dept_head)

    page = client.get(f"/workflows/tasks/{task.pk}/").content.decode()

    assert f'<option value="{cast.supervision_dept.pk}" selected>' in page


def test_the_holder_restores_an_older_version_as_a_new_one(cast: Any, sign_in: Any) -> None:
    from documents.versions import save_version

    document = make_document(cast)
    services.start_outgoing(document, actor=cast.drafter)
    save_version(document, actor=cast.drafter, body=[{"kind": "p", "text": "改坏了的正文"}], based_on=1)
    task = _open(document, "draft")

    response = sign_in(cast.drafter).post(
        f"/workflows/tasks/{task.pk}/", {"action": "restore_version", "version": 1, "based_on": 2}
    )

    assert response.status_code == 302
    document.refresh_from_db()
    assert document.current_version.number == 3
    assert document.current_version.restored_from == 1
    assert document.versions.count() == 3


def test_the_numbering_step_offers_a_reserved_number(cast: Any) -> None:
    from documents.numbering import reserve_number
    from workflows.forms import StepForm

    document = make_document(cast)
    reserved = reserve_number(
        cast.gov_office, actor=cast.office_director, prefix="粤府办", year=2026, reason="留给年度要点"
    )

    form = StepForm(step="assign_number", document=document)

    assert reserved in form.fields["reserved_number"].queryset


def test_minutes_carry_their_attendance_lists_into_the_layout(cast: Any, sign_in: Any) -> None:
    from documents.rendering import spec_for

    sign_in(cast.drafter).post(
        "/workflows/outgoing/new/",
        {
            "doc_type": "minutes",
            "title": "省政府办公厅2026年第12次主任办公会议纪要",
            "urgency": "normal",
            "disclosure": "not_public",
            "classification": "none",
            "minutes_attendees": "王德明、周建国、陈志强",
            "minutes_on_leave": "黄丽华",
            "body": "会议研究了防汛工作。",
        },
    )

    spec = spec_for(OfficialDocument.objects.get())
    assert spec.layout == "minutes"
    assert spec.attendees == ["王德明", "周建国", "陈志强"]
    assert spec.on_leave == ["黄丽华"]


def test_a_failed_typeset_rendering_leaves_the_task_open_with_the_reason(cast: Any, monkeypatch: Any) -> None:
    from documents.errors import RenderFailed
    from tests.workflows.conftest import build_flow_cast

    build_flow_cast(cast)
    document = make_document(cast)
    services.start_outgoing(document, actor=cast.drafter)
    services.force_move(
        document.outgoing_process, actor=cast.office_director, to_step="typeset", reason="测试"
    )
    task = _open(document, "typeset")

    def broken(*args: Any, **kwargs: Any) -> bytes:
        raise RenderFailed("排版服务不可用")

    monkeypatch.setattr("documents.rendering.render_docx_of", broken)

    import pytest

    with pytest.raises(services.FlowError, match="排版稿生成失败"):
        services.typeset_render(task, actor=cast.office_secretary)
    with pytest.raises(services.FlowError, match="请先生成排版稿"):
        services.complete_step(task, actor=cast.office_secretary, step_input=services.StepInput())
    assert _open(document, "typeset").pk == task.pk


def test_the_office_adds_a_countersigning_department_from_the_manage_page(cast: Any, sign_in: Any) -> None:
    from tests.workflows.conftest import build_flow_cast
    from workflows.services import party_for

    people = build_flow_cast(cast)
    document = make_document(cast)
    process = services.start_outgoing(document, actor=cast.drafter)
    services.complete_step(
        _open(document, "draft"),
        actor=cast.drafter,
        step_input=services.StepInput(countersign_parties=[party_for(cast.supervision_dept)]),
    )
    services.complete_step(
        _open(document, "dept_review"), actor=cast.dept_head, step_input=services.StepInput()
    )
    client = sign_in(cast.office_director)

    response = client.post(
        f"/workflows/processes/{process.pk}/signers/",
        {"change": "add_countersign", "department": cast.secretariat.pk},
    )
    missing = client.post(f"/workflows/processes/{process.pk}/signers/", {"change": "add_countersign"})

    assert response.status_code == 302
    owners = set(
        Task.objects.filter(
            process=process, flow_task__endswith=".countersign", status="ASSIGNED"
        ).values_list("owner__username", flat=True)
    )
    assert owners == {people.supervision_head.username, people.secretariat_head.username}
    assert missing.status_code == 400
    assert "请选择要增加的会签处室或单位" in missing.content.decode()
