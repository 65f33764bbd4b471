"""The meeting pages as people use them: the organiser books, invites and sends the notice; a
participant replies on the meeting page (a refusal keeps what was typed); the clerk chooses;
the organiser reminds, cancels, watches statistics and exports; strangers get 404; 我的会议 and
the 会议 navigation badge; the attendance sheet."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from meetings import services
from meetings.models import Booking, BookingStatus, Invitee, Meeting, MeetingKind, MeetingStatus, Reply, Rsvp
from officeapp.audit.models import AuditEvent
from tests.meetings.meetings_cast import MeetingsCast

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend="officeapp.accounts.backends.LockoutAwareBackend")
    return client


def local(dt: Any) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def noticed(m: MeetingsCast, **invitees: Any) -> Meeting:
    meeting = services.create_meeting(
        actor=m.organiser,
        title="全省政务服务工作会",
        kind=MeetingKind.OFFICE,
        starts_at=m.at(9),
        ends_at=m.at(11),
        host=m.host,
        room=m.big_room,
        notice="请带好材料。",
    )
    services.set_invitees(
        meeting, actor=m.organiser, **(invitees or {"people": [m.participant, m.colleague]})
    )
    services.send_notice(meeting, actor=m.organiser)
    return meeting


def form_data(m: MeetingsCast, **extra: Any) -> dict[str, Any]:
    data = {
        "title": "季度经济形势分析会",
        "kind": MeetingKind.TOPIC,
        "starts_at": local(m.at(14)),
        "ends_at": local(m.at(16)),
        "host": m.host.pk,
        "room": m.big_room.pk,
        "notice": "请各处室准备汇报材料。",
        "remind_minutes_before": 60,
    }
    data.update(extra)
    return data


# --- the organiser ---------------------------------------------------------------------------------------


def test_organiser_creates_a_meeting_with_a_room_invites_and_sends_the_notice(meetings: MeetingsCast) -> None:
    m = meetings
    client = signed_in(m.organiser)

    response = client.post(reverse("meetings:new"), form_data(m))
    meeting = Meeting.objects.get(title="季度经济形势分析会")
    assert response.status_code == 302 and response["Location"] == reverse(
        "meetings:invitees", args=[meeting.pk]
    )
    assert meeting.booking.room == m.big_room and meeting.booking.status == BookingStatus.APPROVED

    response = client.post(
        reverse("meetings:invitees", args=[meeting.pk]),
        {
            "members": [m.participant.pk],
            "departments": [m.cast.secretariat.pk],
            "agencies": [m.cast.finance.pk],
            f"quota_{m.cast.finance.pk}": "2",
        },
    )
    assert response.status_code == 302
    assert Invitee.objects.get(meeting=meeting, agency=m.cast.finance).quota == 2

    page = client.get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    assert "发出会议通知" in page and "林小梅" in page

    response = client.post(reverse("meetings:send_notice", args=[meeting.pk]), follow=True)
    assert "会议通知已发出" in response.content.decode()
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.NOTICED
    assert Rsvp.objects.filter(meeting=meeting, user=m.participant).exists()


def test_new_meeting_form_refused_keeps_what_was_typed(meetings: MeetingsCast) -> None:
    m = meetings
    response = signed_in(m.organiser).post(
        reverse("meetings:new"), form_data(m, ends_at=local(m.at(13)), title="保留这个名称")
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "结束时间必须晚于开始时间。" in html
    assert 'value="保留这个名称"' in html and "请各处室准备汇报材料。" in html
    assert not Meeting.objects.exists()


def test_room_taken_for_the_slot_is_refused_and_shown_as_occupied(meetings: MeetingsCast) -> None:
    m = meetings
    noticed(m)  # big_room tomorrow 09:00–11:00
    response = signed_in(m.organiser).post(
        reverse("meetings:new"), form_data(m, starts_at=local(m.at(10)), ends_at=local(m.at(12)))
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "该时段已被预订" in html
    assert re.search(r"第一会议室（40人）\s*·\s*该时段已占用", html)
    assert Meeting.objects.count() == 1


def test_weekly_series_creates_a_meeting_per_week(meetings: MeetingsCast) -> None:
    m = meetings
    response = signed_in(m.organiser).post(reverse("meetings:new"), form_data(m, frequency="weekly", count=3))
    assert response.status_code == 302
    starts = list(Meeting.objects.order_by("starts_at").values_list("starts_at", flat=True))
    assert len(starts) == 3 and (starts[1] - starts[0]).days == 7
    assert Booking.objects.filter(status=BookingStatus.APPROVED).count() == 3


def test_edit_moves_the_booking_with_the_meeting(meetings: MeetingsCast) -> None:
    m = meetings
    meeting = noticed(m)
    response = signed_in(m.organiser).post(
        reverse("meetings:edit", args=[meeting.pk]),
        form_data(m, title=meeting.title, starts_at=local(m.at(15)), ends_at=local(m.at(17))),
    )
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.booking.starts_at == m.at(15)
    assert meeting.booking.room == m.big_room


def test_cancelling_frees_the_room_and_needs_a_reason(meetings: MeetingsCast) -> None:
    m = meetings
    meeting = noticed(m)
    client = signed_in(m.organiser)
    refused = client.post(reverse("meetings:cancel", args=[meeting.pk]), {"reason": ""})
    assert refused.status_code == 400 and "请填写取消会议的原因。" in refused.content.decode()

    client.post(reverse("meetings:cancel", args=[meeting.pk]), {"reason": "与省委会议冲突"})

    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.CANCELLED
    assert meeting.booking.status == BookingStatus.CANCELLED


def test_remind_button_says_how_many_were_reminded(meetings: MeetingsCast) -> None:
    m = meetings
    meeting = noticed(m)
    client = signed_in(m.organiser)
    first = client.post(reverse("meetings:remind", args=[meeting.pk]), follow=True).content.decode()
    again = client.post(reverse("meetings:remind", args=[meeting.pk]), follow=True).content.decode()
    assert "已提醒 2 位未回执人员。" in first
    assert "没有需要提醒的人员" in again


def test_organiser_page_shows_statistics_and_non_repliers(meetings: MeetingsCast) -> None:
    m = meetings
    meeting = noticed(m)
    services.reply(meeting, actor=m.participant, reply=Reply.ATTEND)
    for name in ("detail", "stats"):
        html = signed_in(m.organiser).get(reverse(f"meetings:{name}", args=[meeting.pk])).content.decode()
        assert 'data-stat="attend">1<' in html and 'data-stat="silent">1<' in html
        silent = re.search(r"data-silent>(.*?)</ul>", html, re.S).group(1)
        assert "陈志强" in silent and "林小梅" not in silent


# --- the participant --------------------------------------------------------------------------------------


def test_participant_replies_leave_and_a_missing_reason_keeps_the_choice(meetings: MeetingsCast) -> None:
    m = meetings
    meeting = noticed(m)
    client = signed_in(m.participant)
    page = client.get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    assert "请回执" in page and "请带好材料。" in page and "提醒未回执人员" not in page

    refused = client.post(reverse("meetings:reply", args=[meeting.pk]), {"reply": "leave", "reason": ""})
    html = refused.content.decode()
    assert refused.status_code == 400 and "请假须填写事由。" in html
    assert re.search(r'value="leave"[^>]*checked', html)

    client.post(reverse("meetings:reply", args=[meeting.pk]), {"reply": "leave", "reason": "赴北京出差"})
    rsvp = Rsvp.objects.get(meeting=meeting, user=m.participant)
    assert (rsvp.reply, rsvp.reason) == (Reply.LEAVE, "赴北京出差")
    assert "赴北京出差" in client.get(reverse("meetings:detail", args=[meeting.pk])).content.decode()


def test_participant_delegates_to_a_colleague_who_then_must_reply(meetings: MeetingsCast) -> None:
    m = meetings
    meeting = noticed(m, people=[m.colleague])
    response = signed_in(m.colleague).post(
        reverse("meetings:reply", args=[meeting.pk]), {"reply": "delegate", "delegate": m.participant.pk}
    )
    assert response.status_code == 302
    page = signed_in(m.participant).get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    assert "陈志强 指派您参会" in page and 'value="delegate"' not in page


def test_delegating_to_someone_of_another_department_is_refused(meetings: MeetingsCast) -> None:
    m = meetings
    meeting = noticed(m)
    response = signed_in(m.participant).post(
        reverse("meetings:reply", args=[meeting.pk]), {"reply": "delegate", "delegate": m.organiser.pk}
    )
    assert response.status_code == 400
    assert "只能指派本部门的人员参会。" in response.content.decode()


def test_clerk_chooses_who_attends_from_the_page(meetings: MeetingsCast) -> None:
    m = meetings
    meeting = noticed(m, agencies=[(m.cast.finance, 1)])
    invitee = Invitee.objects.get(meeting=meeting)
    client = signed_in(m.finance_clerk)
    assert "待报送参会人员" in client.get(reverse("meetings:index")).content.decode()

    too_many = client.post(
        reverse("meetings:choose", args=[invitee.pk]), {"members": [m.finance_staff.pk, m.finance_clerk.pk]}
    )
    assert too_many.status_code == 400 and "本单位最多可报 1 人" in too_many.content.decode()
    assert re.search(rf'value="{m.finance_staff.pk}"[^>]*checked', too_many.content.decode())

    client.post(reverse("meetings:choose", args=[invitee.pk]), {"members": [m.finance_staff.pk]})
    assert Rsvp.objects.filter(meeting=meeting, user=m.finance_staff).exists()


# --- access ---------------------------------------------------------------------------------------------------


def test_strangers_get_404_everywhere_and_participants_cannot_manage(meetings: MeetingsCast) -> None:
    m = meetings
    meeting = noticed(m, agencies=[(m.cast.finance, 0)])
    invitee = Invitee.objects.get(meeting=meeting)
    outsider = signed_in(m.outsider)
    for name in ("detail", "edit", "invitees", "cancel", "stats", "export_attendance"):
        assert outsider.get(reverse(f"meetings:{name}", args=[meeting.pk])).status_code == 404
    for name in ("reply", "send_notice", "remind"):
        assert (
            outsider.post(reverse(f"meetings:{name}", args=[meeting.pk]), {"reply": "attend"}).status_code
            == 404
        )
    assert outsider.get(reverse("meetings:choose", args=[invitee.pk])).status_code == 404
    assert outsider.get(reverse("meetings:detail", args=[99999999999999999999])).status_code == 404

    participant = signed_in(m.participant)
    for name in ("edit", "invitees", "stats", "export_attendance"):
        assert participant.get(reverse(f"meetings:{name}", args=[meeting.pk])).status_code == 404


def test_organiser_who_is_not_invited_cannot_reply(meetings: MeetingsCast) -> None:
    m = meetings
    meeting = noticed(m)
    response = signed_in(m.organiser).post(reverse("meetings:reply", args=[meeting.pk]), {"reply": "attend"})
    assert response.status_code == 404


# --- 我的会议 and the shell -------------------------------------------------------------------------------------


def test_my_meetings_lists_what_waits_for_my_reply_and_the_nav_badge_counts_it(
    meetings: MeetingsCast,
) -> None:
    m = meetings
    meeting = noticed(m)
    client = signed_in(m.participant)
    html = client.get(reverse("meetings:index")).content.decode()
    assert "全省政务服务工作会" in html and "待回执" in html
    assert re.search(r"会议\s*<span[^>]*>\s*1\s*<", html)

    services.reply(meeting, actor=m.participant, reply=Reply.ATTEND)
    html = client.get(reverse("meetings:index") + "?tab=reply").content.decode()
    assert "没有待回执的会议。" in html
    upcoming = client.get(reverse("meetings:index") + "?tab=upcoming").content.decode()
    assert "全省政务服务工作会" in upcoming


def test_my_meetings_links_the_calendar_rooms_and_only_for_those_who_may_approvals_and_media(
    meetings: MeetingsCast, sign_in_verified: Any
) -> None:
    m = meetings
    participant = signed_in(m.participant).get(reverse("meetings:index")).content.decode()
    admin = signed_in(m.meeting_admin).get(reverse("meetings:index")).content.decode()
    sysadmin = sign_in_verified(m.cast.system_admin).get(reverse("meetings:index")).content.decode()

    assert reverse("meetings:my_calendar") in participant and reverse("meetings:rooms") in participant
    assert (
        reverse("meetings:bookings") not in participant
        and reverse("meetings:media_settings") not in participant
    )
    assert reverse("meetings:bookings") in admin
    assert reverse("meetings:media_settings") in sysadmin


def test_workbench_tile_lists_coming_meetings(meetings: MeetingsCast) -> None:
    from meetings.pages import upcoming_loader

    m = meetings
    noticed(m)
    count, items = upcoming_loader(m.participant, 5)
    assert count == 1 and items[0].title == "全省政务服务工作会" and items[0].meta == "待回执"
    assert upcoming_loader(m.outsider, 5)[0] == 0


# --- export ----------------------------------------------------------------------------------------------------


def test_attendance_sheet_lists_each_reply_reason_delegate_and_check_in(meetings: MeetingsCast) -> None:
    m = meetings
    meeting = noticed(m, people=[m.colleague, m.host])
    services.reply(meeting, actor=m.colleague, reply=Reply.DELEGATE, delegate=m.participant)
    services.reply(meeting, actor=m.host, reply=Reply.LEAVE, reason='=HYPERLINK("x")')
    Rsvp.objects.filter(meeting=meeting, user=m.participant).update(
        reply=Reply.ATTEND, checked_in_at=m.at(8, 55), checkin_method="qr"
    )

    response = signed_in(m.organiser).get(reverse("meetings:export_attendance", args=[meeting.pk]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[c or "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "全省政务服务工作会"
    assert rows[1] == ["姓名", "单位", "回执", "请假事由", "指派", "签到时间", "签到方式"]
    by_name = {r[0]: r for r in rows[2:]}
    assert by_name["陈志强"][2:5] == ["指派他人", "", "指派：林小梅"]
    assert by_name["王德明"][2:4] == ["请假", '=HYPERLINK("x")']
    assert by_name["林小梅"][2] == "参加" and by_name["林小梅"][4] == "受陈志强指派"
    assert by_name["林小梅"][5].endswith("08:55") and by_name["林小梅"][6] == "扫码签到"
    assert by_name["林小梅"][1].endswith("综合处")
    cell = next(
        c for c in load_workbook(io.BytesIO(response.content)).active["D"] if c.value and "HYPER" in c.value
    )
    assert cell.data_type == "s"  # text, never a formula
    assert AuditEvent.objects.filter(
        action="meetings.attendance.download", object_id=str(meeting.pk)
    ).exists()


def test_checking_free_rooms_keeps_what_was_typed_and_marks_each_room(meetings: MeetingsCast) -> None:
    m = meetings
    noticed(m)  # big_room tomorrow 09:00–11:00
    response = signed_in(m.organiser).get(
        reverse("meetings:new"),
        {
            "title": "临时碰头会",
            "starts_at": local(m.at(10)),
            "ends_at": local(m.at(10, 30)),
            "host": m.host.pk,
        },
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'value="临时碰头会"' in html
    assert re.search(r"第一会议室（40人）\s*·\s*该时段已占用", html)
    assert re.search(r"常务会议室（12人，需审批）\s*·\s*该时段空闲", html)


def test_statistics_page_lists_each_reply_with_its_reason_and_delegate(meetings: MeetingsCast) -> None:
    m = meetings
    meeting = noticed(m, people=[m.colleague, m.host])
    services.reply(meeting, actor=m.colleague, reply=Reply.DELEGATE, delegate=m.participant)
    services.reply(meeting, actor=m.host, reply=Reply.LEAVE, reason="<b>外出调研</b>")
    html = signed_in(m.organiser).get(reverse("meetings:stats", args=[meeting.pk])).content.decode()
    assert "指派：林小梅" in html and "受陈志强指派" in html
    assert "&lt;b&gt;外出调研&lt;/b&gt;" in html and "<b>外出调研</b>" not in html
