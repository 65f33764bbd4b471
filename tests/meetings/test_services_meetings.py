"""meetings.services: creating, inviting, the notice, the clerk's choice, 回执 and cancelling —
each happy path and each refusal, as the organiser and the invited would notice them (rows,
notifications, the statistics pushed after commit)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.http import Http404
from django.utils import timezone

from meetings import services
from meetings.errors import MeetingError
from meetings.models import Invitee, Meeting, MeetingKind, MeetingStatus, Reply, Rsvp
from meetings.stats import stats_for
from officeapp.audit.models import AuditEvent
from officeapp.notify.models import Notification
from officeapp.org import services as org_services
from officeapp.outbox.models import OutboxEvent
from tests.meetings.meetings_cast import MeetingsCast

pytestmark = pytest.mark.django_db


@pytest.fixture
def pushed(monkeypatch: Any) -> list[int]:
    """Meeting ids whose statistics were pushed after commit."""
    from meetings import stats

    seen: list[int] = []
    monkeypatch.setattr(stats, "push_stats", seen.append)
    monkeypatch.setattr(services, "push_stats", seen.append)
    return seen


def online_meeting(m: MeetingsCast, **extra: Any) -> Meeting:
    fields: dict[str, Any] = {
        "actor": m.organiser,
        "title": "全省营商环境工作推进会",
        "kind": MeetingKind.VIDEO,
        "starts_at": m.at(9),
        "ends_at": m.at(11),
        "host": m.host,
        "online": True,
        "notice": "请各单位主要负责同志参加。",
    }
    fields.update(extra)
    return services.create_meeting(**fields)


def noticed(m: MeetingsCast, capture: Any, **invitees: Any) -> Meeting:
    meeting = online_meeting(m)
    services.set_invitees(
        meeting, actor=m.organiser, **(invitees or {"people": [m.participant, m.colleague]})
    )
    with capture(execute=True):
        services.send_notice(meeting, actor=m.organiser)
    meeting.refresh_from_db()
    return meeting


def titles_for(user: Any) -> list[str]:
    return list(Notification.objects.filter(recipient=user).order_by("pk").values_list("title", flat=True))


# --- creating ----------------------------------------------------------------------------------------


def test_organiser_creates_a_draft_online_meeting_of_their_agency(meetings: MeetingsCast) -> None:
    meeting = online_meeting(meetings)

    assert meeting.status == MeetingStatus.DRAFT
    assert meeting.organiser == meetings.organiser and meeting.agency == meetings.agency
    assert meeting.booking is None and meeting.online
    assert AuditEvent.objects.filter(action="meetings.meeting.create", object_id=str(meeting.pk)).exists()
    assert OutboxEvent.objects.filter(topic="meetings.meeting.created", object_id=str(meeting.pk)).exists()
    assert Notification.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": "  "}, "请填写会议名称。"),
        ({"title": "会" * 121}, "会议名称不能超过 120 个字。"),
        ({"kind": "party"}, "请选择会议类型。"),
        ({"ends_at": "later"}, "请填写会议的开始和结束时间。"),
        ({"starts_at": None}, "请填写会议的开始和结束时间。"),
        ({"online": False}, "请选择会议室，或勾选线上参会。"),
        ({"notice": "通" * 5001}, "会议通知不能超过 5000 个字。"),
        ({"remind_minutes_before": -5}, "提前提醒须在 0 到 10080 分钟之间。"),
        ({"remind_minutes_before": "soon"}, "提前提醒的分钟数须是整数。"),
        ({"host": None}, "请选择主持人。"),
    ],
)
def test_bad_meeting_fields_are_refused_with_a_sentence(
    meetings: MeetingsCast, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(MeetingError) as refused:
        online_meeting(meetings, **change)
    assert refused.value.message == message
    assert not Meeting.objects.exists()


def test_meeting_ending_before_it_starts_or_in_the_past_is_refused(meetings: MeetingsCast) -> None:
    with pytest.raises(MeetingError, match="结束时间必须晚于开始时间"):
        online_meeting(meetings, ends_at=meetings.at(8))
    yesterday = meetings.at(9, days=-1)
    with pytest.raises(MeetingError, match="开始时间已过"):
        online_meeting(meetings, starts_at=yesterday, ends_at=yesterday + timedelta(hours=1))


def test_disabled_host_is_refused(meetings: MeetingsCast) -> None:
    org_services.disable_user(actor=meetings.cast.system_admin, user=meetings.colleague)
    meetings.colleague.refresh_from_db()
    with pytest.raises(MeetingError, match="账号已停用"):
        online_meeting(meetings, host=meetings.colleague)


def test_organising_for_another_agency_is_refused(meetings: MeetingsCast) -> None:
    with pytest.raises(MeetingError, match="只能为本单位组织会议"):
        online_meeting(meetings, agency=meetings.cast.finance)


def test_audit_admin_cannot_organise(meetings: MeetingsCast) -> None:
    with pytest.raises(Http404):
        online_meeting(meetings, actor=meetings.audit_admin)


# --- invitees and the notice -----------------------------------------------------------------------


def test_notice_reaches_people_and_every_active_member_of_an_invited_department(
    meetings: MeetingsCast, django_capture_on_commit_callbacks: Any, pushed: list[int]
) -> None:
    m = meetings
    meeting = online_meeting(m)
    services.set_invitees(meeting, actor=m.organiser, people=[m.host], departments=[m.cast.general_dept])

    with django_capture_on_commit_callbacks(execute=True):
        told = services.send_notice(meeting, actor=m.organiser)

    invited = set(Rsvp.objects.filter(meeting=meeting).values_list("user_id", flat=True))
    assert invited == {m.host.pk, m.participant.pk, m.colleague.pk}
    assert told == 3
    for user in (m.host, m.participant, m.colleague):
        assert titles_for(user) == ["会议通知：全省营商环境工作推进会"]
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.NOTICED and meeting.noticed_at is not None
    assert pushed == [meeting.pk]
    assert stats_for(meeting)["silent"] == 3


def test_disabled_member_of_an_invited_department_gets_no_rsvp(
    meetings: MeetingsCast, django_capture_on_commit_callbacks: Any
) -> None:
    m = meetings
    org_services.disable_user(actor=m.cast.system_admin, user=m.colleague)
    meeting = noticed(m, django_capture_on_commit_callbacks, departments=[m.cast.general_dept])

    assert list(Rsvp.objects.filter(meeting=meeting).values_list("user_id", flat=True)) == [m.participant.pk]


def test_notice_without_invitees_twice_or_by_a_participant_is_refused(
    meetings: MeetingsCast, django_capture_on_commit_callbacks: Any
) -> None:
    m = meetings
    meeting = online_meeting(m)
    with pytest.raises(MeetingError, match="请先选择参会人员"):
        services.send_notice(meeting, actor=m.organiser)

    meeting = noticed(m, django_capture_on_commit_callbacks)
    with pytest.raises(MeetingError, match="会议通知已经发出"):
        services.send_notice(meeting, actor=m.organiser)
    with pytest.raises(MeetingError, match="只有会议组织者"):
        services.send_notice(meeting, actor=m.participant)
    with pytest.raises(Http404):
        services.send_notice(meeting, actor=m.outsider)


def test_after_the_notice_invitees_can_be_added_and_are_told_but_not_removed(
    meetings: MeetingsCast, django_capture_on_commit_callbacks: Any
) -> None:
    m = meetings
    meeting = noticed(m, django_capture_on_commit_callbacks, people=[m.participant])

    services.set_invitees(meeting, actor=m.organiser, people=[m.participant, m.colleague])
    assert titles_for(m.colleague) == ["会议通知：全省营商环境工作推进会"]
    assert titles_for(m.participant) == ["会议通知：全省营商环境工作推进会"]  # not told twice

    with pytest.raises(MeetingError, match="通知已发出，不能移除已邀请的林小梅"):
        services.set_invitees(meeting, actor=m.organiser, people=[m.colleague])
    assert Invitee.objects.filter(meeting=meeting).count() == 2


def test_bad_quota_and_disabled_person_are_refused_as_invitees(meetings: MeetingsCast) -> None:
    m = meetings
    meeting = online_meeting(m)
    with pytest.raises(MeetingError, match="名额须在 0 到 999 之间"):
        services.set_invitees(meeting, actor=m.organiser, agencies=[(m.cast.finance, -1)])
    with pytest.raises(MeetingError, match="名额须是整数"):
        services.set_invitees(meeting, actor=m.organiser, agencies=[(m.cast.finance, "两")])
    org_services.disable_user(actor=m.cast.system_admin, user=m.colleague)
    m.colleague.refresh_from_db()
    with pytest.raises(MeetingError, match="陈志强 的账号已停用"):
        services.set_invitees(meeting, actor=m.organiser, people=[m.colleague])
    assert not Invitee.objects.filter(meeting=meeting).exists()


# --- the clerk's choice -----------------------------------------------------------------------------


def test_clerk_of_an_invited_agency_is_asked_and_chooses_within_the_quota(
    meetings: MeetingsCast, django_capture_on_commit_callbacks: Any, pushed: list[int]
) -> None:
    m = meetings
    meeting = noticed(m, django_capture_on_commit_callbacks, agencies=[(m.cast.finance, 1)])
    assert titles_for(m.finance_clerk) == ["请报送参会人员：全省营商环境工作推进会"]
    invitee = Invitee.objects.get(meeting=meeting)

    with pytest.raises(MeetingError, match="本单位最多可报 1 人，您选择了 2 人"):
        services.choose_attendees(invitee, actor=m.finance_clerk, people=[m.finance_staff, m.finance_clerk])
    with pytest.raises(MeetingError, match="赵文静 不是本单位人员"):
        services.choose_attendees(invitee, actor=m.finance_clerk, people=[m.outsider])
    with pytest.raises(MeetingError, match="请至少选择一位"):
        services.choose_attendees(invitee, actor=m.finance_clerk, people=[])

    rows = services.choose_attendees(invitee, actor=m.finance_clerk, people=[m.finance_staff])

    assert [r.user for r in rows] == [m.finance_staff]
    assert titles_for(m.finance_staff) == ["会议通知：全省营商环境工作推进会"]
    invitee.refresh_from_db()
    assert invitee.chosen_by == m.finance_clerk
    with pytest.raises(MeetingError, match="已经报送"):
        services.choose_attendees(invitee, actor=m.finance_clerk, people=[m.finance_staff])


def test_only_the_invited_agencys_clerk_may_choose(
    meetings: MeetingsCast, django_capture_on_commit_callbacks: Any
) -> None:
    m = meetings
    meeting = noticed(m, django_capture_on_commit_callbacks, agencies=[(m.cast.finance, 0)])
    invitee = Invitee.objects.get(meeting=meeting)
    for stranger in (m.organiser, m.cast.clerk, m.finance_staff):
        with pytest.raises(Http404):
            services.choose_attendees(invitee, actor=stranger, people=[m.finance_staff])


# --- 回执 ----------------------------------------------------------------------------------------------


def test_attend_and_leave_with_reason_move_the_statistics(
    meetings: MeetingsCast, django_capture_on_commit_callbacks: Any, pushed: list[int]
) -> None:
    m = meetings
    meeting = noticed(m, django_capture_on_commit_callbacks)
    pushed.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.reply(meeting, actor=m.participant, reply=Reply.ATTEND)
        services.reply(meeting, actor=m.colleague, reply=Reply.LEAVE, reason="赴京参加部委会议")

    assert stats_for(meeting) == {
        "invited": 2,
        "attend": 1,
        "leave": 1,
        "delegate": 0,
        "silent": 0,
        "checked_in": 0,
        "expected": 1,
    }
    assert Rsvp.objects.get(meeting=meeting, user=m.colleague).reason == "赴京参加部委会议"
    assert pushed == [meeting.pk, meeting.pk]
    event = AuditEvent.objects.filter(action="meetings.rsvp.reply").last()
    assert "赴京" not in str(event.details)  # a leave reason is not audit material


@pytest.mark.parametrize(
    ("reason", "message"),
    [("", "请假须填写事由。"), ("   ", "请假须填写事由。"), ("事" * 201, "请假事由不能超过 200 个字。")],
)
def test_leave_without_a_reason_or_with_a_long_one_is_refused(
    meetings: MeetingsCast, django_capture_on_commit_callbacks: Any, reason: str, message: str
) -> None:
    meeting = noticed(meetings, django_capture_on_commit_callbacks)
    with pytest.raises(MeetingError) as refused:
        services.reply(meeting, actor=meetings.participant, reply=Reply.LEAVE, reason=reason)
    assert refused.value.message == message
    assert Rsvp.objects.get(meeting=meeting, user=meetings.participant).reply == Reply.NONE


def test_unknown_reply_is_refused(meetings: MeetingsCast, django_capture_on_commit_callbacks: Any) -> None:
    meeting = noticed(meetings, django_capture_on_commit_callbacks)
    with pytest.raises(MeetingError, match="请选择回执"):
        services.reply(meeting, actor=meetings.participant, reply="maybe")


def test_reply_by_someone_not_invited_is_not_found(
    meetings: MeetingsCast, django_capture_on_commit_callbacks: Any
) -> None:
    meeting = noticed(meetings, django_capture_on_commit_callbacks)
    for stranger in (meetings.outsider, meetings.organiser, meetings.audit_admin):
        with pytest.raises(Http404):
            services.reply(meeting, actor=stranger, reply=Reply.ATTEND)


def test_delegate_of_the_same_department_gets_an_rsvp_and_must_reply(
    meetings: MeetingsCast, django_capture_on_commit_callbacks: Any
) -> None:
    m = meetings
    meeting = noticed(m, django_capture_on_commit_callbacks, people=[m.colleague])

    with django_capture_on_commit_callbacks(execute=True):
        services.reply(meeting, actor=m.colleague, reply=Reply.DELEGATE, delegate=m.participant)

    delegate = Rsvp.objects.get(meeting=meeting, user=m.participant)
    assert delegate.delegated_from == Rsvp.objects.get(meeting=meeting, user=m.colleague)
    assert delegate.reply == Reply.NONE
    assert titles_for(m.participant) == ["陈志强 指派您参加：全省营商环境工作推进会"]
    assert stats_for(meeting)["delegate"] == 1 and stats_for(meeting)["silent"] == 1

    with pytest.raises(MeetingError, match="您是受指派参会的，不能再指派他人"):
        services.reply(meeting, actor=m.participant, reply=Reply.DELEGATE, delegate=m.colleague)
    with pytest.raises(MeetingError, match="您已指派 林小梅 参会，不能再更改回执"):
        services.reply(meeting, actor=m.colleague, reply=Reply.ATTEND)
    services.reply(meeting, actor=m.participant, reply=Reply.ATTEND)
    assert stats_for(meeting)["attend"] == 1


def test_delegate_refusals(meetings: MeetingsCast, django_capture_on_commit_callbacks: Any) -> None:
    m = meetings
    meeting = noticed(m, django_capture_on_commit_callbacks)
    cases = [
        (None, "请选择被指派参会的人员。"),
        (m.participant, "不能指派自己。"),
        (m.organiser, "只能指派本部门的人员参会。"),
        (m.colleague, "陈志强 已在参会名单中，请指派其他人员。"),
    ]
    for delegate, message in cases:
        with pytest.raises(MeetingError) as refused:
            services.reply(meeting, actor=m.participant, reply=Reply.DELEGATE, delegate=delegate)
        assert refused.value.message == message
    assert Rsvp.objects.filter(meeting=meeting).count() == 2


def test_reply_after_the_meeting_ended_or_was_cancelled_is_refused(
    meetings: MeetingsCast, django_capture_on_commit_callbacks: Any, time_machine: Any
) -> None:
    m = meetings
    meeting = noticed(m, django_capture_on_commit_callbacks)
    time_machine.move_to(m.at(11, 1))
    with pytest.raises(MeetingError, match="会议已结束，不能再回执"):
        services.reply(meeting, actor=m.participant, reply=Reply.ATTEND)

    time_machine.move_to(timezone.now() - timedelta(days=1))
    services.cancel_meeting(meeting, actor=m.organiser, reason="领导另有安排")
    with pytest.raises(MeetingError, match="会议已取消，无需回执"):
        services.reply(meeting, actor=m.participant, reply=Reply.ATTEND)


# --- changes after the notice ------------------------------------------------------------------------


def test_moving_a_noticed_meeting_tells_everyone_with_a_reply_to_give(
    meetings: MeetingsCast, django_capture_on_commit_callbacks: Any
) -> None:
    m = meetings
    meeting = noticed(m, django_capture_on_commit_callbacks)
    services.reply(meeting, actor=m.participant, reply=Reply.ATTEND)

    services.update_meeting(meeting, actor=m.organiser, starts_at=m.at(14), ends_at=m.at(16))

    for user in (m.participant, m.colleague):
        assert titles_for(user)[-1] == "会议变更：全省营商环境工作推进会"
    meeting.refresh_from_db()
    assert meeting.starts_at == m.at(14)


def test_editing_the_title_of_a_draft_tells_nobody(meetings: MeetingsCast) -> None:
    meeting = online_meeting(meetings)
    services.update_meeting(meeting, actor=meetings.organiser, title="新名称")
    meeting.refresh_from_db()
    assert meeting.title == "新名称"
    assert not Notification.objects.exists()


def test_edit_refusals(meetings: MeetingsCast) -> None:
    m = meetings
    meeting = online_meeting(m)
    with pytest.raises(MeetingError, match="结束时间必须晚于开始时间"):
        services.update_meeting(meeting, actor=m.organiser, ends_at=m.at(8))
    with pytest.raises(Http404):
        services.update_meeting(meeting, actor=m.outsider, title="x")
    meeting.refresh_from_db()
    assert meeting.ends_at == m.at(11)


def test_cancelling_a_noticed_meeting_tells_the_invited_and_needs_a_reason(
    meetings: MeetingsCast, django_capture_on_commit_callbacks: Any
) -> None:
    m = meetings
    meeting = noticed(m, django_capture_on_commit_callbacks)
    with pytest.raises(MeetingError, match="请填写取消会议的原因"):
        services.cancel_meeting(meeting, actor=m.organiser, reason=" ")

    services.cancel_meeting(meeting, actor=m.organiser, reason="领导另有安排")

    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.CANCELLED
    assert titles_for(m.colleague)[-1] == "会议取消：全省营商环境工作推进会"
    with pytest.raises(MeetingError, match="会议已经取消"):
        services.cancel_meeting(meeting, actor=m.organiser, reason="再次")
    with pytest.raises(MeetingError, match="会议已取消"):
        services.update_meeting(meeting, actor=m.organiser, title="x")


def test_meeting_admin_of_the_agency_manages_others_meetings(
    meetings: MeetingsCast, django_capture_on_commit_callbacks: Any
) -> None:
    m = meetings
    meeting = online_meeting(m)
    services.set_invitees(meeting, actor=m.meeting_admin, people=[m.participant])
    assert services.send_notice(meeting, actor=m.meeting_admin) == 1


# --- hand-over ---------------------------------------------------------------------------------------


def test_disabled_organisers_future_meetings_go_to_the_successor(
    meetings: MeetingsCast, django_capture_on_commit_callbacks: Any
) -> None:
    m = meetings
    draft = online_meeting(m)
    sent = noticed(m, django_capture_on_commit_callbacks)
    done = online_meeting(m)
    Meeting.objects.filter(pk=done.pk).update(status=MeetingStatus.ENDED)

    org_services.disable_user(actor=m.cast.system_admin, user=m.organiser, successor=m.meeting_admin)

    owners = dict(Meeting.objects.values_list("pk", "organiser_id"))
    assert owners[draft.pk] == owners[sent.pk] == m.meeting_admin.pk
    assert owners[done.pk] == m.organiser.pk
