"""The 督办 flow from 立项 to 归档 (flows.md §3): who gets each step, what each step records, and
every refusal leaving the item as it was — the not-ours loop, 退办/重办, a new 批示, 代 under a
delegation, 督办编号 gap-free per agency and year, the source record linked through the registry."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from officeapp.audit.models import AuditEvent
from officeapp.org.models import Delegation, DelegationScope
from officeapp.outbox.models import OutboxEvent
from workflows.models import (
    Decision,
    ExtensionState,
    ItemState,
    Opinion,
    ProgressReport,
    ReportKind,
    ReportState,
    SupervisionItem,
    SupervisionParticipant,
    SupervisionProcess,
    SupervisionSource,
    SupervisionUnit,
    TaskCandidate,
    TaskDue,
)
from workflows.supervision import (
    FlowError,
    SupervisionStepInput,
    claim_supervision,
    complete_supervision_step,
    decide_extension,
    initiate,
    item_history,
    request_extension,
    screen_extension,
    sign_off_report,
    transfer_supervision,
    write_report,
)

pytestmark = pytest.mark.django_db


def today() -> date:
    return timezone.localdate()


def new_item(s: Any, **fields: Any) -> SupervisionItem:
    """A 批示 item of 省府办公厅, led by 综合处 with 秘书处 helping, due in 30 days."""
    values: dict[str, Any] = {
        "actor": s.supervisor,
        "agency": s.cast.gov_office,
        "source": SupervisionSource.INSTRUCTION,
        "title": "推进政务服务一网通办",
        "requirement": "每月报送进展",
        "instruction": "请办公厅牵头抓好落实。",
        "lead_unit": s.cast.general_dept,
        "co_units": [s.cast.secretariat],
        "received_on": today() - timedelta(days=3),
        "due_on": today() + timedelta(days=30),
        "leader": s.leader,
    }
    values.update(fields)
    return initiate(**values)


def open_tasks(item: SupervisionItem, step: str | None = None) -> list[Task]:
    process = SupervisionProcess.objects.get(item=item)
    tasks = Task.objects.filter(process=process, status__in=(STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED))
    found = [t for t in tasks.order_by("pk") if step is None or t.flow_task.name == step]
    return found


def act(item: SupervisionItem, step: str, actor: Any, **fields: Any) -> Opinion:
    [task] = open_tasks(item, step)
    return complete_supervision_step(task, actor=actor, step_input=SupervisionStepInput(**fields))


def fresh(item: SupervisionItem) -> SupervisionItem:
    return SupervisionItem.objects.get(pk=item.pk)


def to_accept(s: Any, item: SupervisionItem) -> None:
    act(item, "register", s.supervisor)
    act(item, "propose", s.supervisor, opinion="拟请综合处牵头办理")
    act(item, "approve", s.office_director, opinion="同意")
    act(item, "assign", s.supervisor)


def to_handle(s: Any, item: SupervisionItem) -> None:
    to_accept(s, item)
    act(item, "accept", s.dept_head)


def complete_by_report(s: Any, item: SupervisionItem, text: str = "已全部完成") -> ProgressReport:
    report = write_report(item, actor=s.general_staff, kind=ReportKind.COMPLETION, text=text, percentage=100)
    return sign_off_report(report, actor=s.dept_head)


# --- 立项 and 登记编号 ---------------------------------------------------------------------------


def test_initiate_opens_the_item_with_its_units_and_gives_register_to_the_supervisor(
    supervision: Any,
) -> None:
    s = supervision
    item = new_item(s)

    assert item.state == ItemState.REGISTER
    assert item.number == ""
    [task] = open_tasks(item)
    assert task.flow_task.name == "register"
    assert task.owner == s.supervisor
    assert task.data["url"] == f"/workflows/supervision/tasks/{task.pk}/"
    assert task.data["step_label"] == "登记编号"
    units = {(u.department_id, u.is_lead) for u in SupervisionUnit.objects.filter(item=item)}
    assert units == {(s.cast.general_dept.pk, True), (s.cast.secretariat.pk, False)}
    assert item.co_units == [{"kind": "department", "id": s.cast.secretariat.pk, "label": "秘书处"}]
    assert AuditEvent.objects.filter(
        action="workflows.supervision_initiated", object_id=str(item.pk)
    ).exists()
    assert OutboxEvent.objects.filter(
        topic="workflows.supervision.initiated", object_id=str(item.pk)
    ).exists()
    # The 批示 it came from opens the item's 批示 history.
    assert Opinion.objects.filter(item=item, text__contains="请办公厅牵头抓好落实").exists()


def test_register_numbers_items_gap_free_per_agency_and_year(supervision: Any) -> None:
    s = supervision
    first, second = new_item(s), new_item(s, title="第二件")

    act(second, "register", s.supervisor)
    act(first, "register", s.supervisor)

    year = today().year
    assert fresh(second).number == f"粤府办督〔{year}〕1号"
    assert fresh(first).number == f"粤府办督〔{year}〕2号"
    assert fresh(first).state == ItemState.PROPOSE


def test_an_agency_without_a_prefix_numbers_as_duban(supervision: Any) -> None:
    s = supervision
    agency = s.cast.gov_office
    agency.number_prefix = ""
    agency.save(update_fields=["number_prefix"])

    item = new_item(s)
    act(item, "register", s.supervisor)

    assert fresh(item).number == f"督办〔{today().year}〕1号"


def test_a_register_sent_back_and_done_again_keeps_its_number(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    act(item, "register", s.supervisor)
    act(item, "propose", s.supervisor, decision=Decision.RETURN, return_to="register", opinion="来源写错")
    act(item, "register", s.supervisor)

    assert fresh(item).number == f"粤府办督〔{today().year}〕1号"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"due_on": "before"}, "完成时限不能早于收到时间"),
        ({"title": "  "}, "请填写督办事项"),
        ({"received_on": "tomorrow"}, "收到时间不能晚于今天"),
        ({"due_in_working_days": 0, "due_on": None}, "须大于0"),
        ({"report_frequency": "custom"}, "自定义反馈频次须填写间隔工作日数"),
    ],
)
def test_initiate_refuses_bad_input_and_creates_nothing(supervision: Any, change: dict, message: str) -> None:
    s = supervision
    values = dict(change)
    if values.get("due_on") == "before":
        values["due_on"] = today() - timedelta(days=10)
    if values.get("received_on") == "tomorrow":
        values["received_on"] = today() + timedelta(days=1)

    with pytest.raises(FlowError, match=message):
        new_item(s, **values)

    assert not SupervisionItem.objects.exists()
    assert not SupervisionProcess.objects.exists()


def test_initiate_refuses_a_closed_unit_by_name(supervision: Any) -> None:
    s = supervision
    secretariat = s.cast.secretariat
    secretariat.is_active = False
    secretariat.save(update_fields=["is_active"])

    with pytest.raises(FlowError, match="秘书处已撤销（停用），不能作为协办单位"):
        new_item(s)

    assert not SupervisionItem.objects.exists()


def test_initiate_refuses_a_department_of_another_agency(supervision: Any) -> None:
    s = supervision
    with pytest.raises(FlowError, match="不是本机关的处室"):
        new_item(s, lead_unit=s.receiving.budget)


def test_only_the_supervising_office_may_initiate(supervision: Any) -> None:
    s = supervision
    with pytest.raises(FlowError, match="只有本机关的督查员或办公室可以立项"):
        new_item(s, actor=s.dept_head)
    with pytest.raises(FlowError, match="只有本机关的督查员或办公室可以立项"):
        new_item(s, actor=s.receiving.director)


def test_a_deadline_in_working_days_counts_from_the_assign_day(supervision: Any) -> None:
    from officeapp.calendar.workdays import add_working_days

    s = supervision
    item = new_item(s, due_on=None, due_in_working_days=10)
    to_accept(s, item)

    assert fresh(item).due_on == add_working_days(today(), 10).due_on


# --- the source record -------------------------------------------------------------------------


def test_the_source_document_is_linked_for_those_who_may_see_it(supervision: Any) -> None:
    from tests.documents.exchange_factories import make_sealed
    from workflows.supervision_sources import register_default_sources, source_link

    register_default_sources()
    s = supervision
    document = make_sealed(s.cast, number="粤府办〔2026〕9号")

    # The 督查员 links only what he may open himself; the office sees the agency's documents.
    with pytest.raises(FlowError, match="您无权查看所选的来源记录"):
        new_item(s, source=SupervisionSource.DOCUMENT, source_object=document)
    item = new_item(s, actor=s.office_director, source=SupervisionSource.DOCUMENT, source_object=document)

    link = source_link(item, s.office_director)
    assert link is not None
    assert link.url == f"/documents/{document.pk}/"
    assert "粤府办〔2026〕9号" in link.label
    # Someone who may not open the document sees its label, not a link.
    outsider_link = source_link(item, s.receiving.budget_staff)
    assert outsider_link is not None and outsider_link.url == ""


def test_an_unregistered_kind_of_source_is_refused(supervision: Any) -> None:
    s = supervision
    with pytest.raises(FlowError, match="不支持以该类记录作为督办来源"):
        new_item(s, source_object=s.cast.general_dept)


# --- 拟办 … 交办 -----------------------------------------------------------------------------------


def test_approve_goes_to_the_office_director_and_assign_back_to_the_supervisor(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    act(item, "register", s.supervisor)
    act(item, "propose", s.supervisor)

    [approve] = open_tasks(item, "approve")
    assert approve.owner == s.office_director
    act(item, "approve", s.office_director, changes={"requirement": "每两周报送一次"})
    [assign] = open_tasks(item, "assign")
    assert assign.owner == s.supervisor
    assert fresh(item).requirement == "每两周报送一次"


def test_assign_refuses_a_unit_closed_since_initiate_and_keeps_the_step(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    act(item, "register", s.supervisor)
    act(item, "propose", s.supervisor)
    act(item, "approve", s.office_director)
    general = s.cast.general_dept
    general.is_active = False
    general.save(update_fields=["is_active"])

    with pytest.raises(FlowError, match="综合处已撤销（停用）"):
        act(item, "assign", s.supervisor)

    assert fresh(item).state == ItemState.ASSIGN
    assert len(open_tasks(item, "assign")) == 1


def test_assign_refuses_a_deadline_already_past(supervision: Any) -> None:
    s = supervision
    item = new_item(s, received_on=today() - timedelta(days=20), due_on=today() - timedelta(days=1))
    act(item, "register", s.supervisor)
    act(item, "propose", s.supervisor)
    act(item, "approve", s.office_director)

    with pytest.raises(FlowError, match="已过，请先调整完成时限再交办"):
        act(item, "assign", s.supervisor)
    # Adjusting it at 交办 lets it through.
    act(item, "assign", s.supervisor, changes={"due_on": today() + timedelta(days=5)})
    assert fresh(item).state == ItemState.ACCEPT


def test_accept_goes_to_the_lead_units_heads_with_the_deadline_as_due(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_accept(s, item)

    [task] = open_tasks(item, "accept")
    assert task.owner == s.dept_head
    assert task.data["deadline"] == item.due_on.isoformat()
    assert task.data["unit"]["label"] == "综合处"
    assert TaskDue.objects.get(task=task).due_on == item.due_on
    # The 协办 unit's head may open the item now.
    assert SupervisionParticipant.objects.filter(item=item, user=s.secretariat_head).exists()


def test_an_agency_as_lead_unit_signs_for_it_through_its_office(supervision: Any) -> None:
    s = supervision
    item = new_item(s, lead_unit=s.cast.finance, co_units=[])
    to_accept(s, item)

    [task] = open_tasks(item, "accept")
    assert task.owner == s.receiving.director


def test_changes_are_refused_outside_the_adjusting_steps(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_accept(s, item)

    with pytest.raises(FlowError, match="签收环节不能修改督办通知单"):
        act(item, "accept", s.dept_head, changes={"title": "改了"})
    assert fresh(item).title == "推进政务服务一网通办"


# --- 签收: not ours --------------------------------------------------------------------------------


def test_not_ours_needs_a_reason_and_goes_back_to_propose_with_it(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_accept(s, item)

    with pytest.raises(FlowError, match="请写明不属于本单位职责的理由"):
        act(item, "accept", s.dept_head, decision=Decision.NOT_OURS)
    assert fresh(item).state == ItemState.ACCEPT

    act(item, "accept", s.dept_head, decision=Decision.NOT_OURS, opinion="属秘书处职责")

    [propose] = open_tasks(item, "propose")
    assert propose.owner == s.supervisor
    assert propose.data["returned"]["reason"] == "属秘书处职责"
    assert fresh(item).state == ItemState.PROPOSE
    # The 督查员 re-proposes 秘书处 as lead; its head signs for it.
    act(
        item,
        "propose",
        s.supervisor,
        changes={"lead_unit": s.cast.secretariat, "co_units": [s.cast.general_dept]},
    )
    act(item, "approve", s.office_director)
    act(item, "assign", s.supervisor)
    [accept] = open_tasks(item, "accept")
    assert accept.owner == s.secretariat_head
    assert fresh(item).lead_department == s.cast.secretariat


def test_return_at_accept_points_to_not_ours(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_accept(s, item)
    with pytest.raises(FlowError, match="非本单位职责"):
        act(item, "accept", s.dept_head, decision=Decision.RETURN, return_to="assign", opinion="x")


# --- 承办, 审核 -------------------------------------------------------------------------------------


def test_handle_is_completed_by_the_lead_units_signed_completion_report(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_handle(s, item)

    with pytest.raises(FlowError, match="请先报送经单位负责人审签的办结报告"):
        act(item, "handle", s.dept_head)

    report = write_report(
        item, actor=s.general_staff, kind=ReportKind.COMPLETION, text="已完成", percentage=100
    )
    assert fresh(item).state == ItemState.HANDLE
    sign_off_report(report, actor=s.dept_head)

    item = fresh(item)
    assert item.state == ItemState.REVIEW
    assert item.completed_at is not None
    [review] = open_tasks(item, "review")
    assert review.owner == s.supervisor
    assert Opinion.objects.filter(item=item, step="handle", author=s.dept_head, text="报送办结报告").exists()


def test_review_disagree_needs_a_reason_and_returns_the_completion_to_handle(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_handle(s, item)
    report = complete_by_report(s, item)

    with pytest.raises(FlowError, match="退办/重办须写明理由"):
        act(item, "review", s.supervisor, decision=Decision.DISAGREE)
    with pytest.raises(FlowError, match="请选择“退办/重办”"):
        act(item, "review", s.supervisor, decision=Decision.RETURN, return_to="handle", opinion="重办")
    assert fresh(item).state == ItemState.REVIEW

    act(item, "review", s.supervisor, decision=Decision.DISAGREE, opinion="数据不实，请重办")

    report.refresh_from_db()
    assert report.state == ReportState.RETURNED
    assert report.review_note == "数据不实，请重办"
    item = fresh(item)
    assert item.state == ItemState.HANDLE
    assert item.completed_at is None
    [handle] = open_tasks(item, "handle")
    assert handle.data["returned"]["reason"] == "数据不实，请重办"


def test_review_agree_accepts_every_report_of_the_record(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_handle(s, item)
    progress = sign_off_report(
        write_report(item, actor=s.general_staff, text="已完成一半", percentage=50), actor=s.dept_head
    )
    completion = complete_by_report(s, item)

    act(item, "review", s.supervisor)

    assert {r.state for r in ProgressReport.objects.filter(pk__in=[progress.pk, completion.pk])} == {
        ReportState.ACCEPTED
    }
    assert fresh(item).state == ItemState.LEADER_REVIEW
    [task] = open_tasks(item, "leader_review")
    assert task.owner == s.leader


# --- 报送领导审阅, 销号, 归档 -------------------------------------------------------------------------


def test_a_new_instruction_goes_into_the_history_and_back_to_assign(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_handle(s, item)
    complete_by_report(s, item)
    act(item, "review", s.supervisor)

    act(item, "leader_review", s.leader, instruction="请进一步推广到各地市。")

    item = fresh(item)
    assert item.state == ItemState.ASSIGN
    assert item.completed_at is None
    assert Opinion.objects.filter(
        item=item, step="leader_review", decision=Decision.NOTE, text="领导批示：请进一步推广到各地市。"
    ).exists()
    act(item, "assign", s.supervisor)
    act(item, "accept", s.dept_head)
    # The earlier accepted 办结报告 does not count again: a new one is needed.
    with pytest.raises(FlowError, match="请先报送"):
        act(item, "handle", s.dept_head)


def test_leader_review_without_a_leader_goes_to_the_leader_over_the_lead_unit(supervision: Any) -> None:
    s = supervision
    item = new_item(s, leader=None)
    to_handle(s, item)
    complete_by_report(s, item)
    act(item, "review", s.supervisor)

    [task] = open_tasks(item, "leader_review")
    # 王德明 分管 综合处.
    assert task.owner == s.leader


def test_the_whole_flow_with_an_extension_and_a_returned_completion(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_handle(s, item)
    sign_off_report(
        write_report(item, actor=s.general_staff, text="已召开协调会", percentage=30), actor=s.dept_head
    )
    # 延期: asked, screened, approved — both dates kept.
    old_due = fresh(item).due_on
    ext = request_extension(
        item,
        actor=s.dept_head,
        reason="涉及多部门协调",
        progress="已完成方案",
        new_due_on=old_due + timedelta(days=15),
    )
    screen_extension(ext, actor=s.supervisor, forward=True, note="情况属实")
    decide_extension(ext, actor=s.leader, approve=True, note="同意")
    ext.refresh_from_db()
    assert (ext.state, ext.current_due_on, ext.requested_due_on) == (
        ExtensionState.APPROVED,
        old_due,
        old_due + timedelta(days=15),
    )
    assert fresh(item).due_on == old_due + timedelta(days=15)
    [handle] = open_tasks(item, "handle")
    assert TaskDue.objects.get(task=handle).due_on == old_due + timedelta(days=15)
    # A completion returned once, then accepted.
    complete_by_report(s, item, "初步完成")
    act(item, "review", s.supervisor, decision=Decision.DISAGREE, opinion="请补充数据")
    complete_by_report(s, item, "已补充数据，全部完成")
    act(item, "review", s.supervisor, opinion="审核通过")
    act(item, "leader_review", s.leader, opinion="已阅，同意销号")
    act(item, "close", s.supervisor)
    item = fresh(item)
    assert item.closed_at is not None
    assert item.state == ItemState.ARCHIVE
    [archive] = open_tasks(item, "archive")
    assert archive.owner == s.archivist

    with pytest.raises(FlowError, match="请选择保管期限"):
        act(item, "archive", s.archivist)
    act(item, "archive", s.archivist, retention="10y")

    item = fresh(item)
    assert item.state == ItemState.ARCHIVED
    assert item.archived_at is not None
    assert SupervisionProcess.objects.get(item=item).status == PROCESS.DONE
    assert open_tasks(item) == []
    # Read-only afterwards.
    with pytest.raises(FlowError, match="已办结销号"):
        write_report(item, actor=s.general_staff, text="补充", percentage=100)
    history = item_history(item)
    whats = [h.what for h in history]
    assert any(w.startswith("延期申请") for w in whats)
    assert any("退回重报" in w for w in whats)
    assert any(w.startswith("归档") for w in whats)
    assert [h.time for h in history] == sorted(h.time for h in history)
    steps = set(
        AuditEvent.objects.filter(
            action="workflows.supervision_step_completed", object_id=str(item.pk)
        ).values_list("details__step", flat=True)
    )
    assert steps == {
        "register",
        "propose",
        "approve",
        "assign",
        "accept",
        "handle",
        "review",
        "leader_review",
        "close",
        "archive",
    }


def test_a_step_is_emitted_and_pushed_to_the_next_holder_after_commit(
    supervision: Any, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from officeapp.notify.relay import user_group
    from workflows import live

    s = supervision
    item = new_item(s)
    act(item, "register", s.supervisor)
    act(item, "propose", s.supervisor)
    [task] = open_tasks(item, "approve")
    frames: list[Any] = []
    monkeypatch.setattr(live, "send_to_groups", lambda batch: frames.extend(batch))

    with django_capture_on_commit_callbacks(execute=True):
        act(item, "approve", s.office_director)

    event = OutboxEvent.objects.get(topic="workflows.task.completed", object_id=str(task.pk))
    assert event.payload == {"step": "approve", "decision": "agree", "flow": "supervision", "item": item.pk}
    pushed = {(group, frame["frame"]["action"]) for group, frame in frames}
    assert (user_group(s.supervisor.pk), "created") in pushed
    assert (user_group(s.office_director.pk), "closed") in pushed


# --- delegation, claim, transfer --------------------------------------------------------------


def _delegate(from_user: Any, to_user: Any, scope: str = DelegationScope.SUPERVISION) -> Delegation:
    now = timezone.now()
    return Delegation.objects.create(
        from_user=from_user,
        to_user=to_user,
        scope=scope,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=2),
        reason="出差",
    )


def test_a_delegate_gets_the_leaders_review_and_signs_it_as_dai(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_handle(s, item)
    complete_by_report(s, item)
    _delegate(s.leader, s.chief)
    act(item, "review", s.supervisor)

    [task] = open_tasks(item, "leader_review")
    assert task.owner == s.chief
    opinion = act(item, "leader_review", s.chief)

    assert opinion.author == s.chief
    assert opinion.on_behalf_of == s.leader
    assert "代王德明" in [h.who for h in item_history(item) if h.what.startswith("报送领导审阅")][0]


def test_a_delegation_made_after_assignment_lets_the_delegate_act_as_dai(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_handle(s, item)
    complete_by_report(s, item)
    act(item, "review", s.supervisor)
    _delegate(s.leader, s.chief)

    opinion = act(item, "leader_review", s.chief)

    assert opinion.on_behalf_of == s.leader


def test_a_delegation_of_another_scope_does_not_count(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_handle(s, item)
    complete_by_report(s, item)
    _delegate(s.leader, s.chief, scope=DelegationScope.OUTGOING)
    act(item, "review", s.supervisor)

    [task] = open_tasks(item, "leader_review")
    assert task.owner == s.leader
    with pytest.raises(FlowError, match="您不是该任务的办理人"):
        act(item, "leader_review", s.chief)


def test_a_unit_with_two_heads_signs_for_it_first_come(supervision: Any) -> None:
    from officeapp.org import services
    from officeapp.org.models import Role

    s = supervision
    services.grant_role(actor=None, user=s.general_staff, role=Role.DEPT_HEAD, department=s.cast.general_dept)
    item = new_item(s)
    to_accept(s, item)
    [task] = open_tasks(item, "accept")
    assert task.owner is None
    assert set(TaskCandidate.objects.filter(task=task).values_list("user_id", flat=True)) == {
        s.dept_head.pk,
        s.general_staff.pk,
    }

    claim_supervision(task, actor=s.general_staff)
    with pytest.raises(FlowError, match="已由综合科员签收办理"):
        claim_supervision(task, actor=s.dept_head)
    with pytest.raises(FlowError, match="您不是该任务的办理人"):
        act(item, "accept", s.dept_head)
    act(item, "accept", s.general_staff)
    assert fresh(item).state == ItemState.HANDLE


def test_transfer_within_the_unit_only(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_accept(s, item)
    [task] = open_tasks(item, "accept")

    with pytest.raises(FlowError, match="只能转给综合处的人员办理"):
        transfer_supervision(task, actor=s.dept_head, to_user=s.secretariat_head)
    transfer_supervision(task, actor=s.dept_head, to_user=s.general_staff, reason="请小王签收")

    task.refresh_from_db()
    assert task.owner == s.general_staff
    assert SupervisionParticipant.objects.filter(item=item, user=s.general_staff).exists()
    with pytest.raises(FlowError, match="只有当前办理人或督查室可以转办"):
        transfer_supervision(task, actor=s.secretariat_head, to_user=s.dept_head)


def test_a_finished_task_cannot_be_completed_twice(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    [task] = open_tasks(item, "register")
    complete_supervision_step(task, actor=s.supervisor, step_input=SupervisionStepInput())

    with pytest.raises(FlowError, match="该任务已办理"):
        complete_supervision_step(task, actor=s.supervisor, step_input=SupervisionStepInput())
    assert fresh(item).serial == 1


# --- the demo ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """The province, its 发文 (the documents items link to) and the 督办 demo, rolled back after."""
    from io import StringIO

    from django.db import transaction

    from officeapp.demo import load_demo_province
    from workflows.demo import build_outgoing_demo
    from workflows.supervision_demo import build_supervision_demo
    from workflows.supervision_sources import register_default_sources

    register_default_sources()
    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        load_demo_province(stdout=out.write)
        build_outgoing_demo(out.write)
        yield build_supervision_demo(out.write)
        transaction.set_rollback(True)


def test_the_demo_supervises_items_in_every_state_with_all_three_lights(demo: str) -> None:
    from workflows.models import ExtensionRequest

    items = SupervisionItem.objects.filter(agency__code="GD-BGT")
    assert 20 <= items.filter(parent__isnull=True).count() <= 30
    states = set(items.values_list("state", flat=True))
    assert states >= {s.value for s in ItemState if s != ItemState.TERMINATED}
    assert set(items.values_list("light", flat=True)) == {"green", "yellow", "red"}
    assert set(items.values_list("source", flat=True)) >= {
        SupervisionSource.INSTRUCTION,
        SupervisionSource.MEETING,
        SupervisionSource.DOCUMENT,
    }
    assert items.filter(source_type__isnull=False).exists()
    assert ExtensionRequest.objects.filter(state=ExtensionState.APPROVED).count() == 1
    assert ExtensionRequest.objects.filter(state=ExtensionState.REFUSED).count() == 1
    assert ProgressReport.objects.filter(state=ReportState.RETURNED).exists()
    assert ProgressReport.objects.filter(contributes_to__isnull=False).exists()
    assert items.filter(parent__isnull=False).count() == 2
    assert Opinion.objects.filter(item__in=items, decision=Decision.NOT_OURS).exists()
    assert Opinion.objects.filter(item__in=items, step="leader_review", decision=Decision.NOTE).exists()
    assert "督办" in demo
