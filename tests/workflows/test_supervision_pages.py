"""The 督办 pages as people use them: 立项 (and its refusals, which keep what was typed), the list, the
item page and who may open it, the task page of each step (编号 shown after 登记, 拟办 adjusting the
督办通知单, 签收 or "not ours", 审核 with 退办重办, the leader's 阅), reports with attachments and the
unit head's 审签, 延期申请 with 初审 and 审批, 转办, 抢办 and the 督办通知单 as page and .docx."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from docx import Document
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from workflows.models import (
    Decision,
    ExtensionRequest,
    ExtensionState,
    ItemState,
    Opinion,
    ProgressReport,
    ReportKind,
    ReportState,
    SupervisionItem,
    SupervisionSource,
)

OPEN = [STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED]
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n% progress photo sheet\n%%EOF\n"
TITLE = "推进全省政务服务“一网通办”改革"


# --- helpers -------------------------------------------------------------------------------------


def make_item(supervision: Any, **fields: Any) -> SupervisionItem:
    """An item 立项'd by the 督查员: 综合处 leads, 秘书处 helps, 王德明 instructed it."""
    from workflows.supervision import initiate

    cast = supervision.cast
    today = timezone.localdate()
    values: dict[str, Any] = {
        "actor": supervision.supervisor,
        "agency": cast.gov_office,
        "source": SupervisionSource.INSTRUCTION,
        "title": TITLE,
        "requirement": "每月报送进展，年底前完成。",
        "instruction": "请综合处牵头抓紧落实。",
        "lead_unit": cast.general_dept,
        "co_units": (cast.secretariat,),
        "received_on": today,
        "due_on": today + timedelta(days=60),
        "leader": supervision.leader,
    }
    values.update(fields)
    return initiate(**values)


def open_task(item: SupervisionItem, step: str) -> Task:
    return Task.objects.get(
        process__supervisionprocess__item=item, flow_task__endswith=f".{step}", status__in=OPEN
    )


def holder(task: Task) -> Any:
    from workflows.models import TaskCandidate

    if task.owner_id:
        return task.owner
    return TaskCandidate.objects.filter(task=task).order_by("pk").first().user  # type: ignore[union-attr]


def act(item: SupervisionItem, step: str, **values: Any) -> None:
    from workflows.supervision import SupervisionStepInput, claim_supervision, complete_supervision_step

    task = open_task(item, step)
    actor = holder(task)
    if task.owner_id is None:
        claim_supervision(task, actor=actor)
        task.refresh_from_db()
    complete_supervision_step(task, actor=actor, step_input=SupervisionStepInput(**values))


def assigned(supervision: Any, **fields: Any) -> SupervisionItem:
    """Registered, proposed, approved and 交办'd: the lead unit's 签收 is open."""
    item = make_item(supervision, **fields)
    for step in ("register", "propose", "approve", "assign"):
        act(item, step, decision=Decision.AGREE)
    item.refresh_from_db()
    return item


def handling(supervision: Any, **fields: Any) -> SupervisionItem:
    """签收'd by 综合处, whose head hands the 承办 to her staff member (转办): he writes the reports."""
    from workflows.supervision import transfer_supervision

    item = assigned(supervision, **fields)
    act(item, "accept", decision=Decision.AGREE)
    transfer_supervision(
        open_task(item, "handle"), actor=supervision.dept_head, to_user=supervision.general_staff
    )
    item.refresh_from_db()
    return item


def task_url(item: SupervisionItem, step: str) -> str:
    return reverse("workflows:supervision_task", kwargs={"supervision_task_id": open_task(item, step).pk})


def item_url(item: SupervisionItem) -> str:
    return reverse("workflows:supervision_item", kwargs={"item_id": item.pk})


def new_form(supervision: Any, **overrides: Any) -> dict[str, Any]:
    cast = supervision.cast
    today = timezone.localdate()
    data = {
        "source": SupervisionSource.INSTRUCTION,
        "title": TITLE,
        "requirement": "每月报送进展。",
        "instruction": "请抓紧落实。",
        "lead_unit": f"department:{cast.general_dept.pk}",
        "co_units": [f"department:{cast.secretariat.pk}"],
        "received_on": today.isoformat(),
        "due_on": (today + timedelta(days=30)).isoformat(),
        "report_frequency": "monthly",
        "importance": "important",
        "leader": str(supervision.leader.pk),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- 立项 ----------------------------------------------------------------------------------------


def test_the_supervisor_registers_an_item_and_lands_on_its_registration_task(
    supervision: Any, sign_in: Any
) -> None:
    client = sign_in(supervision.supervisor)

    response = client.post(reverse("workflows:supervision_new"), new_form(supervision))

    item = SupervisionItem.objects.get(title=TITLE)
    assert response.status_code == 302
    assert response["Location"] == task_url(item, "register")
    assert item.lead_department == supervision.cast.general_dept
    assert [u["label"] for u in item.co_units] == [supervision.cast.secretariat.name]
    assert item.units.count() == 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"due_on": "2000-01-03"}, "完成时限不能早于收到时间。"),
        ({"due_in_working_days": "10"}, "完成时限请只填一种：具体日期或工作日数。"),
        ({"due_on": None}, "请填写完成时限（具体日期或工作日数）。"),
        ({"report_frequency": "custom"}, "自定义反馈频次请填写间隔工作日数。"),
        ({"lead_unit": ""}, "请选择牵头（主办）单位。"),
        ({"source_document": "粤府办〔1999〕1号"}, "未找到您可查看的公文，请核对文号或标题。"),
        # A mistyped year used to save nothing and show a server error (the light cannot count it).
        ({"due_on": "9999-12-31"}, "日期超出合理范围（前后十年内），请检查年份。"),
        ({"received_on": "1900-01-01"}, "日期超出合理范围（前后十年内），请检查年份。"),
    ],
)
def test_a_refused_registration_says_why_and_keeps_what_was_typed(
    supervision: Any, sign_in: Any, overrides: dict[str, Any], message: str
) -> None:
    client = sign_in(supervision.supervisor)
    form = new_form(supervision, **overrides)

    response = client.post(reverse("workflows:supervision_new"), form)

    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert "一网通办" in page, "the typed title is kept"
    assert "请抓紧落实。" in page
    assert not SupervisionItem.objects.exists()


def test_the_lead_unit_cannot_also_help(supervision: Any, sign_in: Any) -> None:
    cast = supervision.cast
    client = sign_in(supervision.supervisor)

    response = client.post(
        reverse("workflows:supervision_new"),
        new_form(supervision, co_units=[f"department:{cast.general_dept.pk}"]),
    )

    assert response.status_code == 400
    assert "牵头单位不能同时作为协办单位。" in response.content.decode()


def test_an_item_links_to_a_document_the_supervisor_may_see(supervision: Any, sign_in: Any) -> None:
    from documents.access import visible_documents
    from documents.services import create_draft

    cast = supervision.cast
    document = create_draft(
        actor=cast.drafter, department=cast.general_dept, title="关于深化政务服务改革的实施意见"
    )
    assert not visible_documents(supervision.supervisor).filter(pk=document.pk).exists()
    client = sign_in(supervision.supervisor)
    refused = client.post(
        reverse("workflows:supervision_new"),
        new_form(supervision, source="document", source_document="深化政务服务改革"),
    )
    assert refused.status_code == 400, "a document the supervisor may not see is not offered"

    client = sign_in(cast.office_director)
    response = client.post(
        reverse("workflows:supervision_new"),
        new_form(supervision, source="document", source_document="深化政务服务改革"),
    )

    assert response.status_code == 302
    item = SupervisionItem.objects.get()
    assert item.source_id == document.pk
    page = client.get(item_url(item)).content.decode()
    assert reverse("documents:detail", kwargs={"document_id": document.pk}) in page


def test_only_the_supervisor_or_the_office_registers_items(supervision: Any, sign_in: Any) -> None:
    response = sign_in(supervision.dept_head).get(reverse("workflows:supervision_new"))

    assert response.status_code == 403


# --- the list and the item page -------------------------------------------------------------------


def test_the_list_shows_each_visible_item_with_its_light(supervision: Any, sign_in: Any) -> None:
    item = make_item(supervision)
    other = make_item(supervision, title="规范涉企检查", lead_unit=supervision.cast.finance, co_units=())

    head = sign_in(supervision.dept_head).get(reverse("workflows:supervision_list")).content.decode()
    assert TITLE in head and f"light-{item.light}" in head
    assert "规范涉企检查" not in head, "综合处's head does not see 省财政厅's item"

    client = sign_in(supervision.supervisor)
    everything = client.get(reverse("workflows:supervision_list")).content.decode()
    assert TITLE in everything and other.title in everything
    searched = client.get(reverse("workflows:supervision_list"), {"q": "涉企"}).content.decode()
    assert other.title in searched and TITLE not in searched
    by_unit = client.get(reverse("workflows:supervision_list"), {"unit": "财政"}).content.decode()
    assert other.title in by_unit and TITLE not in by_unit
    by_light = client.get(reverse("workflows:supervision_list"), {"light": "red"}).content.decode()
    assert TITLE not in by_light


def test_the_item_page_shows_facts_light_units_tasks_and_history(supervision: Any, sign_in: Any) -> None:
    item = assigned(supervision)
    client = sign_in(supervision.dept_head)

    page = client.get(item_url(item)).content.decode()

    assert item.number and item.number in page
    assert "请综合处牵头抓紧落实。" in page
    assert supervision.cast.secretariat.name in page and "协办" in page
    assert f"light-{item.light}" in page and item.light_reason in page
    assert task_url(item, "accept") in page and "待我办理" in page
    assert reverse("workflows:supervision_notice", kwargs={"item_id": item.pk}) in page
    assert "交办" in page, "the history lists the steps so far"


def test_a_head_of_another_department_gets_404_on_an_item_she_neither_leads_nor_helps(
    supervision: Any, sign_in: Any
) -> None:
    item = make_item(supervision, co_units=())
    outsider_head = supervision.flow_cast.supervision_head  # heads 督查室, not a unit of this item

    assert sign_in(outsider_head).get(item_url(item)).status_code == 404
    assert sign_in(supervision.dept_head).get(item_url(item)).status_code == 200


def test_a_leader_outside_the_portfolio_gets_404(supervision: Any, sign_in: Any) -> None:
    # 秘书处 leads; 王德明 分管 only 综合处 and did not instruct it; the 秘书长 分管 the whole 办公厅.
    item = make_item(supervision, lead_unit=supervision.cast.secretariat, co_units=(), leader=None)

    assert sign_in(supervision.leader).get(item_url(item)).status_code == 404
    assert sign_in(supervision.chief).get(item_url(item)).status_code == 200


# --- the task page of each step --------------------------------------------------------------------


def test_registering_shows_the_number_it_got(supervision: Any, sign_in: Any) -> None:
    item = make_item(supervision)
    client = sign_in(supervision.supervisor)

    response = client.post(task_url(item, "register"), {"decision": "agree"}, follow=True)

    item.refresh_from_db()
    assert item.number
    assert f"已登记，督办编号：{item.number}。" in response.content.decode()


def test_propose_adjusts_the_notice_and_the_approver_sees_it(supervision: Any, sign_in: Any) -> None:
    item = make_item(supervision)
    act(item, "register", decision=Decision.AGREE)
    client = sign_in(supervision.supervisor)
    url = task_url(item, "propose")
    page = client.get(url).content.decode()
    assert "督办通知单" in page and item.number in page

    due = timezone.localdate() + timedelta(days=45)
    response = client.post(
        url,
        {
            "decision": "agree",
            "title": "推进政务服务“一网通办”",
            "requirement": "每两周报送一次进展。",
            "lead_unit": f"department:{supervision.cast.general_dept.pk}",
            "co_units": [],
            "due_on": due.isoformat(),
            "report_frequency": "monthly",
            "importance": "critical",
            "opinion": "拟请办公室主任审定。",
        },
    )

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.title == "推进政务服务“一网通办”"
    assert item.due_on == due
    assert item.co_units == []
    approver = holder(open_task(item, "approve"))
    notice = sign_in(approver).get(task_url(item, "approve")).content.decode()
    assert "每两周报送一次进展。" in notice


def test_a_return_without_a_reason_is_refused_and_keeps_the_opinion_box(
    supervision: Any, sign_in: Any
) -> None:
    item = make_item(supervision)
    act(item, "register", decision=Decision.AGREE)
    act(item, "propose", decision=Decision.AGREE)
    approver = holder(open_task(item, "approve"))
    client = sign_in(approver)

    response = client.post(
        task_url(item, "approve"),
        {
            "decision": "return",
            "return_to": "",
            "opinion": "",
            "title": "改过的标题",
            "lead_unit": f"department:{supervision.cast.general_dept.pk}",
        },
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "请选择要退回的环节。" in page and "退回时必须填写理由。" in page
    assert "改过的标题" in page
    item.refresh_from_db()
    assert item.state == ItemState.APPROVE


def test_the_lead_unit_signs_for_the_item_or_returns_it_with_a_reason(supervision: Any, sign_in: Any) -> None:
    item = assigned(supervision)
    client = sign_in(supervision.dept_head)
    url = task_url(item, "accept")
    page = client.get(url).content.decode()
    assert "督办通知单" in page and "请综合处牵头抓紧落实。" in page

    refused = client.post(url, {"decision": "not_ours", "opinion": ""})
    assert refused.status_code == 400
    assert "请说明为何不属于本单位职责。" in refused.content.decode()

    response = client.post(url, {"decision": "not_ours", "opinion": "该事项由秘书处负责。"})

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.state == ItemState.PROPOSE
    assert Opinion.objects.filter(item=item, decision=Decision.NOT_OURS, text="该事项由秘书处负责。").exists()


def test_the_handle_step_offers_the_report_form_not_a_finish_button(supervision: Any, sign_in: Any) -> None:
    item = handling(supervision)
    client = sign_in(supervision.general_staff)

    page = client.get(task_url(item, "handle")).content.decode()

    assert 'id="report-form"' in page and 'id="step-form"' not in page
    refused = client.post(task_url(item, "handle"), {"decision": "agree"})
    assert refused.status_code == 400
    assert "承办环节请填写进展反馈或办结报告。" in refused.content.decode()


# --- reports ------------------------------------------------------------------------------------


def test_staff_write_a_report_with_a_file_and_the_head_signs_it_off(supervision: Any, sign_in: Any) -> None:
    item = handling(supervision)
    staff = sign_in(supervision.general_staff)

    response = staff.post(
        reverse("workflows:supervision_report", kwargs={"item_id": item.pk}),
        {
            "kind": "progress",
            "text": "已完成需求调研。",
            "percentage": "30",
            "files": [SimpleUploadedFile("调研报告.pdf", PDF, content_type="application/pdf")],
        },
    )

    assert response.status_code == 302
    report = ProgressReport.objects.get(item=item)
    assert report.state == ReportState.DRAFT
    assert report.attachments.get().filename == "调研报告.pdf"
    head = sign_in(supervision.dept_head)
    page = head.get(item_url(item)).content.decode()
    assert "审签报送" in page
    download = reverse(
        "blobs:download", args=[report.attachments.get().blob_id, report.attachments.get().filename]
    )
    assert download in page
    assert head.get(download).status_code == 200
    from officeapp.blobs.models import Blob
    from officeapp.blobs.services import _unreferenced
    from workflows.views.supervision import SupervisionFilesReferrer

    kept = set(SupervisionFilesReferrer().referenced_blob_ids())
    assert report.attachments.get().blob_id in kept, "retention keeps a report's file"
    assert not _unreferenced(Blob.objects.filter(pk=report.attachments.get().blob_id)).exists()

    signed = head.post(reverse("workflows:supervision_report_sign_off", kwargs={"report_id": report.pk}))

    assert signed.status_code == 302
    report.refresh_from_db()
    assert report.state != ReportState.DRAFT
    assert report.signed_off_by == supervision.dept_head
    # (sign_in reuses one client: the head's session ends here.)
    assert sign_in(supervision.flow_cast.supervision_head).get(download).status_code == 404


def test_a_refused_file_keeps_the_typed_report(supervision: Any, sign_in: Any) -> None:
    item = handling(supervision)
    staff = sign_in(supervision.general_staff)

    response = staff.post(
        reverse("workflows:supervision_report", kwargs={"item_id": item.pk}),
        {
            "kind": "progress",
            "text": "已完成需求调研，形成初步方案。",
            "percentage": "30",
            "files": [SimpleUploadedFile("run.exe", b"MZ\x90\x00" + b"\x00" * 64)],
        },
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "已完成需求调研，形成初步方案。" in page
    assert "run.exe" in page
    assert not ProgressReport.objects.filter(item=item).exists()


def test_a_report_from_outside_the_units_is_forbidden(supervision: Any, sign_in: Any) -> None:
    item = handling(supervision)
    # The 督查员 sees the item but belongs to no unit of it.
    response = sign_in(supervision.supervisor).get(
        reverse("workflows:supervision_report", kwargs={"item_id": item.pk})
    )
    assert response.status_code == 403


def completed(supervision: Any, sign_in: Any, text: str = "已全部完成。") -> SupervisionItem:
    item = handling(supervision)
    sign_in(supervision.general_staff).post(
        reverse("workflows:supervision_report", kwargs={"item_id": item.pk}),
        {"kind": "completion", "text": text, "percentage": "100"},
    )
    report = ProgressReport.objects.filter(item=item, kind=ReportKind.COMPLETION).latest("pk")
    sign_in(supervision.dept_head).post(
        reverse("workflows:supervision_report_sign_off", kwargs={"report_id": report.pk})
    )
    item.refresh_from_db()
    return item


def test_review_sends_the_completion_back_only_with_a_reason(supervision: Any, sign_in: Any) -> None:
    item = completed(supervision, sign_in)
    assert item.state == ItemState.REVIEW
    client = sign_in(supervision.supervisor)
    url = task_url(item, "review")

    refused = client.post(url, {"decision": "disagree", "opinion": ""})
    assert refused.status_code == 400
    assert "退办重办时必须写明理由。" in refused.content.decode()

    response = client.post(url, {"decision": "disagree", "opinion": "问题尚未解决，请重办。"}, follow=True)

    assert "已退办重办。" in response.content.decode()
    item.refresh_from_db()
    assert item.state == ItemState.HANDLE


def test_the_leader_reads_or_instructs_again(supervision: Any, sign_in: Any) -> None:
    item = completed(supervision, sign_in)
    act(item, "review", decision=Decision.AGREE, opinion="同意办结。")
    client = sign_in(supervision.leader)
    url = task_url(item, "leader_review")
    assert "新的批示" in client.get(url).content.decode()

    response = client.post(url, {"decision": "agree", "instruction": "请进一步扩大覆盖面。"})

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.state == ItemState.ASSIGN


# --- extensions ----------------------------------------------------------------------------------


def test_an_extension_is_requested_screened_and_approved_and_both_dates_stay(
    supervision: Any, sign_in: Any
) -> None:
    item = handling(supervision)
    old_due = item.due_on
    assert old_due is not None
    url = reverse("workflows:supervision_extension", kwargs={"item_id": item.pk})
    staff = sign_in(supervision.general_staff)

    too_early = staff.post(
        url, {"reason": "系统对接延误。", "progress": "已完成70%。", "new_due_on": old_due.isoformat()}
    )
    assert too_early.status_code == 400
    page = too_early.content.decode()
    assert "申请延至的日期须晚于当前完成时限。" in page and "系统对接延误。" in page
    no_reason = staff.post(url, {"reason": "", "progress": "已完成70%。", "new_due_on": "2099-01-01"})
    assert no_reason.status_code == 400 and "已完成70%。" in no_reason.content.decode()

    new_due = old_due + timedelta(days=20)
    assert (
        staff.post(
            url, {"reason": "系统对接延误。", "progress": "已完成70%。", "new_due_on": new_due.isoformat()}
        ).status_code
        == 302
    )
    extension = ExtensionRequest.objects.get(item=item)

    supervisor = sign_in(supervision.supervisor)
    screen = reverse("workflows:supervision_extension_screen", kwargs={"extension_id": extension.pk})
    assert "提交初审" in supervisor.get(item_url(item)).content.decode()
    refused = supervisor.post(screen, {"verdict": "no", "note": ""})
    assert refused.status_code == 400 and "不同意时请写明理由。" in refused.content.decode()
    assert supervisor.post(screen, {"verdict": "yes", "note": "理由充分。"}).status_code == 302
    extension.refresh_from_db()
    assert extension.state == ExtensionState.SCREENED

    leader = sign_in(supervision.leader)
    decide = reverse("workflows:supervision_extension_decide", kwargs={"extension_id": extension.pk})
    assert "提交审批" in leader.get(item_url(item)).content.decode()
    assert leader.post(decide, {"verdict": "yes", "note": "同意。"}).status_code == 302

    item.refresh_from_db()
    assert item.due_on == new_due
    page = leader.get(item_url(item)).content.decode()
    assert old_due.isoformat() in page and new_due.isoformat() in page


# --- 转办, 抢办, 督办通知单 ---------------------------------------------------------------------------


def test_an_extension_to_a_mistyped_year_is_refused_and_keeps_the_reason(
    supervision: Any, sign_in: Any
) -> None:
    """Approving it used to end in a server error: the light cannot count working days that far."""
    item = handling(supervision)
    url = reverse("workflows:supervision_extension", kwargs={"item_id": item.pk})
    staff = sign_in(supervision.general_staff)

    response = staff.post(
        url, {"reason": "系统对接延误。", "progress": "已完成70%。", "new_due_on": "9999-12-31"}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "日期超出合理范围（前后十年内），请检查年份。" in page and "系统对接延误。" in page
    assert not ExtensionRequest.objects.filter(item=item).exists()


def test_the_holder_transfers_a_task_to_a_colleague(supervision: Any, sign_in: Any) -> None:
    item = make_item(supervision)
    url = reverse(
        "workflows:supervision_transfer", kwargs={"supervision_task_id": open_task(item, "register").pk}
    )
    client = sign_in(supervision.supervisor)
    assert client.get(url).status_code == 200

    response = client.post(url, {"to_user": supervision.office_director.pk, "reason": "出差"})

    assert response.status_code == 302
    assert open_task(item, "register").owner == supervision.office_director


def test_a_candidate_claims_an_unclaimed_task(supervision: Any, sign_in: Any) -> None:
    from officeapp.org import services
    from officeapp.org.models import Role

    services.grant_role(
        actor=None,
        user=supervision.general_staff,
        role=Role.DEPT_HEAD,
        department=supervision.cast.general_dept,
    )
    item = assigned(supervision)
    task = open_task(item, "accept")
    assert task.owner_id is None, "two heads of 综合处: a group task"
    client = sign_in(supervision.general_staff)
    assert "签收办理" in client.get(task_url(item, "accept")).content.decode()

    response = client.post(task_url(item, "accept"), {"action": "claim"}, follow=True)

    assert "已签收办理" in response.content.decode()
    task.refresh_from_db()
    assert task.owner == supervision.general_staff


def test_the_notice_prints_and_downloads_as_docx(supervision: Any, sign_in: Any) -> None:
    item = assigned(supervision)
    client = sign_in(supervision.dept_head)
    url = reverse("workflows:supervision_notice", kwargs={"item_id": item.pk})

    page = client.get(url).content.decode()
    docx = client.get(url, {"format": "docx"})

    for text in (item.number, "请综合处牵头抓紧落实。", "每月报送进展，年底前完成。", "郑海涛", "每月"):
        assert text in page
    assert docx["Content-Type"].startswith("application/vnd.openxmlformats")
    cells = [c.text for t in Document(io.BytesIO(docx.content)).tables for r in t.rows for c in r.cells]
    assert item.number in cells and supervision.cast.secretariat.name in cells
    assert sign_in(supervision.flow_cast.supervision_head).get(url).status_code == 404


def test_registering_from_a_document_page_fills_in_the_document(supervision: Any, sign_in: Any) -> None:
    from documents.services import create_draft

    cast = supervision.cast
    document = create_draft(actor=cast.drafter, department=cast.general_dept, title="关于优化营商环境的通知")
    client = sign_in(cast.office_director)

    page = client.get(reverse("workflows:supervision_new"), {"document": document.pk}).content.decode()

    assert 'value="关于优化营商环境的通知"' in page
    assert '<option value="document" selected>' in page


def test_a_mangled_document_link_opens_an_empty_registration_form(supervision: Any, sign_in: Any) -> None:
    """?document=abc used to show a server error instead of the form."""
    client = sign_in(supervision.supervisor)

    response = client.get(reverse("workflows:supervision_new") + "?document=abc")

    assert response.status_code == 200
    assert "督办事项" in response.content.decode()


def test_archiving_asks_for_the_retention_period(supervision: Any, sign_in: Any) -> None:
    item = completed(supervision, sign_in)
    for step in ("review", "leader_review", "close"):
        act(item, step, decision=Decision.AGREE)
    archivist = holder(open_task(item, "archive"))
    client = sign_in(archivist)
    url = task_url(item, "archive")

    refused = client.post(url, {"decision": "agree", "opinion": "材料齐全。"})
    assert refused.status_code == 400
    assert "请选择保管期限。" in refused.content.decode() and "材料齐全。" in refused.content.decode()

    response = client.post(url, {"decision": "agree", "retention": "permanent", "opinion": "材料齐全。"})

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.state == ItemState.ARCHIVED
