"""The people and rooms of meetings tests, on the fixed cast (tests/conftest.py).

People: `organiser` (黄丽华, 省府办公厅 秘书处, the cast's office_secretary) organises; `host` (王德明,
副厅长, the cast's leader) chairs; `meeting_admin` (刘芳, 省府办公厅 办公室, made here) is the agency's
会议管理员 and the admin of the room that needs approval; `participant` (林小梅, the drafter) and
`colleague` (陈志强, her 处长) are invited by name; the 综合处 (general_dept) can be invited whole;
`finance_clerk` (李国华, 省财政厅 收发员) chooses who 省财政厅 sends and `finance_staff` (钱进, 省财政厅
办公室, made here) is who he chooses; `outsider` (赵文静, 省教育厅) is invited to nothing;
`audit_admin` never uses meetings (三员分立).

Rooms of 省府办公厅: `big_room` 第一会议室 (40 seats, anyone of the agency books it, no approval) and
`vip_room` 常务会议室 (12 seats, bookings need approval by meeting_admin); of 省财政厅: `finance_room`.

    def test_…(meetings: MeetingsCast) -> None:
        meetings.organiser, meetings.big_room, meetings.at(9)  # tomorrow 09:00 local time
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.utils import timezone

from tests.conftest import CAST_PASSWORD


@dataclass
class MeetingsCast:
    cast: Any
    meeting_admin: Any
    finance_staff: Any
    big_room: Any
    vip_room: Any
    finance_room: Any

    @property
    def organiser(self) -> Any:
        return self.cast.office_secretary

    @property
    def host(self) -> Any:
        return self.cast.leader

    @property
    def participant(self) -> Any:
        return self.cast.drafter

    @property
    def colleague(self) -> Any:
        return self.cast.dept_head

    @property
    def finance_clerk(self) -> Any:
        return self.cast.other_clerk

    @property
    def outsider(self) -> Any:
        return self.cast.outsider

    @property
    def audit_admin(self) -> Any:
        return self.cast.audit_admin

    @property
    def agency(self) -> Any:
        return self.cast.gov_office

    def at(self, hour: int, minute: int = 0, *, days: int = 1) -> datetime:
        """An aware datetime `days` from today at hour:minute local time (tomorrow by default)."""
        day = timezone.localdate() + timedelta(days=days)
        return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def build_meetings_cast(cast: Any) -> MeetingsCast:
    from meetings.models import BookableBy, Room
    from officeapp.org import services
    from officeapp.org.models import Role

    meeting_admin = services.create_user(
        actor=None,
        username="meeting_admin",
        real_name="刘芳",
        department=cast.office,
        password=CAST_PASSWORD,
        employee_no="BGT010",
        mobile="13800000010",
        email="meeting_admin@gd.example",
    )
    services.grant_role(actor=None, user=meeting_admin, role=Role.MEETING_ADMIN, agency=cast.gov_office)
    finance_staff = services.create_user(
        actor=None,
        username="finance_staff",
        real_name="钱进",
        department=cast.finance_office,
        password=CAST_PASSWORD,
        employee_no="CZT002",
        mobile="13900000002",
        email="finance_staff@gd.example",
    )
    big_room = Room.objects.create(
        agency=cast.gov_office,
        name="第一会议室",
        location="省府大院1号楼3楼",
        capacity=40,
        equipment=["投影", "话筒", "视频会议终端"],
        bookable_by=BookableBy.AGENCY,
    )
    vip_room = Room.objects.create(
        agency=cast.gov_office,
        name="常务会议室",
        location="省府大院1号楼5楼",
        capacity=12,
        equipment=["话筒", "同声传译"],
        bookable_by=BookableBy.AGENCY,
        requires_approval=True,
    )
    vip_room.admins.add(meeting_admin)
    finance_room = Room.objects.create(
        agency=cast.finance, name="财政厅第二会议室", location="财政厅大楼2楼", capacity=20
    )
    return MeetingsCast(
        cast=cast,
        meeting_admin=meeting_admin,
        finance_staff=finance_staff,
        big_room=big_room,
        vip_room=vip_room,
        finance_room=finance_room,
    )
