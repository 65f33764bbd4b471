"""Around the 督办 flow: 进展反馈 and 办结报告 with the unit head's 审签, 协办 contributions, 延期申请
with its 初审 and 审批 (and every refusal), 分解 into sub-items rolled up to the parent, and who
sees which item (a department head her units' items, a leader his 分管)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from officeapp.audit.models import AuditEvent
from officeapp.outbox.models import OutboxEvent
from tests.workflows.test_supervision_flow import (
    act,
    complete_by_report,
    fresh,
    new_item,
    open_tasks,
    to_accept,
    to_handle,
    today,
)
from workflows.access import visible_items
from workflows.models import (
    ExtensionRequest,
    ExtensionState,
    ItemState,
    ProgressReport,
    ReportKind,
    ReportState,
    SupervisionItem,
    SupervisionProcess,
)
from workflows.supervision import (
    FlowError,
    decide_extension,
    item_history,
    request_extension,
    screen_extension,
    sign_off_report,
    split_item,
    write_report,
)

pytestmark = pytest.mark.django_db


# --- 进展反馈 ---------------------------------------------------------------------------------------


def test_a_progress_report_counts_once_the_unit_head_signs_it(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_handle(s, item)

    report = write_report(item, actor=s.general_staff, text="已完成方案起草", percentage=40)

    assert report.state == ReportState.DRAFT
    assert report.unit_label == "综合处" and report.is_lead
    assert fresh(item).progress == 0
    sign_off_report(report, actor=s.dept_head)

    report.refresh_from_db()
    assert report.state == ReportState.SUBMITTED
    assert report.signed_off_by == s.dept_head
    item = fresh(item)
    assert item.progress == 40
    assert item.last_report_at is not None
    assert item.state == ItemState.HANDLE
    assert AuditEvent.objects.filter(
        action="workflows.supervision_report_signed", object_id=str(item.pk)
    ).exists()
    assert OutboxEvent.objects.filter(topic="workflows.supervision.report_submitted").exists()


def test_a_report_keeps_its_attachments(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_handle(s, item)
    upload = SimpleUploadedFile(
        "进展.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf"
    )

    report = write_report(item, actor=s.general_staff, text="见附件", percentage=10, files=[upload])

    assert [a.filename for a in report.attachments.all()] == ["进展.pdf"]


@pytest.mark.parametrize(
    ("text", "percentage", "message"),
    [
        ("", 10, "请填写进展情况"),
        ("有进展", 101, "完成进度须为0到100之间的整数"),
        ("有进展", "abc", "完成进度须为"),
    ],
)
def test_a_report_needs_text_and_a_sensible_percentage(
    supervision: Any, text: str, percentage: Any, message: str
) -> None:
    s = supervision
    item = new_item(s)
    to_handle(s, item)
    with pytest.raises(FlowError, match=message):
        write_report(item, actor=s.general_staff, text=text, percentage=percentage)
    assert not ProgressReport.objects.exists()


def test_only_people_of_the_items_units_report(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_handle(s, item)
    with pytest.raises(FlowError, match="只有该事项的承办单位人员可以报送反馈"):
        write_report(item, actor=s.receiving.budget_staff, text="x", percentage=1)


def test_no_report_before_accept_nor_on_a_closed_item(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_accept(s, item)
    with pytest.raises(FlowError, match="尚未交办签收"):
        write_report(item, actor=s.general_staff, text="x", percentage=1)
    act(item, "accept", s.dept_head)
    complete_by_report(s, item)
    act(item, "review", s.supervisor)
    with pytest.raises(FlowError, match="正在报送领导审阅"):
        write_report(item, actor=s.general_staff, text="x", percentage=1)
    act(item, "leader_review", s.leader)
    act(item, "close", s.supervisor)
    with pytest.raises(FlowError, match="该督办事项已办结销号，不能再报送反馈"):
        write_report(item, actor=s.general_staff, text="x", percentage=1)
    assert ProgressReport.objects.filter(item=item).count() == 1


def test_sign_off_is_for_the_units_head_once(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_handle(s, item)
    report = write_report(item, actor=s.general_staff, text="x", percentage=10)

    with pytest.raises(FlowError, match="只有综合处负责人可以审签反馈"):
        sign_off_report(report, actor=s.secretariat_head)
    sign_off_report(report, actor=s.dept_head)
    with pytest.raises(FlowError, match="该反馈已审签报送"):
        sign_off_report(report, actor=s.dept_head)


def test_a_co_units_report_contributes_to_the_lead_units_report(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_handle(s, item)

    co = write_report(item, actor=s.secretariat_head, text="秘书处已配合完成材料", percentage=60)
    assert co.is_lead is False and co.unit_label == "秘书处"
    lead = write_report(item, actor=s.general_staff, text="综合处汇总", percentage=50)
    co.refresh_from_db()
    assert co.contributes_to == lead
    # A later 协办 report joins the 牵头单位's current draft directly.
    later = write_report(item, actor=s.secretariat_head, text="补充", percentage=70)
    assert later.contributes_to == lead
    # A 协办 report does not move the item's progress; a 办结报告 is the 牵头单位's.
    sign_off_report(co, actor=s.secretariat_head)
    assert fresh(item).progress == 0
    with pytest.raises(FlowError, match="办结报告由牵头单位报送"):
        write_report(item, actor=s.secretariat_head, kind=ReportKind.COMPLETION, text="完成", percentage=100)


def test_a_second_completion_is_refused_while_under_review(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_handle(s, item)
    complete_by_report(s, item)
    with pytest.raises(FlowError, match="办结报告已报送，正在审核"):
        write_report(item, actor=s.general_staff, kind=ReportKind.COMPLETION, text="再报", percentage=100)
    # A late progress report still lands while 审核 is pending, and becomes part of the record.
    late = sign_off_report(
        write_report(item, actor=s.general_staff, text="补报进展", percentage=100), actor=s.dept_head
    )
    act(item, "review", s.supervisor)
    late.refresh_from_db()
    assert late.state == ReportState.ACCEPTED


# --- 延期申请 ---------------------------------------------------------------------------------------


def ask(s: Any, item: SupervisionItem, days: int = 10, **fields: Any) -> ExtensionRequest:
    values: dict[str, Any] = {
        "actor": s.dept_head,
        "reason": "需协调省财政厅",
        "progress": "方案已起草",
        "new_due_on": fresh(item).due_on + timedelta(days=days),
    }
    values.update(fields)
    return request_extension(item, **values)


def test_an_extension_refused_by_the_leader_keeps_the_deadline(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_handle(s, item)
    due = fresh(item).due_on
    ext = ask(s, item)
    screen_extension(ext, actor=s.supervisor, forward=True)

    decide_extension(ext, actor=s.leader, approve=False, note="请按期完成")

    ext.refresh_from_db()
    assert ext.state == ExtensionState.REFUSED
    assert fresh(item).due_on == due
    # Refused, a new request may be made.
    assert ask(s, item, days=5).state == ExtensionState.SUBMITTED


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reason": " "}, "请填写延期理由"),
        ({"progress": ""}, "请填写目前进展"),
        ({"days": 0}, "申请延至的日期须晚于当前完成时限"),
        ({"days": -3}, "申请延至的日期须晚于当前完成时限"),
        ({"actor": "secretariat_head"}, "延期申请由牵头单位提出"),
    ],
)
def test_an_extension_request_is_refused_on_bad_input(supervision: Any, fields: dict, message: str) -> None:
    s = supervision
    item = new_item(s)
    to_handle(s, item)
    if fields.get("actor") == "secretariat_head":
        fields = {**fields, "actor": s.secretariat_head}

    with pytest.raises(FlowError, match=message):
        ask(s, item, **fields)
    assert not ExtensionRequest.objects.exists()


def test_no_extension_after_the_deadline(supervision: Any) -> None:
    s = supervision
    item = new_item(s, received_on=today() - timedelta(days=30), due_on=today() + timedelta(days=1))
    to_handle(s, item)
    SupervisionItem.objects.filter(pk=item.pk).update(due_on=today() - timedelta(days=1))

    with pytest.raises(FlowError, match="已超过完成时限"):
        ask(s, item)


def test_no_second_open_request_and_none_on_a_closed_item(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_handle(s, item)
    ask(s, item)
    with pytest.raises(FlowError, match="已有待审批的延期申请"):
        ask(s, item, days=20)
    assert ExtensionRequest.objects.count() == 1

    closed = new_item(s, title="已销号事项")
    to_handle(s, closed)
    complete_by_report(s, closed)
    act(closed, "review", s.supervisor)
    act(closed, "leader_review", s.leader)
    act(closed, "close", s.supervisor)
    with pytest.raises(FlowError, match="已办结销号，不能申请延期"):
        ask(s, closed)


def test_screening_is_the_supervisors_and_deciding_the_responsible_leaders(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_handle(s, item)
    ext = ask(s, item)

    with pytest.raises(FlowError, match="尚未经督查员初审"):
        decide_extension(ext, actor=s.leader, approve=True)
    with pytest.raises(FlowError, match="只有督查员可以初审延期申请"):
        screen_extension(ext, actor=s.dept_head, forward=True)
    with pytest.raises(FlowError, match="不予转报时须写明理由"):
        screen_extension(ext, actor=s.supervisor, forward=False)
    screen_extension(ext, actor=s.supervisor, forward=True)
    with pytest.raises(FlowError, match="已初审"):
        screen_extension(ext, actor=s.supervisor, forward=True)
    for someone in (s.chief, s.supervisor, s.dept_head):
        with pytest.raises(FlowError, match="只有负责该事项的领导可以审批延期申请"):
            decide_extension(ext, actor=someone, approve=True)
    ext.refresh_from_db()
    assert ext.state == ExtensionState.SCREENED


def test_a_supervisor_may_refuse_to_forward_with_a_reason(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_handle(s, item)
    ext = ask(s, item)

    screen_extension(ext, actor=s.supervisor, forward=False, note="理由不充分")

    ext.refresh_from_db()
    assert ext.state == ExtensionState.REFUSED
    assert ext.screen_note == "理由不充分"
    assert any(h.what == "延期初审：不予转报" for h in item_history(item))


# --- 分解 ---------------------------------------------------------------------------------------------


def parts(s: Any, **override: Any) -> list[dict[str, Any]]:
    return [
        {
            "title": "综合处：制定方案",
            "lead_unit": s.cast.general_dept,
            "due_on": today() + timedelta(days=20),
            **override,
        },
        {"title": "省财政厅：落实资金", "lead_unit": s.cast.finance, "due_on": today() + timedelta(days=25)},
    ]


def test_split_makes_sub_items_each_with_its_own_process(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_handle(s, item)

    children = split_item(item, actor=s.supervisor, parts=parts(s))

    assert [c.parent_id for c in children] == [item.pk, item.pk]
    assert list(fresh(item).children.order_by("pk")) == children
    for child in children:
        assert SupervisionProcess.objects.filter(item=child).exists()
        assert [t.flow_task.name for t in open_tasks(child)] == ["register"]
    assert any(h.kind == "child" for h in item_history(item))


def test_split_refuses_a_part_due_after_the_parent_and_creates_none(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_handle(s, item)

    with pytest.raises(FlowError, match="第1个子事项：子事项的完成时限不能晚于上级事项"):
        split_item(item, actor=s.supervisor, parts=parts(s, due_on=fresh(item).due_on + timedelta(days=1)))
    assert not fresh(item).children.exists()
    with pytest.raises(FlowError, match="只有本机关的督查员或办公室可以分解"):
        split_item(item, actor=s.dept_head, parts=parts(s))


def test_the_parents_progress_rolls_up_from_its_children(supervision: Any) -> None:
    s = supervision
    item = new_item(s)
    to_handle(s, item)
    first, second = split_item(item, actor=s.supervisor, parts=parts(s))
    to_handle(s, first)

    sign_off_report(write_report(first, actor=s.general_staff, text="过半", percentage=60), actor=s.dept_head)

    assert fresh(item).progress == 30
    complete_by_report(s, first)
    assert fresh(item).progress == 50
    assert fresh(second).progress == 0


# --- who sees which item ----------------------------------------------------------------------------


def test_a_department_head_sees_only_her_units_items(supervision: Any) -> None:
    s = supervision
    ours = new_item(s)
    helping = new_item(s, title="秘书处牵头", lead_unit=s.cast.secretariat, co_units=[s.cast.general_dept])
    other = new_item(s, title="财政厅牵头", lead_unit=s.cast.finance, co_units=[])

    seen = set(visible_items(s.dept_head))
    assert {ours, helping} <= seen
    assert other not in seen
    assert set(visible_items(s.receiving.budget_head)) == set()
    assert set(visible_items(s.supervisor)) == {ours, helping, other}


def test_a_leader_sees_his_portfolio_and_what_he_instructed(supervision: Any) -> None:
    s = supervision
    covered = new_item(s, leader=None)  # 综合处: 王德明's 分管
    instructed = new_item(s, title="秘书处牵头", lead_unit=s.cast.secretariat, co_units=[])
    other = new_item(s, title="财政厅牵头", lead_unit=s.cast.finance, co_units=[], leader=s.chief)

    seen = set(visible_items(s.leader))
    assert covered in seen and instructed in seen
    assert other not in seen
    # 省财政厅's leaders see the items their agency leads.
    assert other in set(visible_items(s.receiving.chief))
    assert covered not in set(visible_items(s.receiving.chief))
    # The 主要负责人 (分管 the whole 办公厅) sees every department's items.
    assert {covered, instructed} <= set(visible_items(s.chief))


# --- 催办 through the 收文 mechanism ------------------------------------------------------------------


def test_the_deadline_reaches_the_lead_unit_through_the_reminder_scan(supervision: Any) -> None:
    from officeapp.calendar.workdays import add_working_days
    from workflows.models import Reminder, ReminderKind
    from workflows.urging import scan_reminders

    s = supervision
    due = add_working_days(today(), 10).due_on
    item = new_item(s, due_on=due)
    to_handle(s, item)
    [handle] = open_tasks(item, "handle")

    scan_reminders(today=due)

    reminder = Reminder.objects.get(task=handle, kind=ReminderKind.DUE)
    assert reminder.recipients == [s.dept_head.pk]
    assert any(h.kind == "reminder" and h.what == "到期提醒" for h in item_history(item))
