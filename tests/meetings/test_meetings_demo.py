"""load_demo's meetings part ("70-meetings") builds what the demo accounts are promised: rooms,
meetings in every state with every kind of reply, a weekly series and a booking waiting for
approval — checked as the people who sign in would see them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from meetings import access
from meetings.demo import TITLES
from meetings.models import BookingStatus, Meeting, MeetingStatus, Reply, Room, Rsvp
from meetings.pages import waiting_count
from meetings.stats import stats_for
from officeapp.org.models import User


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[list[str]]:
    """The province and the meetings demo, built once for this module and rolled back at its end."""
    from officeapp.demo import load_demo_province
    from officeapp.registries import demo_builders

    lines: list[str] = []
    with django_db_blocker.unblock(), transaction.atomic():
        load_demo_province(stdout=None)
        lines.append(demo_builders["70-meetings"](lines.append))
        yield lines
        transaction.set_rollback(True)


def user(username: str) -> User:
    return User.objects.get(username=username)


def meeting(key: str) -> Meeting:
    return Meeting.objects.filter(title=TITLES[key]).order_by("starts_at").first()


def test_meetings_exist_in_every_state(demo: list[str], db: Any) -> None:
    states = {key: meeting(key).status for key in ("noticed", "draft", "live", "ended", "cancelled")}
    assert states == {
        "noticed": MeetingStatus.NOTICED,
        "draft": MeetingStatus.DRAFT,
        "live": MeetingStatus.LIVE,
        "ended": MeetingStatus.ENDED,
        "cancelled": MeetingStatus.CANCELLED,
    }
    assert "黄丽华组织" in demo[0]
    assert Room.objects.filter(agency__short_name="省府办公厅").count() >= 2


def test_noticed_meeting_has_every_kind_of_reply_and_silent_people(demo: list[str], db: Any) -> None:
    noticed = meeting("noticed")
    figures = stats_for(noticed)
    assert figures["attend"] >= 2 and figures["leave"] == 1 and figures["delegate"] == 1
    assert figures["silent"] >= 3  # 何军, 邓岚 and 陈志强's delegate
    leave = Rsvp.objects.get(meeting=noticed, reply=Reply.LEAVE)
    assert leave.user.username == "zhou.jianguo" and leave.reason
    assert Rsvp.objects.filter(meeting=noticed, delegated_from__user__username="chen.zhiqiang").exists()


def test_lin_xiaomei_sees_her_meetings_and_li_guohua_has_attendees_to_choose(
    demo: list[str], db: Any
) -> None:
    lin, li = user("lin.xiaomei"), user("li.guohua")
    assert access.visible_meetings(lin).filter(pk=meeting("noticed").pk).exists()
    assert waiting_count(user("deng.lan")) >= 1
    pending = access.pending_agency_invitations(li)
    assert [inv.meeting.title for inv in pending] == [TITLES["noticed"]]

    client = Client()
    client.force_login(li, backend="officeapp.accounts.backends.LockoutAwareBackend")
    html = client.get(reverse("meetings:index")).content.decode()
    assert "待报送参会人员" in html and TITLES["noticed"] in html


def test_organiser_page_of_the_noticed_meeting_shows_statistics(demo: list[str], db: Any) -> None:
    client = Client()
    client.force_login(user("huang.lihua"), backend="officeapp.accounts.backends.LockoutAwareBackend")
    html = client.get(reverse("meetings:detail", args=[meeting("noticed").pk])).content.decode()
    assert "回执统计" in html and "何军" in html and "提醒未回执人员" in html


def test_weekly_series_and_a_booking_waiting_for_approval(demo: list[str], db: Any) -> None:
    weekly = Meeting.objects.filter(title=TITLES["weekly"]).order_by("starts_at")
    assert weekly.count() == 4 and len({m.series_id for m in weekly}) == 1
    assert weekly[0].status == MeetingStatus.NOTICED
    pending = meeting("pending")
    assert pending.booking.status == BookingStatus.PENDING and pending.organiser.username == "lin.xiaomei"


def test_ended_meeting_has_check_ins(demo: list[str], db: Any) -> None:
    assert stats_for(meeting("ended"))["checked_in"] == 2
