"""The 收文 flow driven through its services, as 省财政厅's people act on a document 省府办公厅 sent.

签收 → 登记 → 初审 → 拟办 → 批办 → 分办 → 承办 (预算处 主办, 国库处 协办) → 答复 → 办结 → 归档, and the
other paths: 阅知性 (传阅 only), 退文 at 初审, a unit saying "not ours", a reply 发文, 委托 (代),
退回 and 转办, registration by hand. Every refusal is checked to leave things as they were.
"""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from documents.models import (
    DocumentCategory,
    DocumentState,
    ExchangeState,
    IncomingRecord,
    OfficialDocument,
    ReturnReason,
    Urgency,
)
from officeapp.audit.models import AuditEvent
from workflows.incoming import (
    FlowError,
    IncomingStepInput,
    assign_handler,
    claim_incoming,
    complete_incoming_step,
    register_by_hand,
    start_reply,
    transfer_incoming,
)
from workflows.models import Decision, IncomingProcess, Opinion, TaskCandidate, TaskDue

OPEN = [STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED]
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n% scanned incoming\n%%EOF\n"


# --- helpers ---------------------------------------------------------------------------------


def signed(receiving: Any, **fields: Any) -> OfficialDocument:
    """省府办公厅 sends a document; 省财政厅's 收发员 signs for it: the 收文 (its process started)."""
    from documents.exchange import receive

    exchange = receiving.sent_to_finance(**fields)
    receive(exchange, actor=receiving.clerk)
    return IncomingRecord.objects.get(exchange=exchange).document


def open_tasks(document: Any, step: str) -> list[Task]:
    return list(
        Task.objects.filter(
            process__incomingprocess__document=document, flow_task__endswith=f".{step}", status__in=OPEN
        ).order_by("pk")
    )


def open_task(document: Any, step: str) -> Task:
    [task] = open_tasks(document, step)
    return task


def act(task: Task, who: Any, **fields: Any) -> Opinion:
    return complete_incoming_step(task, actor=who, step_input=IncomingStepInput(**fields))


def process_of(document: Any) -> IncomingProcess:
    return IncomingProcess.objects.get(document=document)


def state_of(document: Any) -> str:
    document.refresh_from_db()
    return document.state


def to_propose(receiving: Any, **fields: Any) -> OfficialDocument:
    document = signed(receiving, **fields)
    act(open_task(document, "register"), receiving.clerk)
    act(open_task(document, "screen"), receiving.secretary)
    return document


def to_instruct(receiving: Any, **fields: Any) -> OfficialDocument:
    document = to_propose(receiving, **fields)
    act(
        open_task(document, "propose"), receiving.director, handling_kind="action", lead_unit=receiving.budget
    )
    return document


def to_handle(receiving: Any, **fields: Any) -> OfficialDocument:
    document = to_instruct(receiving, **fields)
    act(
        open_task(document, "instruct"),
        receiving.leader,
        opinion="请预算处牵头办理，国库处配合。",
        lead_unit=receiving.budget,
        co_units=[receiving.treasury],
        deadline=timezone.localdate() + timedelta(days=10),
    )
    act(open_task(document, "assign"), receiving.secretary)
    return document


def handle_tasks(document: Any) -> dict[str, Task]:
    return {t.data["unit"]["label"]: t for t in open_tasks(document, "handle")}


def scanned(name: str = "来文扫描件.pdf", content: bytes = PDF) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def by_hand_fields(receiving: Any, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = dict(
        actor=receiving.clerk,
        title="关于报送2026年度部门预算执行情况的函",
        doc_type="letter",
        source_agency=None,
        source_name="广东省审计厅",
        source_number="粤审函〔2026〕8号",
        urgency=Urgency.NORMAL,
        issued_on=timezone.localdate() - timedelta(days=3),
        received_on=timezone.localdate(),
        copies=2,
        deadline=None,
        scanned_file=scanned(),
    )
    fields.update(overrides)
    return fields


# --- 签收 and 登记 --------------------------------------------------------------------------------


def test_signing_for_a_document_creates_the_incoming_record_and_gives_the_clerk_the_register_task(
    receiving: Any,
) -> None:
    document = signed(receiving, urgency=Urgency.URGENT)

    assert document.category == DocumentCategory.INCOMING
    assert document.agency == receiving.cast.finance
    assert document.drafter == receiving.clerk
    record = document.incoming
    assert record.source_agency == receiving.cast.gov_office
    assert record.source_number == "粤府办〔2026〕1号"
    assert record.received_on == timezone.localdate()
    # The sealed PDF travels with it: the same stored file, not a copy.
    assert document.attachments.filter(title="正式文件（盖章）").exists()
    task = open_task(document, "register")
    assert task.owner == receiving.clerk
    assert task.data["url"] == f"/workflows/incoming/tasks/{task.pk}/"
    assert task.data["step_label"] == "登记"
    assert task.data["source_name"] == "广东省人民政府办公厅"
    assert task.data["urgency"] == Urgency.URGENT
    # 加急: 办理时限 5 working days, and the task carries it for the reminders.
    assert document.deadline is not None and document.deadline > timezone.localdate()
    assert TaskDue.objects.get(task=task).due_on == document.deadline
    assert state_of(document) == DocumentState.REGISTER


def test_registering_gives_the_next_incoming_number_of_the_agency_and_year(receiving: Any) -> None:
    year = timezone.localdate().year
    first = signed(receiving, number="粤府办〔2026〕1号")
    second = signed(receiving, number="粤府办〔2026〕2号")

    act(open_task(second, "register"), receiving.clerk)
    act(open_task(first, "register"), receiving.clerk)

    second.incoming.refresh_from_db()
    first.incoming.refresh_from_db()
    assert second.incoming.number == f"粤财收〔{year}〕1号"
    assert first.incoming.number == f"粤财收〔{year}〕2号"
    screen = open_task(first, "screen")
    assert screen.data["incoming_number"] == f"粤财收〔{year}〕2号"
    assert screen.owner == receiving.secretary
    assert state_of(first) == DocumentState.SCREEN


def test_registering_without_a_required_field_names_it_and_leaves_the_task_open(receiving: Any) -> None:
    document = signed(receiving)
    task = open_task(document, "register")

    for field, value, message in [
        ("title", " ", "请填写标题。"),
        ("source_name", "", "请填写来文单位。"),
        ("copies", 0, "请填写份数（至少1份）。"),
        ("received_on", None, "请填写收文日期。"),
        ("urgency", "", "请选择紧急程度。"),
    ]:
        with pytest.raises(FlowError) as refused:
            act(task, receiving.clerk, registration={field: value})
        assert refused.value.message == message

    assert open_task(document, "register") == task
    document.incoming.refresh_from_db()
    assert document.incoming.number == ""
    assert state_of(document) == DocumentState.REGISTER


def test_registration_corrects_the_fields_and_a_given_deadline_wins(receiving: Any) -> None:
    document = signed(receiving)
    deadline = timezone.localdate() + timedelta(days=30)

    act(
        open_task(document, "register"),
        receiving.clerk,
        registration={"title": "更正后的标题", "copies": 3, "deadline": deadline},
    )

    document.refresh_from_db()
    document.incoming.refresh_from_db()
    assert document.title == "更正后的标题"
    assert document.incoming.copies == 3
    assert document.incoming.registered_by == receiving.clerk
    assert document.deadline == deadline
    assert TaskDue.objects.get(task=open_task(document, "screen")).due_on == deadline


# --- 初审 ------------------------------------------------------------------------------------------


def test_send_back_at_screening_returns_the_document_to_the_sender_and_ends_the_process(
    receiving: Any,
) -> None:
    document = signed(receiving)
    act(open_task(document, "register"), receiving.clerk)

    act(
        open_task(document, "screen"),
        receiving.secretary,
        decision=Decision.SEND_BACK,
        return_reason=ReturnReason.NOT_OURS,
        return_note="该事项由省发展改革委主管。",
    )

    assert state_of(document) == DocumentState.RETURNED
    exchange = document.incoming.exchange
    exchange.refresh_from_db()
    assert exchange.state == ExchangeState.RETURNED
    assert exchange.return_reason == ReturnReason.NOT_OURS
    process = process_of(document)
    assert process.status == PROCESS.DONE
    assert Task.objects.get(process=process, flow_task__endswith=".returned").status == STATUS.DONE
    opinion = Opinion.objects.get(document=document, decision=Decision.SEND_BACK)
    assert "不属于本机关职责范围" in opinion.text


def test_send_back_without_a_reason_leaves_the_task_open_and_the_record_signed(receiving: Any) -> None:
    document = signed(receiving)
    act(open_task(document, "register"), receiving.clerk)
    task = open_task(document, "screen")

    with pytest.raises(FlowError) as no_reason:
        act(task, receiving.secretary, decision=Decision.SEND_BACK, return_note="说明")
    with pytest.raises(FlowError) as no_note:
        act(task, receiving.secretary, decision=Decision.SEND_BACK, return_reason=ReturnReason.OTHER)

    assert no_reason.value.message == "请选择退文理由。"
    assert no_note.value.message == "请填写退文说明。"
    assert open_task(document, "screen") == task
    exchange = document.incoming.exchange
    exchange.refresh_from_db()
    assert exchange.state == ExchangeState.RECEIVED
    assert state_of(document) == DocumentState.SCREEN


def test_send_back_is_refused_outside_screening(receiving: Any) -> None:
    document = to_propose(receiving)

    with pytest.raises(FlowError) as refused:
        act(
            open_task(document, "propose"),
            receiving.director,
            decision=Decision.SEND_BACK,
            return_reason=ReturnReason.OTHER,
            return_note="x",
        )

    assert refused.value.message == "只有初审环节可以退文。"


# --- 拟办 ------------------------------------------------------------------------------------------


def test_propose_goes_to_the_office_director_and_defaults_the_leader_by_portfolio(receiving: Any) -> None:
    document = to_propose(receiving)
    task = open_task(document, "propose")
    assert task.owner == receiving.director

    act(task, receiving.director, handling_kind="action", lead_unit=receiving.treasury)

    process = process_of(document)
    # 刘副厅长's portfolio covers 国库处.
    assert process.instructing_leader == receiving.leader
    assert open_task(document, "instruct").owner == receiving.leader
    document.incoming.refresh_from_db()
    assert document.incoming.handling_kind == "action"
    assert state_of(document) == DocumentState.INSTRUCT


def test_propose_refusals(receiving: Any) -> None:
    document = to_propose(receiving)
    task = open_task(document, "propose")

    with pytest.raises(FlowError) as no_kind:
        act(task, receiving.director)
    with pytest.raises(FlowError) as not_leader:
        act(task, receiving.director, handling_kind="action", leader=receiving.budget_head)
    with pytest.raises(FlowError) as foreign_unit:
        act(task, receiving.director, handling_kind="action", lead_unit=receiving.cast.general_dept)

    assert no_kind.value.message == "请选择办理类型（阅知性或批办性）。"
    assert not_leader.value.message == "预算处长不是本机关领导，不能批办。"
    assert foreign_unit.value.message == "综合处不是本机关的处室，不能作为主办单位。"
    assert open_task(document, "propose") == task


# --- 批办 ------------------------------------------------------------------------------------------


def test_instruct_refuses_a_missing_foreign_or_closed_unit_and_a_co_unit_that_is_the_lead(
    receiving: Any,
) -> None:
    document = to_instruct(receiving)
    task = open_task(document, "instruct")
    leader = receiving.leader

    with pytest.raises(FlowError) as missing:
        act(task, leader)
    with pytest.raises(FlowError) as foreign:
        act(task, leader, lead_unit=receiving.cast.higher_ed)
    with pytest.raises(FlowError) as twice:
        act(task, leader, lead_unit=receiving.budget, co_units=[receiving.budget])
    receiving.treasury.is_active = False
    receiving.treasury.save()
    with pytest.raises(FlowError) as closed:
        act(task, leader, lead_unit=receiving.budget, co_units=[receiving.treasury])

    assert missing.value.message == "请选择主办单位。"
    assert foreign.value.message == "高等教育处不是本机关的处室，不能作为主办单位。"
    assert twice.value.message == "预算处已是主办单位，不能同时作为协办单位。"
    assert closed.value.message == "国库处已停用，不能作为协办单位。"
    assert open_task(document, "instruct") == task
    # What 拟办 proposed is untouched.
    process = process_of(document)
    assert process.lead_unit == receiving.budget
    assert process.co_units == []


def test_an_urgent_document_needs_a_deadline_at_instruct(receiving: Any) -> None:
    document = to_instruct(receiving, urgency=Urgency.EXTRA_URGENT)
    task = open_task(document, "instruct")

    with pytest.raises(FlowError) as refused:
        act(task, receiving.leader, lead_unit=receiving.budget)
    assert refused.value.message == "特急公文必须明确办理时限。"

    deadline = timezone.localdate() + timedelta(days=2)
    act(task, receiving.leader, opinion="请抓紧办理。", lead_unit=receiving.budget, deadline=deadline)
    assert process_of(document).deadline == deadline
    assign = open_task(document, "assign")
    assert assign.data["deadline"] == deadline.isoformat()
    assert TaskDue.objects.get(task=assign).due_on == deadline
    instruction = Opinion.objects.get(document=document, step="instruct")
    assert instruction.text == "请抓紧办理。"
    assert instruction.author == receiving.leader


# --- 分办 and 承办 -------------------------------------------------------------------------------------


def test_handling_runs_one_task_per_unit_in_parallel_for_the_units_heads(receiving: Any) -> None:
    document = to_handle(receiving)

    tasks = handle_tasks(document)
    assert set(tasks) == {"预算处", "国库处"}
    assert tasks["预算处"].owner == receiving.budget_head
    assert tasks["预算处"].data["unit"]["role"] == "lead"
    assert tasks["国库处"].owner == receiving.treasury_head
    assert tasks["国库处"].data["unit"]["role"] == "co"
    assert state_of(document) == DocumentState.HANDLE

    act(tasks["国库处"], receiving.treasury_head, result="国库处已核对拨款进度，无异议。")
    # The join waits for 预算处.
    assert open_tasks(document, "reply") == []
    report = Opinion.objects.get(document=document, step="handle")
    assert report.party_label == "国库处"
    assert "无异议" in report.text


def test_handling_without_a_result_is_refused(receiving: Any) -> None:
    document = to_handle(receiving)
    task = handle_tasks(document)["预算处"]

    with pytest.raises(FlowError) as refused:
        act(task, receiving.budget_head, opinion="同意")

    assert refused.value.message == "请填写办理情况。"
    assert handle_tasks(document)["预算处"] == task


def test_a_unit_head_gives_the_task_to_a_person_of_the_unit(receiving: Any) -> None:
    document = to_handle(receiving)
    task = handle_tasks(document)["预算处"]

    with pytest.raises(FlowError) as outsider:
        assign_handler(task, actor=receiving.budget_head, handler=receiving.treasury_staff)
    with pytest.raises(FlowError) as not_head:
        assign_handler(task, actor=receiving.treasury_head, handler=receiving.budget_staff)
    assign_handler(task, actor=receiving.budget_head, handler=receiving.budget_staff)

    assert outsider.value.message == "承办人须为预算处的在岗人员。"
    assert not_head.value.message == "只有承办单位负责人可以指定承办人。"
    task.refresh_from_db()
    assert task.owner == receiving.budget_staff
    act(task, receiving.budget_staff, result="已按要求完成预算调整。")
    assert Opinion.objects.filter(document=document, step="handle", author=receiving.budget_staff).exists()


def test_not_ours_goes_back_to_assign_with_the_reason_after_the_other_units_finish(receiving: Any) -> None:
    document = to_handle(receiving)
    tasks = handle_tasks(document)

    with pytest.raises(FlowError) as no_reason:
        act(tasks["预算处"], receiving.budget_head, decision=Decision.NOT_OURS)
    assert no_reason.value.message == "请写明不属于本单位职责的理由。"

    act(tasks["预算处"], receiving.budget_head, decision=Decision.NOT_OURS, opinion="属国库处职责。")
    assert open_tasks(document, "assign") == []  # 国库处 has not answered yet
    act(tasks["国库处"], receiving.treasury_head, result="已办理。")

    assign = open_task(document, "assign")
    assert assign.owner == receiving.secretary
    process = process_of(document)
    assert process.not_ours == [{"unit": receiving.budget.pk, "label": "预算处", "reason": "属国库处职责。"}]

    # The 文秘 gives it to 国库处 as 主办: only the unit that has not reported gets a task.
    act(assign, receiving.secretary, lead_unit=receiving.treasury, co_units=[])
    tasks = handle_tasks(document)
    assert list(tasks) == ["国库处"]
    assert tasks["国库处"].data["unit"]["role"] == "lead"
    assert process_of(document).not_ours == []


def test_return_from_handling_is_refused_with_the_not_ours_hint(receiving: Any) -> None:
    document = to_handle(receiving)

    with pytest.raises(FlowError) as refused:
        act(
            handle_tasks(document)["预算处"],
            receiving.budget_head,
            decision=Decision.RETURN,
            return_to="assign",
            opinion="退回",
        )

    assert "非本单位职责" in refused.value.message


# --- the whole flow ---------------------------------------------------------------------------------


def test_the_whole_flow_from_signing_to_the_archive(receiving: Any) -> None:
    cast = receiving.cast
    document = to_handle(receiving)
    tasks = handle_tasks(document)

    act(tasks["国库处"], receiving.treasury_head, result="国库处已配合完成资金调度。")
    assign_handler(tasks["预算处"], actor=receiving.budget_head, handler=receiving.budget_staff)
    act(handle_tasks(document)["预算处"], receiving.budget_staff, result="预算处已完成预算调整。")

    reply = open_task(document, "reply")
    assert reply.owner == receiving.budget_staff
    assert state_of(document) == DocumentState.REPLY
    with pytest.raises(FlowError) as no_result:
        act(reply, receiving.budget_staff)
    assert no_result.value.message == "请填写办理结果，或拟写答复文件。"
    act(reply, receiving.budget_staff, result="已按通知要求完成，情况已函复省府办公厅。")

    complete = open_task(document, "complete")
    assert complete.owner == receiving.secretary
    act(complete, receiving.secretary)
    document.incoming.refresh_from_db()
    assert document.incoming.result == "已按通知要求完成，情况已函复省府办公厅。"
    assert document.incoming.completed_at is not None
    exchange = document.incoming.exchange
    exchange.refresh_from_db()
    assert exchange.completed_at is not None  # the sender's tracking page shows 已办结

    archive = open_task(document, "archive")
    assert archive.owner == receiving.archivist
    with pytest.raises(FlowError):
        act(archive, receiving.archivist)  # no 保管期限
    act(archive, receiving.archivist, retention="10y")

    assert state_of(document) == DocumentState.ARCHIVED
    assert process_of(document).status == PROCESS.DONE
    steps = list(Opinion.objects.filter(document=document).values_list("step_label", flat=True))
    assert steps[:6] == ["签收", "登记", "初审", "拟办", "批办", "分办"]
    assert steps[-3:] == ["答复", "办结", "归档"]
    actions = set(AuditEvent.objects.filter(object_id=str(document.pk)).values_list("action", flat=True))
    assert {"workflows.incoming_started", "workflows.incoming_step_completed"} <= actions
    # Everyone who held a task may open the 收文; the sender's drafter may not.
    from documents.access import can_view

    assert can_view(receiving.treasury_head, document)
    assert can_view(receiving.leader, document)
    assert not can_view(cast.drafter, document)


def test_a_document_for_reading_skips_instruct_and_is_circulated(receiving: Any) -> None:
    document = to_propose(receiving)
    act(open_task(document, "propose"), receiving.director, handling_kind="reading")
    assign = open_task(document, "assign")
    assert state_of(document) == DocumentState.ASSIGN

    with pytest.raises(FlowError) as nobody:
        act(assign, receiving.secretary)
    assert nobody.value.message == "请选择传阅人员。"

    act(assign, receiving.secretary, readers=[receiving.chief, receiving.leader], in_order=True)

    from workflows.models import Circulation

    circulation = Circulation.objects.get(document=document)
    assert circulation.in_order
    assert [r.reader for r in circulation.readers.order_by("order")] == [receiving.chief, receiving.leader]
    complete = open_task(document, "complete")
    act(complete, receiving.secretary)
    document.incoming.refresh_from_db()
    assert document.incoming.result == "已传阅"


def test_an_action_document_without_units_is_refused_at_assign(receiving: Any) -> None:
    document = to_instruct(receiving)
    act(open_task(document, "instruct"), receiving.leader, lead_unit=receiving.budget)
    # 退回 to 拟办 and back with no units would be a bug; here 分办 is asked to drop the lead unit.
    process = process_of(document)
    process.lead_unit = None
    process.save(update_fields=["lead_unit"])

    with pytest.raises(FlowError) as refused:
        act(open_task(document, "assign"), receiving.secretary)

    assert refused.value.message == "批办性公文须明确主办单位，请选择承办单位。"


# --- 答复 by a 发文 -------------------------------------------------------------------------------------


def test_a_reply_document_is_linked_both_ways_and_its_outgoing_flow_starts(receiving: Any) -> None:
    from workflows.models import OutgoingProcess

    document = to_handle(receiving)
    tasks = handle_tasks(document)
    act(tasks["国库处"], receiving.treasury_head, result="无意见。")
    act(tasks["预算处"], receiving.budget_head, result="已办理。")
    reply_task = open_task(document, "reply")

    reply = start_reply(
        reply_task, actor=receiving.budget_head, doc_type="letter", title="关于预算调整情况的函"
    )

    assert reply.in_reply_to == document
    assert list(document.replies.all()) == [reply]
    assert reply.agency == receiving.cast.finance
    assert list(reply.main_recipients.all()) == [receiving.cast.gov_office]
    assert OutgoingProcess.objects.filter(document=reply).exists()
    # With a reply 发文 the 答复 needs no separate text.
    act(open_task(document, "reply"), receiving.budget_head)
    act(open_task(document, "complete"), receiving.secretary)
    document.incoming.refresh_from_db()
    assert document.incoming.result.startswith("已发文答复：")


# --- 委托, 退回, 转办, 抢办 -----------------------------------------------------------------------------


def test_a_delegate_instructs_for_the_leader_and_the_opinion_says_so(receiving: Any) -> None:
    from officeapp.org.models import Delegation, DelegationScope

    now = timezone.now()
    document = to_instruct(receiving)
    Delegation.objects.create(
        from_user=receiving.leader,
        to_user=receiving.chief,
        scope=DelegationScope.INCOMING,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=3),
        reason="出差",
    )

    opinion = act(open_task(document, "instruct"), receiving.chief, lead_unit=receiving.budget)

    assert opinion.author == receiving.chief
    assert opinion.on_behalf_of == receiving.leader


def test_a_delegation_made_before_the_task_gives_it_to_the_delegate(receiving: Any) -> None:
    from officeapp.org.models import Delegation, DelegationScope

    now = timezone.now()
    Delegation.objects.create(
        from_user=receiving.director,
        to_user=receiving.secretary,
        scope=DelegationScope.INCOMING,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=3),
        reason="休假",
    )
    document = to_propose(receiving)

    assert open_task(document, "propose").owner == receiving.secretary


def test_return_to_an_earlier_step_needs_a_reason_and_goes_back(receiving: Any) -> None:
    document = to_instruct(receiving)
    task = open_task(document, "instruct")

    with pytest.raises(FlowError) as no_reason:
        act(task, receiving.leader, decision=Decision.RETURN, return_to="propose")
    with pytest.raises(FlowError) as bad_target:
        act(task, receiving.leader, decision=Decision.RETURN, return_to="archive", opinion="x")
    act(task, receiving.leader, decision=Decision.RETURN, return_to="propose", opinion="请补充背景材料。")

    assert no_reason.value.message == "退回时必须填写退回原因。"
    assert bad_target.value.message == "请选择要退回的环节。"
    assert open_task(document, "propose").owner == receiving.director
    assert state_of(document) == DocumentState.PROPOSE
    assert Opinion.objects.get(document=document, decision=Decision.RETURN).return_to == "propose"


def test_transfer_hands_the_task_to_a_colleague_of_the_agency_only(receiving: Any) -> None:
    document = to_propose(receiving)
    task = open_task(document, "propose")

    with pytest.raises(FlowError) as foreign:
        transfer_incoming(task, actor=receiving.director, to_user=receiving.cast.drafter)
    with pytest.raises(FlowError) as stranger:
        transfer_incoming(task, actor=receiving.budget_staff, to_user=receiving.secretary)
    transfer_incoming(task, actor=receiving.director, to_user=receiving.secretary, reason="请钱文秘拟办")

    assert foreign.value.message == "只能转给本机关的人员办理。"
    assert stranger.value.message == "只有当前办理人或办公室可以转办。"
    task.refresh_from_db()
    assert task.owner == receiving.secretary
    act(task, receiving.secretary, handling_kind="reading")
    assert open_task(document, "assign")


def test_a_group_task_is_claimed_by_the_first_head(receiving: Any) -> None:
    from officeapp.org.models import Role
    from officeapp.org.services import grant_role

    second_head = receiving.budget_staff
    grant_role(actor=None, user=second_head, role=Role.DEPT_HEAD, department=receiving.budget)
    document = to_handle(receiving)
    task = handle_tasks(document)["预算处"]
    assert task.owner is None
    assert set(TaskCandidate.objects.filter(task=task).values_list("user_id", flat=True)) == {
        receiving.budget_head.pk,
        second_head.pk,
    }

    claim_incoming(task, actor=second_head)
    with pytest.raises(FlowError) as late:
        claim_incoming(task, actor=receiving.budget_head)

    assert late.value.message == f"该任务已由{second_head.real_name}签收办理。"


def test_someone_who_does_not_hold_the_task_cannot_complete_it(receiving: Any) -> None:
    document = to_propose(receiving)

    with pytest.raises(FlowError) as refused:
        act(open_task(document, "propose"), receiving.budget_head, handling_kind="reading")

    assert refused.value.message == "您不是该任务的办理人。"


def test_a_finished_task_posted_again_is_told_it_is_done(receiving: Any) -> None:
    document = signed(receiving)
    task = open_task(document, "register")
    act(task, receiving.clerk)

    with pytest.raises(FlowError) as again:
        act(task, receiving.clerk)

    assert again.value.message == "该任务已办理，无需重复提交。"


# --- registration by hand ----------------------------------------------------------------------------


def test_registration_by_hand_with_a_scanned_pdf_starts_the_flow(receiving: Any) -> None:
    document = register_by_hand(**by_hand_fields(receiving))

    record = document.incoming
    assert record.by_hand
    assert record.exchange is None
    assert record.source_name == "广东省审计厅"
    assert record.copies == 2
    [scan] = document.attachments.all()
    assert scan.title == "来文扫描件"
    task = open_task(document, "register")
    assert task.owner == receiving.clerk
    act(task, receiving.clerk)
    document.incoming.refresh_from_db()
    assert document.incoming.number.startswith("粤财收〔")
    # 退文 of a paper 收文: no exchange record, the 收文 is marked 已退文.
    act(
        open_task(document, "screen"),
        receiving.secretary,
        decision=Decision.SEND_BACK,
        return_reason=ReturnReason.WRONG_RECIPIENT,
        return_note="应报送省审计厅。",
    )
    assert state_of(document) == DocumentState.RETURNED


def test_registration_by_hand_refuses_an_exe_before_storing_anything(receiving: Any) -> None:
    from officeapp.blobs.models import Blob
    from tests.blobs.conftest import EXE_BYTES

    blobs = Blob.objects.count()
    exe = scanned("来文.exe", EXE_BYTES)

    with pytest.raises(FlowError) as refused:
        register_by_hand(**by_hand_fields(receiving, scanned_file=exe))

    assert refused.value.message.startswith("扫描件未保存：不支持的文件类型")
    assert Blob.objects.count() == blobs
    assert not IncomingRecord.objects.filter(source_name="广东省审计厅").exists()


def test_registration_by_hand_refuses_missing_fields_and_people_outside_the_office(receiving: Any) -> None:
    with pytest.raises(FlowError) as no_source:
        register_by_hand(**by_hand_fields(receiving, source_name=""))
    with pytest.raises(FlowError) as no_scan:
        register_by_hand(**by_hand_fields(receiving, scanned_file=None))
    with pytest.raises(FlowError) as outsider:
        register_by_hand(**by_hand_fields(receiving, actor=receiving.budget_staff))

    assert no_source.value.message == "请填写来文单位。"
    assert no_scan.value.message == "请上传来文扫描件。"
    assert outsider.value.message == "只有本机关的收发员或办公室人员可以登记收文。"
    assert not IncomingRecord.objects.exists()


def test_a_scanned_file_too_large_is_refused(receiving: Any, settings: Any) -> None:
    settings.UPLOAD_MAX_BYTES = 20

    with pytest.raises(FlowError) as refused:
        register_by_hand(**by_hand_fields(receiving))

    assert "文件过大" in refused.value.message


def test_a_docx_scan_is_accepted(receiving: Any) -> None:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
        zf.writestr("[Content_Types].xml", "<Types/>")
    document = register_by_hand(
        **by_hand_fields(receiving, scanned_file=scanned("来文.docx", buffer.getvalue()))
    )

    assert document.attachments.get().filename == "来文.docx"


# --- signature, outbox, archive package -------------------------------------------------------------


def test_a_leader_signs_the_instruction_by_hand_as_in_outgoing(receiving: Any) -> None:
    from tests.blobs.conftest import PNG_BYTES

    document = to_instruct(receiving)

    opinion = act(
        open_task(document, "instruct"),
        receiving.leader,
        lead_unit=receiving.budget,
        signature=scanned("签名.png", PNG_BYTES),
    )

    assert opinion.signature is not None
    assert opinion.signature.content_type == "image/png"


def test_each_step_is_emitted_to_the_outbox_and_pushed_to_the_next_holder(
    receiving: Any, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from officeapp.outbox.models import OutboxEvent
    from workflows import live

    document = signed(receiving)
    task = open_task(document, "register")
    frames: list[Any] = []
    monkeypatch.setattr(live, "send_to_groups", lambda batch: frames.extend(batch))

    with django_capture_on_commit_callbacks(execute=True):
        act(task, receiving.clerk)

    event = OutboxEvent.objects.filter(topic="workflows.task.completed", object_id=str(task.pk)).get()
    assert event.payload == {"step": "register", "decision": "agree", "flow": "incoming"}
    pushed = {(group, frame["frame"]["action"]) for group, frame in frames}
    from officeapp.notify.relay import user_group

    assert (user_group(receiving.secretary.pk), "created") in pushed
    assert (user_group(receiving.clerk.pk), "closed") in pushed


def test_an_archived_incoming_documents_package_holds_its_files_and_record(receiving: Any) -> None:
    import json
    import zipfile

    from documents.archiving import archive_package

    document = register_by_hand(**by_hand_fields(receiving))
    for step, who, fields in [
        ("register", receiving.clerk, {}),
        ("screen", receiving.secretary, {}),
        ("propose", receiving.director, {"handling_kind": "reading"}),
        ("assign", receiving.secretary, {"readers": [receiving.chief]}),
        ("complete", receiving.secretary, {}),
        ("archive", receiving.archivist, {"retention": "permanent"}),
    ]:
        act(open_task(document, step), who, **fields)

    document.refresh_from_db()
    with zipfile.ZipFile(io.BytesIO(archive_package(document))) as package:
        names = package.namelist()
        metadata = json.loads(package.read("metadata.json"))
    assert any(name.startswith("附件/附件1 来文扫描件") for name in names)
    assert metadata["document"]["category"] == "incoming"
    assert metadata["document"]["state"] == "archived"


def test_assign_keeps_the_instructed_units_unless_it_names_others(receiving: Any) -> None:
    document = to_instruct(receiving)
    act(
        open_task(document, "instruct"),
        receiving.leader,
        lead_unit=receiving.budget,
        co_units=[receiving.treasury],
    )

    # The page posts an empty choice when the 文秘 changes nothing.
    act(open_task(document, "assign"), receiving.secretary, lead_unit=None, co_units=[])

    assert set(handle_tasks(document)) == {"预算处", "国库处"}


def test_registering_again_after_a_return_keeps_the_incoming_number(receiving: Any) -> None:
    from documents.models import IncomingSequence

    document = signed(receiving)
    act(open_task(document, "register"), receiving.clerk)
    act(
        open_task(document, "screen"),
        receiving.secretary,
        decision=Decision.RETURN,
        return_to="register",
        opinion="来文字号登记有误，请更正。",
    )
    act(
        open_task(document, "register"), receiving.clerk, registration={"source_number": "粤府办〔2026〕11号"}
    )

    document.incoming.refresh_from_db()
    assert document.incoming.number == f"粤财收〔{timezone.localdate().year}〕1号"
    assert document.incoming.source_number == "粤府办〔2026〕11号"
    assert IncomingSequence.objects.get(agency=receiving.cast.finance).last_serial == 1
    assert open_task(document, "screen").owner == receiving.secretary
