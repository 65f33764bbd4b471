"""会议纪要: drafted with its 议定事项, issued as a 纪要 in the 发文 flow (纪要格式, 出席/请假 from the
door), and each decision turned into a 督办事项 whose source links back to the meeting."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from documents.models import DocType, Layout
from documents.rendering import spec_for
from meetings import checkin, minutes
from meetings.errors import MeetingError
from meetings.minutes import DecisionInput
from meetings.models import Decision, MeetingStatus, Minutes, Reply
from officeapp.audit.models import AuditEvent
from tests.meetings.factories_c import make_meeting, set_reply
from tests.meetings.meetings_cast import MeetingsCast
from workflows.models import OutgoingProcess, SupervisionSource
from workflows.supervision_sources import source_link

pytestmark = pytest.mark.django_db

BODY = "一、会议听取了全省政务服务工作情况汇报\n会议认为，今年以来各地各部门扎实推进“一网通办”。\n二、会议研究部署了下一步工作"


def due(days: int = 30) -> Any:
    return timezone.localdate() + timedelta(days=days)


def drafted(meetings: MeetingsCast, **kwargs: Any) -> Minutes:
    meeting = make_meeting(meetings, **kwargs)
    return minutes.save_minutes(
        meeting,
        actor=meetings.organiser,
        body=BODY,
        decisions=[
            DecisionInput(
                text="综合处牵头修订政务服务事项清单",
                lead_department=meetings.cast.general_dept,
                due_on=due(),
            ),
            DecisionInput(
                text="信息中心完成平台适老化改造", lead_department=meetings.cast.it_centre, due_on=due(60)
            ),
        ],
    )


def test_minutes_are_saved_with_numbered_decisions(meetings: MeetingsCast) -> None:
    record = drafted(meetings)
    rows = list(record.decisions.order_by("order").values_list("order", "text"))
    assert rows == [(1, "综合处牵头修订政务服务事项清单"), (2, "信息中心完成平台适老化改造")]
    assert AuditEvent.objects.get(action="meetings.minutes.saved").details["decisions"] == 2


def test_saving_again_edits_reorders_and_drops_decisions(meetings: MeetingsCast) -> None:
    record = drafted(meetings)
    first, second = record.decisions.order_by("order")
    minutes.save_minutes(
        record.meeting,
        actor=meetings.organiser,
        body=BODY,
        decisions=[
            DecisionInput(id=second.pk, text="信息中心完成平台适老化改造（年底前）", lead_department=None),
            DecisionInput(text="新增：办公室做好会议纪要印发"),
        ],
    )
    rows = list(Decision.objects.order_by("order").values_list("order", "text"))
    assert rows == [(1, "信息中心完成平台适老化改造（年底前）"), (2, "新增：办公室做好会议纪要印发")]
    assert not Decision.objects.filter(pk=first.pk).exists()


def test_a_decision_due_before_the_meeting_is_refused(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    with pytest.raises(MeetingError, match="第1项议定事项：完成时限不能早于会议日期"):
        minutes.save_minutes(
            meeting,
            actor=meetings.organiser,
            body=BODY,
            decisions=[DecisionInput(text="补办", due_on=timezone.localdate() - timedelta(days=3))],
        )
    assert not Minutes.objects.exists()


def test_a_decision_with_a_department_but_no_text_is_refused(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    with pytest.raises(MeetingError, match="第1项议定事项：请填写事项内容。"):
        minutes.save_minutes(
            meeting,
            actor=meetings.organiser,
            body=BODY,
            decisions=[DecisionInput(text=" ", lead_department=meetings.cast.general_dept)],
        )


def test_a_participant_may_not_write_the_minutes(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    with pytest.raises(MeetingError, match="^只有会议组织者可以编写会议纪要。$"):
        minutes.save_minutes(meeting, actor=meetings.participant, body=BODY, decisions=[])


def test_issuing_creates_a_minutes_draft_in_the_outgoing_flow(meetings: MeetingsCast) -> None:
    # given: one checked in, one on leave
    record = drafted(meetings)
    meeting = record.meeting
    checkin.check_in(meeting, actor=meetings.participant, token=meeting.checkin_token)
    set_reply(meeting, meetings.colleague, Reply.LEAVE, reason="出差")
    # when
    document = minutes.issue_minutes(meeting, actor=meetings.organiser)
    # then: a 纪要 in 纪要格式, drafted by the organiser, its 发文 process started, linked
    assert document.doc_type == DocType.MINUTES and document.layout == Layout.MINUTES
    assert document.title == f"{meeting.title}纪要" and document.drafter == meetings.organiser
    assert OutgoingProcess.objects.filter(document=document).exists()
    record.refresh_from_db()
    assert record.document == document
    spec = spec_for(document)
    assert spec.layout == "minutes"
    assert spec.attendees == ["林小梅"] and spec.on_leave == ["陈志强"]
    texts = [b["text"] for b in spec.body]
    assert texts[0] == "一、会议听取了全省政务服务工作情况汇报" and spec.body[0]["kind"] == "h1"
    assert "会议议定：" in texts
    assert any(
        t.startswith("（1）综合处牵头修订政务服务事项清单（牵头单位：综合处；完成时限：") for t in texts
    )


def test_issued_minutes_are_edited_in_the_outgoing_flow_not_here(meetings: MeetingsCast) -> None:
    record = drafted(meetings)
    minutes.issue_minutes(record.meeting, actor=meetings.organiser)
    with pytest.raises(MeetingError, match="^纪要已送发文办理，请在发文流程中修改正文。$"):
        minutes.save_minutes(record.meeting, actor=meetings.organiser, body="改", decisions=[])
    with pytest.raises(MeetingError, match="不能重复发起"):
        minutes.issue_minutes(record.meeting, actor=meetings.organiser)


def test_minutes_without_a_body_cannot_be_issued(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    with pytest.raises(MeetingError, match="^请先填写纪要正文。$"):
        minutes.issue_minutes(meeting, actor=meetings.organiser)


def test_a_cancelled_meeting_has_no_minutes(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings, status=MeetingStatus.CANCELLED)
    with pytest.raises(MeetingError, match="^会议已取消，不能编写纪要。$"):
        minutes.save_minutes(meeting, actor=meetings.organiser, body=BODY, decisions=[])


def test_a_decision_becomes_a_supervision_item_sourced_from_the_meeting(meetings: MeetingsCast) -> None:
    record = drafted(meetings)
    decision = record.decisions.get(order=1)
    item = minutes.supervise_decision(decision, actor=meetings.organiser)
    decision.refresh_from_db()
    assert decision.supervision_item == item
    assert item.source == SupervisionSource.MEETING
    assert item.lead_department == meetings.cast.general_dept and item.due_on == due()
    assert item.title == "综合处牵头修订政务服务事项清单"
    assert AuditEvent.objects.filter(action="meetings.decision.supervised").count() == 1


def test_the_item_links_back_to_the_meeting_only_for_those_who_see_it(meetings: MeetingsCast) -> None:
    record = drafted(meetings)
    item = minutes.supervise_decision(record.decisions.get(order=1), actor=meetings.organiser)
    # 陈志强 (invited; 处长 of the lead department) sees the link; the 督查员 sees the item but not the meeting.
    for_participant = source_link(item, meetings.colleague)
    assert for_participant is not None and for_participant.kind == "会议"
    assert for_participant.url == reverse("meetings:detail", args=[record.meeting.pk])
    assert record.meeting.title in for_participant.label
    for_supervisor = source_link(item, meetings.cast.supervisor)
    assert (
        for_supervisor is not None
        and for_supervisor.url == ""
        and record.meeting.title in for_supervisor.label
    )


def test_a_decision_is_supervised_once(meetings: MeetingsCast) -> None:
    record = drafted(meetings)
    decision = record.decisions.get(order=1)
    minutes.supervise_decision(decision, actor=meetings.organiser)
    with pytest.raises(MeetingError, match="^该议定事项已转为督办事项。$"):
        minutes.supervise_decision(decision, actor=meetings.organiser)


def test_the_meeting_admin_who_is_no_supervisor_may_not_file_an_item(meetings: MeetingsCast) -> None:
    record = drafted(meetings)
    with pytest.raises(MeetingError, match="督查员或办公室人员"):
        minutes.supervise_decision(record.decisions.get(order=1), actor=meetings.meeting_admin)
    with pytest.raises(MeetingError, match="督查员或办公室人员"):
        minutes.supervise_decision(record.decisions.get(order=1), actor=meetings.participant)


def test_a_decision_without_a_lead_department_cannot_be_supervised(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    record = minutes.save_minutes(
        meeting, actor=meetings.organiser, body=BODY, decisions=[DecisionInput(text="研究")]
    )
    with pytest.raises(MeetingError, match="^请先为该议定事项指定牵头单位。$"):
        minutes.supervise_decision(record.decisions.get(), actor=meetings.organiser)


def test_a_supervised_decision_can_be_neither_changed_nor_dropped(meetings: MeetingsCast) -> None:
    record = drafted(meetings)
    first, second = record.decisions.order_by("order")
    minutes.supervise_decision(first, actor=meetings.organiser)
    keep_second = DecisionInput(
        id=second.pk, text=second.text, lead_department=second.lead_department, due_on=second.due_on
    )
    with pytest.raises(MeetingError, match="已转为督办事项，不能删除。"):
        minutes.save_minutes(record.meeting, actor=meetings.organiser, body=BODY, decisions=[keep_second])
    changed = DecisionInput(
        id=first.pk, text="改了", lead_department=first.lead_department, due_on=first.due_on
    )
    with pytest.raises(MeetingError, match="已转为督办事项，不能再修改。"):
        minutes.save_minutes(
            record.meeting, actor=meetings.organiser, body=BODY, decisions=[changed, keep_second]
        )
    assert Decision.objects.get(pk=first.pk).text == "综合处牵头修订政务服务事项清单"


def test_the_item_page_links_to_the_meeting_for_a_participant_not_for_an_outsider(
    meetings: MeetingsCast, sign_in: Any
) -> None:
    record = drafted(meetings)
    item = minutes.supervise_decision(record.decisions.get(order=1), actor=meetings.organiser)
    page = reverse("workflows:supervision_item", args=[item.pk])
    meeting_url = reverse("meetings:detail", args=[record.meeting.pk])
    seen = sign_in(meetings.colleague).get(page)
    assert seen.status_code == 200 and f'href="{meeting_url}"' in seen.content.decode()
    supervisor = sign_in(meetings.cast.supervisor).get(page)
    assert supervisor.status_code == 200 and f'href="{meeting_url}"' not in supervisor.content.decode()
    assert record.meeting.title in supervisor.content.decode()
    assert sign_in(meetings.outsider).get(page).status_code == 404
