"""Bad input never becomes a server error (500): every meetings form and query parameter fed ids too
large for the database, negative and non-numeric numbers, impossible and extreme dates, over-long
text. Each page answers with its refusal (400), a redirect or the page itself."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.meetings.factories_c import make_meeting
from tests.meetings.meetings_cast import MeetingsCast

HUGE = str(2**80)
BAD_VALUES = [
    HUGE,
    "-1",
    "0",
    "abc",
    "1e5",
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "2026-02-30",
    "25:61",
    "x" * 20_000,
    "9" * 5000,  # past Python's int() conversion limit of 4300 digits
    "\x00",
]


def signed_in(user: Any) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user, backend="officeapp.accounts.backends.LockoutAwareBackend")
    return client


def _no_server_error(client: Client, method: str, url: str, fields: dict[str, str], **extra: Any) -> None:
    """Each field in turn gets each bad value, the other fields a sensible one."""
    failures = []
    for name in fields:
        for bad in BAD_VALUES:
            data = {**fields, name: bad}
            response = client.get(url, data) if method == "get" else client.post(url, {**extra, **data})
            if response.status_code >= 500:
                failures.append((url, name, bad[:30], response.status_code))
    assert not failures, failures


def _meeting_fields(m: MeetingsCast) -> dict[str, str]:
    return {
        "title": "全省防汛工作会",
        "kind": "office",
        "starts_at": m.at(9).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": m.at(10).strftime("%Y-%m-%dT%H:%M"),
        "host": str(m.host.pk),
        "room": str(m.big_room.pk),
        "notice": "请准时参加。",
        "remind_minutes_before": "60",
        "frequency": "weekly",
        "count": "2",
    }


@pytest.mark.django_db
def test_the_meeting_form_and_its_free_room_check_never_fail_on_bad_input(meetings: MeetingsCast) -> None:
    m = meetings
    client = signed_in(m.organiser)
    _no_server_error(client, "post", reverse("meetings:new"), _meeting_fields(m))
    _no_server_error(client, "get", reverse("meetings:new"), _meeting_fields(m))
    meeting = make_meeting(m, starts_at=m.at(14))
    fields = {k: v for k, v in _meeting_fields(m).items() if k not in ("frequency", "count")}
    _no_server_error(client, "post", reverse("meetings:edit", args=[meeting.pk]), fields)


@pytest.mark.django_db
def test_invitees_reply_choose_and_cancel_never_fail_on_bad_input(meetings: MeetingsCast) -> None:
    m = meetings
    meeting = make_meeting(m, starts_at=m.at(14))
    organiser = signed_in(m.organiser)
    _no_server_error(
        organiser,
        "post",
        reverse("meetings:invitees", args=[meeting.pk]),
        {
            "members": str(m.participant.pk),
            "departments": str(m.cast.general_dept.pk),
            "agencies": str(m.cast.finance.pk),
            f"quota_{m.cast.finance.pk}": "2",
        },
    )
    _no_server_error(
        organiser, "get", reverse("meetings:invitees", args=[meeting.pk]), {"members": "1", "q": "林"}
    )
    _no_server_error(organiser, "post", reverse("meetings:cancel", args=[meeting.pk]), {"reason": "改期"})
    meeting = make_meeting(m, starts_at=m.at(15))
    _no_server_error(
        signed_in(m.participant),
        "post",
        reverse("meetings:reply", args=[meeting.pk]),
        {"reply": "delegate", "reason": "出差", "delegate": str(m.colleague.pk)},
    )
    _no_server_error(signed_in(m.participant), "get", reverse("meetings:index"), {"tab": "past", "page": "2"})


@pytest.mark.django_db
def test_room_booking_and_calendars_never_fail_on_bad_input(meetings: MeetingsCast) -> None:
    m = meetings
    client = signed_in(m.participant)
    day = (m.at(9)).date().isoformat()
    _no_server_error(
        client,
        "post",
        reverse("meetings:room", args=[m.big_room.pk]),
        {
            "day": day,
            "start": "09:00",
            "end": "10:00",
            "purpose": "处务会",
            "attendees": "5",
            "repeat": "weekly",
            "count": "2",
            "interval": "1",
        },
    )
    _no_server_error(
        client, "get", reverse("meetings:room", args=[m.big_room.pk]), {"day": day, "start": "09:00"}
    )
    _no_server_error(client, "get", reverse("meetings:room_calendar", args=[m.big_room.pk]), {"day": day})
    _no_server_error(client, "get", reverse("meetings:room_calendar", args=[m.big_room.pk]), {"week": day})
    _no_server_error(client, "get", reverse("meetings:my_calendar"), {"week": day})


@pytest.mark.django_db
def test_rooms_approvals_and_media_settings_never_fail_on_bad_input(meetings: MeetingsCast) -> None:
    from meetings.booking import book

    m = meetings
    admin = signed_in(m.meeting_admin)
    room_fields = {
        "name": "第二会议室",
        "location": "1号楼",
        "capacity": "20",
        "equipment": "投影",
        "bookable_by": "agency",
        "bookable_departments": str(m.cast.general_dept.pk),
        "admins": str(m.meeting_admin.pk),
        "requires_approval": "on",
        "is_active": "on",
    }
    _no_server_error(admin, "post", reverse("meetings:room_new"), room_fields)
    _no_server_error(admin, "post", reverse("meetings:room_edit", args=[m.vip_room.pk]), room_fields)
    held = book(actor=m.participant, room=m.vip_room, starts_at=m.at(9), ends_at=m.at(10), purpose="汇报")
    _no_server_error(
        admin,
        "post",
        reverse("meetings:booking_decide", args=[held.pk]),
        {"decision": "refuse", "note": "冲突"},
    )
    _no_server_error(
        signed_in(m.participant),
        "post",
        reverse("meetings:booking_cancel", args=[held.pk]),
        {"reason": "改期", "next": "/meetings/bookings/"},
    )
    system_admin = signed_in(m.cast.system_admin)
    _no_server_error(
        system_admin,
        "post",
        reverse("meetings:media_settings"),
        {
            "provider": "jitsi",
            "server_url": "https://meet.example",
            "app_id": "a",
            "app_secret": "s",
            "token_minutes": "60",
        },
    )


@pytest.mark.django_db
def test_agenda_minutes_and_check_in_never_fail_on_bad_input(meetings: MeetingsCast) -> None:
    from meetings.models import AgendaItem

    m = meetings
    meeting = make_meeting(m, starts_at=m.at(14))
    item = AgendaItem.objects.create(meeting=meeting, order=1, title="听取汇报")
    client = signed_in(m.organiser)
    agenda = reverse("meetings:agenda", args=[meeting.pk])
    item_fields = {
        "title": "审议方案",
        "presenter": str(m.participant.pk),
        "presenter_name": "",
        "starts_at": m.at(14).strftime("%Y-%m-%dT%H:%M"),
        "minutes": "15",
        "notes": "",
    }
    _no_server_error(client, "post", agenda, {f"new-{k}": v for k, v in item_fields.items()}, action="add")
    _no_server_error(
        client,
        "post",
        agenda,
        {"item": str(item.pk), **{f"item{item.pk}-{k}": v for k, v in item_fields.items()}},
        action="update",
    )
    _no_server_error(client, "post", agenda, {"item": str(item.pk), "position": "1"}, action="move")
    _no_server_error(client, "post", agenda, {"material": "1"}, action="remove_material")
    _no_server_error(
        client,
        "post",
        reverse("meetings:minutes", args=[meeting.pk]),
        {
            "body": "会议纪要。",
            "decisions-TOTAL_FORMS": "1",
            "decisions-INITIAL_FORMS": "0",
            "decisions-0-id": "",
            "decisions-0-text": "抓紧落实",
            "decisions-0-lead_department": str(m.cast.general_dept.pk),
            "decisions-0-due_on": (m.at(9) + timedelta(days=30)).date().isoformat(),
        },
        action="save",
    )
    _no_server_error(
        client, "post", reverse("meetings:minutes", args=[meeting.pk]), {"decision": "1"}, action="supervise"
    )
    _no_server_error(client, "post", reverse("meetings:checkin_manual", args=[meeting.pk]), {"user": "1"})
    _no_server_error(client, "get", reverse("meetings:checkin_door", args=[meeting.pk]), {"part": "lists"})


# --- what the person sees when refused -----------------------------------------------------------


@pytest.mark.django_db
def test_a_meeting_in_year_one_is_refused_in_chinese_and_keeps_the_title(meetings: MeetingsCast) -> None:
    from meetings.fields import MSG_OUT_OF_RANGE

    fields = {**_meeting_fields(meetings), "starts_at": "0001-01-01T09:00", "frequency": "", "count": ""}
    response = signed_in(meetings.organiser).post(reverse("meetings:new"), fields)
    assert response.status_code == 400
    page = response.content.decode()
    assert MSG_OUT_OF_RANGE in page
    assert 'value="全省防汛工作会"' in page


@pytest.mark.django_db
def test_an_invited_department_id_too_large_for_the_database_is_refused(meetings: MeetingsCast) -> None:
    meeting = make_meeting(meetings, starts_at=meetings.at(14))
    response = signed_in(meetings.organiser).post(
        reverse("meetings:invitees", args=[meeting.pk]), {"departments": HUGE}
    )
    assert response.status_code == 400
    assert "所选部门不在可选范围内。" in response.content.decode()


@pytest.mark.django_db
def test_a_calendar_day_at_the_end_of_time_shows_today_instead(meetings: MeetingsCast) -> None:
    from django.utils import timezone

    url = reverse("meetings:room_calendar", args=[meetings.big_room.pk])
    response = signed_in(meetings.participant).get(url, {"day": "9999-12-31"})
    assert response.status_code == 200
    assert response.context["calendar"].day == timezone.localdate()


@pytest.mark.django_db
def test_a_forged_decision_id_is_refused_and_the_minutes_text_kept(meetings: MeetingsCast) -> None:
    from meetings.minutes_forms import MSG_STALE_ROW

    meeting = make_meeting(meetings, starts_at=meetings.at(14))
    response = signed_in(meetings.organiser).post(
        reverse("meetings:minutes", args=[meeting.pk]),
        {
            "action": "save",
            "body": "会议听取了汇报。",
            "decisions-TOTAL_FORMS": "1",
            "decisions-INITIAL_FORMS": "0",
            "decisions-0-id": HUGE,
            "decisions-0-text": "抓紧落实",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "会议听取了汇报。" in page and "抓紧落实" in page
    assert MSG_STALE_ROW in page


@pytest.mark.django_db
def test_the_clerks_choice_refuses_ids_past_the_database_in_chinese(meetings: MeetingsCast) -> None:
    from meetings import services
    from meetings.models import Invitee, InviteeKind, MeetingKind

    m = meetings
    meeting = services.create_meeting(
        actor=m.organiser,
        title="全省财政工作会",
        kind=MeetingKind.OFFICE,
        starts_at=m.at(9),
        ends_at=m.at(11),
        host=m.host,
        online=True,
    )
    services.set_invitees(meeting, actor=m.organiser, agencies=[(m.cast.finance, 2)])
    services.send_notice(meeting, actor=m.organiser)
    invitee = Invitee.objects.get(meeting=meeting, kind=InviteeKind.AGENCY)
    client = signed_in(m.finance_clerk)
    for bad in (HUGE, "9" * 5000, "-1"):
        response = client.post(reverse("meetings:choose", args=[invitee.pk]), {"members": [bad]})
        assert response.status_code == 400
        assert "所选人员不是本单位人员。" in response.content.decode()
