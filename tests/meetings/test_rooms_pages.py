"""The room pages: the list, a room and its booking form, adding and editing rooms, the approvals
page. Each POST is one service call; a refusal re-renders the form with what was typed."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from meetings.booking import book
from meetings.models import BookableBy, Booking, BookingStatus, Room
from tests.meetings.meetings_cast import MeetingsCast

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend="officeapp.accounts.backends.LockoutAwareBackend")
    return client


def booking_form(meetings: MeetingsCast, **changes: Any) -> dict[str, Any]:
    day = meetings.at(9).date().isoformat()
    return {"day": day, "start": "09:00", "end": "10:00", "purpose": "处务会", "attendees": "8", **changes}


def test_the_list_shows_the_agencys_rooms_with_working_links(meetings: MeetingsCast) -> None:
    html = signed_in(meetings.participant).get(reverse("meetings:rooms")).content.decode()

    assert "第一会议室" in html and "常务会议室" in html
    assert "财政厅第二会议室" not in html
    assert reverse("meetings:room", args=[meetings.big_room.pk]) in html
    assert reverse("meetings:room_calendar", args=[meetings.big_room.pk]) in html
    assert reverse("meetings:room_new") not in html


def test_the_meeting_admin_sees_add_and_edit_and_the_pending_count(meetings: MeetingsCast) -> None:
    book(actor=meetings.organiser, room=meetings.vip_room, starts_at=meetings.at(9), ends_at=meetings.at(10))

    html = signed_in(meetings.meeting_admin).get(reverse("meetings:rooms")).content.decode()

    assert reverse("meetings:room_new") in html
    assert reverse("meetings:room_edit", args=[meetings.vip_room.pk]) in html
    assert "待我审批 1" in html


def test_booking_from_the_room_page_lands_on_the_day_calendar_showing_it(meetings: MeetingsCast) -> None:
    client = signed_in(meetings.organiser)

    response = client.post(reverse("meetings:room", args=[meetings.big_room.pk]), booking_form(meetings))
    calendar = client.get(response["Location"]).content.decode()

    assert response.status_code == 302
    held = Booking.objects.get(room=meetings.big_room)
    assert held.attendees == 8 and held.status == BookingStatus.APPROVED
    assert "已预订" in calendar and "处务会" in calendar


def test_a_taken_slot_re_renders_the_form_with_the_sentence_and_what_was_typed(
    meetings: MeetingsCast,
) -> None:
    book(actor=meetings.organiser, room=meetings.big_room, starts_at=meetings.at(9), ends_at=meetings.at(11))

    response = signed_in(meetings.participant).post(
        reverse("meetings:room", args=[meetings.big_room.pk]),
        booking_form(meetings, start="10:00", end="12:00", purpose="我的专题会"),
    )
    html = response.content.decode()

    assert response.status_code == 200
    assert "该时段已被预订：" in html and "09:00–11:00" in html
    assert 'value="我的专题会"' in html and 'value="10:00"' in html and 'value="12:00"' in html
    assert Booking.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"start": "25:00"}, "时间格式不正确"),
        ({"day": ""}, "请选择日期。"),
        ({"attendees": "0"}, "参会人数至少为 1 人。"),
        ({"attendees": "41"}, "参会人数（41 人）超过会议室容量（40 人）。"),
        ({"start": "11:00", "end": "10:00"}, "结束时间必须晚于开始时间。"),
        ({"repeat": "weekly", "count": "60"}, "重复次数须在 1 到 52 次之间。"),
    ],
    ids=["bad-time", "no-day", "zero-people", "over-capacity", "end-before-start", "too-many-repeats"],
)
def test_bad_booking_input_is_refused_in_chinese_keeping_the_form(
    meetings: MeetingsCast, changes: dict[str, str], expected: str
) -> None:
    response = signed_in(meetings.organiser).post(
        reverse("meetings:room", args=[meetings.big_room.pk]), booking_form(meetings, **changes)
    )

    assert response.status_code == 200
    assert expected in response.content.decode()
    assert 'value="处务会"' in response.content.decode()
    assert not Booking.objects.exists()


def test_a_series_from_the_room_page_reports_each_occurrence(meetings: MeetingsCast) -> None:
    book(
        actor=meetings.participant,
        room=meetings.big_room,
        starts_at=meetings.at(9, days=8),
        ends_at=meetings.at(10, days=8),
    )

    response = signed_in(meetings.organiser).post(
        reverse("meetings:room", args=[meetings.big_room.pk]),
        booking_form(meetings, repeat="weekly", count="3", interval="1"),
    )
    html = response.content.decode()

    assert response.status_code == 200
    assert "已预订 2 次" in html and "1 次未能预订" in html
    assert html.count("该时段已被预订：") == 1


def test_someone_who_may_not_book_sees_no_form_and_a_post_is_forbidden(meetings: MeetingsCast) -> None:
    room = meetings.big_room
    room.bookable_by = BookableBy.ADMINS
    room.save()
    client = signed_in(meetings.participant)

    html = client.get(reverse("meetings:room", args=[room.pk])).content.decode()
    response = client.post(reverse("meetings:room", args=[room.pk]), booking_form(meetings))

    assert "您没有预订该会议室的权限" in html and "mt-book-form" not in html
    assert response.status_code == 403
    assert not Booking.objects.exists()


def test_another_agencys_room_and_a_missing_one_are_the_same_404(meetings: MeetingsCast) -> None:
    client = signed_in(meetings.organiser)

    assert client.get(reverse("meetings:room", args=[meetings.finance_room.pk])).status_code == 404
    assert client.get(reverse("meetings:room", args=[999999])).status_code == 404


def test_the_meeting_admin_adds_a_room(meetings: MeetingsCast) -> None:
    office = meetings.organiser.department
    response = signed_in(meetings.meeting_admin).post(
        reverse("meetings:room_new"),
        {
            "name": "第三会议室",
            "location": "2号楼",
            "capacity": "16",
            "equipment": "投影、白板",
            "bookable_by": "departments",
            "bookable_departments": [str(office.pk)],
            "requires_approval": "on",
            "admins": [str(meetings.meeting_admin.pk)],
            "is_active": "on",
        },
    )

    room = Room.objects.get(name="第三会议室")
    assert response.status_code == 302 and response["Location"] == reverse("meetings:room", args=[room.pk])
    assert room.equipment == ["投影", "白板"] and room.requires_approval and room.capacity == 16
    assert list(room.bookable_departments.all()) == [office]
    assert list(room.admins.all()) == [meetings.meeting_admin]


def test_a_duplicate_room_name_re_renders_with_what_was_typed(meetings: MeetingsCast) -> None:
    response = signed_in(meetings.meeting_admin).post(
        reverse("meetings:room_new"),
        {
            "name": "第一会议室",
            "location": "新楼",
            "capacity": "10",
            "bookable_by": "agency",
            "is_active": "on",
        },
    )
    html = response.content.decode()

    assert response.status_code == 200
    assert "本机关已有同名会议室。" in html and 'value="新楼"' in html


def test_departments_must_be_chosen_when_only_departments_may_book(meetings: MeetingsCast) -> None:
    response = signed_in(meetings.meeting_admin).post(
        reverse("meetings:room_new"),
        {"name": "小会议室", "capacity": "6", "bookable_by": "departments", "is_active": "on"},
    )

    assert "选择“指定部门”时，请至少选择一个部门。" in response.content.decode()
    assert not Room.objects.filter(name="小会议室").exists()


def test_someone_not_meeting_admin_may_not_add_or_edit_rooms(meetings: MeetingsCast) -> None:
    client = signed_in(meetings.participant)

    assert client.get(reverse("meetings:room_new")).status_code == 403
    assert client.get(reverse("meetings:room_edit", args=[meetings.big_room.pk])).status_code == 403
    assert (
        signed_in(meetings.outsider)
        .get(reverse("meetings:room_edit", args=[meetings.big_room.pk]))
        .status_code
        == 404
    )


def test_editing_a_room_keeps_its_values_and_saves_changes(meetings: MeetingsCast) -> None:
    client = signed_in(meetings.meeting_admin)
    url = reverse("meetings:room_edit", args=[meetings.vip_room.pk])

    form_html = client.get(url).content.decode()
    response = client.post(
        url,
        {
            "name": "常务会议室",
            "location": "省府大院1号楼5楼",
            "capacity": "14",
            "equipment": "话筒",
            "bookable_by": "agency",
            "requires_approval": "on",
            "admins": [str(meetings.meeting_admin.pk)],
            "is_active": "on",
        },
    )

    assert 'value="常务会议室"' in form_html and "同声传译" in form_html
    assert response.status_code == 302
    room = Room.objects.get(pk=meetings.vip_room.pk)
    assert room.capacity == 14 and room.equipment == ["话筒"]


def test_a_room_admin_edits_but_cannot_change_who_administers_it(meetings: MeetingsCast) -> None:
    room = meetings.big_room
    room.admins.add(meetings.colleague)

    html = signed_in(meetings.colleague).get(reverse("meetings:room_edit", args=[room.pk])).content.decode()

    assert 'name="capacity"' in html and 'name="admins"' not in html


def test_the_approvals_page_approves_and_refuses_with_a_reason(meetings: MeetingsCast) -> None:
    first = book(
        actor=meetings.organiser, room=meetings.vip_room, starts_at=meetings.at(9), ends_at=meetings.at(10)
    )
    second = book(
        actor=meetings.participant, room=meetings.vip_room, starts_at=meetings.at(11), ends_at=meetings.at(12)
    )
    client = signed_in(meetings.meeting_admin)

    page = client.get(reverse("meetings:bookings")).content.decode()
    approved = client.post(reverse("meetings:booking_decide", args=[first.pk]), {"decision": "approve"})
    no_reason = client.post(
        reverse("meetings:booking_decide", args=[second.pk]), {"decision": "refuse", "note": ""}
    )
    refused = client.post(
        reverse("meetings:booking_decide", args=[second.pk]), {"decision": "refuse", "note": "当天检修"}
    )

    assert "待我审批（2）" in page and reverse("meetings:booking_decide", args=[first.pk]) in page
    assert approved.status_code == 302
    assert no_reason.status_code == 400 and "请填写不批准的理由。" in no_reason.content.decode()
    assert refused.status_code == 302
    statuses = dict(Booking.objects.values_list("pk", "status"))
    assert statuses == {first.pk: BookingStatus.APPROVED, second.pk: BookingStatus.REFUSED}


def test_a_refusal_too_long_re_renders_with_the_typed_note(meetings: MeetingsCast) -> None:
    held = book(
        actor=meetings.organiser, room=meetings.vip_room, starts_at=meetings.at(9), ends_at=meetings.at(10)
    )

    response = signed_in(meetings.meeting_admin).post(
        reverse("meetings:booking_decide", args=[held.pk]), {"decision": "refuse", "note": "长" * 201}
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "意见最多 200 个字。" in html and "长" * 201 in html


def test_someone_who_does_not_manage_the_room_may_not_decide(meetings: MeetingsCast) -> None:
    held = book(
        actor=meetings.organiser, room=meetings.vip_room, starts_at=meetings.at(9), ends_at=meetings.at(10)
    )

    forbidden = signed_in(meetings.participant).post(
        reverse("meetings:booking_decide", args=[held.pk]), {"decision": "approve"}
    )
    hidden = signed_in(meetings.outsider).post(
        reverse("meetings:booking_decide", args=[held.pk]), {"decision": "approve"}
    )

    assert forbidden.status_code == 403 and hidden.status_code == 404
    assert Booking.objects.get(pk=held.pk).status == BookingStatus.PENDING


def test_the_booker_cancels_from_my_bookings_and_the_slot_is_free_again(meetings: MeetingsCast) -> None:
    held = book(
        actor=meetings.organiser, room=meetings.big_room, starts_at=meetings.at(9), ends_at=meetings.at(10)
    )
    client = signed_in(meetings.organiser)

    page = client.get(reverse("meetings:bookings")).content.decode()
    response = client.post(reverse("meetings:booking_cancel", args=[held.pk]), {"reason": "改期"})

    assert reverse("meetings:booking_cancel", args=[held.pk]) in page
    assert response.status_code == 302
    assert Booking.objects.get(pk=held.pk).status == BookingStatus.CANCELLED
    again = book(
        actor=meetings.participant, room=meetings.big_room, starts_at=meetings.at(9), ends_at=meetings.at(10)
    )
    assert again.status == BookingStatus.APPROVED


def test_someone_elses_booking_cannot_be_cancelled(meetings: MeetingsCast) -> None:
    held = book(
        actor=meetings.organiser, room=meetings.big_room, starts_at=meetings.at(9), ends_at=meetings.at(10)
    )

    response = signed_in(meetings.participant).post(
        reverse("meetings:booking_cancel", args=[held.pk]), {"reason": "我要用"}
    )

    assert response.status_code == 400
    assert "只有预订人和会议室管理员可以修改或取消该预订。" in response.content.decode()
    assert Booking.objects.get(pk=held.pk).status == BookingStatus.APPROVED
