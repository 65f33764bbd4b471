"""议程 services: the organiser adds, edits, reorders and removes agenda items (orders stay 1..n);
everyone else is refused, and so is a time outside the meeting."""

from __future__ import annotations

from datetime import timedelta

import pytest

from meetings import agenda
from meetings.errors import MeetingError
from meetings.models import AgendaItem, MeetingStatus
from officeapp.audit.models import AuditEvent
from tests.meetings.factories_c import make_meeting
from tests.meetings.meetings_cast import MeetingsCast

pytestmark = pytest.mark.django_db


def titles(meeting: object) -> list[tuple[int, str]]:
    return list(AgendaItem.objects.filter(meeting=meeting).order_by("order").values_list("order", "title"))


def three_items(meetings: MeetingsCast) -> tuple[object, list[AgendaItem]]:
    meeting = make_meeting(meetings)
    items = [agenda.add_agenda_item(meeting, actor=meetings.organiser, title=t) for t in ("甲", "乙", "丙")]
    return meeting, items


def test_items_are_numbered_in_the_order_added_with_presenter_and_time(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    first = agenda.add_agenda_item(
        meeting,
        actor=meetings.organiser,
        title="  审议 2027年 重点工作 ",
        presenter=meetings.colleague,
        starts_at=meeting.starts_at + timedelta(minutes=5),
        minutes=20,
        notes="附件见材料",
    )
    second = agenda.add_agenda_item(
        meeting, actor=meetings.organiser, title="通报", presenter_name="省统计局 张三"
    )
    assert (first.order, second.order) == (1, 2)
    assert first.title == "审议 2027年 重点工作" and first.presenter_name == "陈志强"
    assert second.presenter is None and second.presenter_name == "省统计局 张三"
    assert AuditEvent.objects.filter(action="meetings.agenda_item.added").count() == 2


def test_moving_an_item_to_the_top_renumbers_the_others(meetings: MeetingsCast) -> None:
    meeting, items = three_items(meetings)
    agenda.move_agenda_item(items[2], actor=meetings.organiser, position=1)
    assert titles(meeting) == [(1, "丙"), (2, "甲"), (3, "乙")]


def test_moving_beyond_the_end_puts_it_last(meetings: MeetingsCast) -> None:
    meeting, items = three_items(meetings)
    agenda.move_agenda_item(items[0], actor=meetings.organiser, position=99)
    assert titles(meeting) == [(1, "乙"), (2, "丙"), (3, "甲")]


def test_removing_an_item_closes_the_gap(meetings: MeetingsCast) -> None:
    meeting, items = three_items(meetings)
    agenda.remove_agenda_item(items[1], actor=meetings.organiser)
    assert titles(meeting) == [(1, "甲"), (2, "丙")]


def test_editing_an_item_keeps_its_place(meetings: MeetingsCast) -> None:
    meeting, items = three_items(meetings)
    agenda.update_agenda_item(items[1], actor=meetings.organiser, title="乙（修改）", minutes=30)
    assert titles(meeting)[1] == (2, "乙（修改）")
    assert AgendaItem.objects.get(pk=items[1].pk).minutes == 30


def test_a_participant_may_not_change_the_agenda(meetings: MeetingsCast) -> None:
    meeting, items = three_items(meetings)
    with pytest.raises(MeetingError, match="^只有会议组织者可以修改议程和材料。$"):
        agenda.add_agenda_item(meeting, actor=meetings.participant, title="加塞")
    with pytest.raises(MeetingError):
        agenda.move_agenda_item(items[2], actor=meetings.participant, position=1)
    with pytest.raises(MeetingError):
        agenda.remove_agenda_item(items[0], actor=meetings.participant)
    assert titles(meeting) == [(1, "甲"), (2, "乙"), (3, "丙")]


def test_a_blank_title_is_refused(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    with pytest.raises(MeetingError, match="^请填写议题名称。$"):
        agenda.add_agenda_item(meeting, actor=meetings.organiser, title="   ")


def test_a_start_outside_the_meeting_is_refused_naming_its_hours(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    with pytest.raises(MeetingError, match="议题开始时间应在会议时间之内"):
        agenda.add_agenda_item(
            meeting, actor=meetings.organiser, title="晚到", starts_at=meeting.ends_at + timedelta(minutes=1)
        )


def test_a_duration_of_zero_is_refused(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings)
    with pytest.raises(MeetingError, match="议题时长应为 1 至 600 分钟。"):
        agenda.add_agenda_item(meeting, actor=meetings.organiser, title="空", minutes=0)


def test_a_cancelled_meeting_takes_no_agenda_changes(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings, status=MeetingStatus.CANCELLED)
    with pytest.raises(MeetingError, match="^会议已取消，不能再修改议程和材料。$"):
        agenda.add_agenda_item(meeting, actor=meetings.organiser, title="甲")
