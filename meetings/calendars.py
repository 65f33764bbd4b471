"""Calendars: a room's day and week (free/busy, what each booking is for only where the viewer may
see it) and a person's own week of meetings (organised, hosted, invited), all in local time.

Read-only: built from the rows through meetings.access; the pages only lay them out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from meetings import access
from meetings.models import HOLDING_STATUSES, Booking, Meeting, MeetingStatus, Room

# The grid's working hours (bookings outside them are still listed under the grid).
DAY_FIRST_HOUR = 7
DAY_LAST_HOUR = 22
SLOT_MINUTES = 30
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def local_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def day_label(day: date) -> str:
    return f"{day.month}月{day.day}日 {WEEKDAYS[day.weekday()]}"


@dataclass
class SlotView:
    """One holding booking as the viewer may see it."""

    booking: Booking
    starts_at: datetime
    ends_at: datetime
    purpose: str
    booked_by: str
    pending: bool
    mine: bool

    @property
    def label(self) -> str:
        start, end = timezone.localtime(self.starts_at), timezone.localtime(self.ends_at)
        if start.date() == end.date():
            return f"{start:%H:%M}–{end:%H:%M}"
        return f"{start:%H:%M}–{end.month}月{end.day}日 {end:%H:%M}"


@dataclass
class GridRow:
    starts_at: datetime
    ends_at: datetime
    busy: SlotView | None
    past: bool

    @property
    def label(self) -> str:
        return f"{timezone.localtime(self.starts_at):%H:%M}"

    @property
    def end_label(self) -> str:
        return f"{timezone.localtime(self.ends_at):%H:%M}"


@dataclass
class RoomDay:
    room: Room
    day: date
    slots: list[SlotView]
    rows: list[GridRow]

    @property
    def label(self) -> str:
        return day_label(self.day)


@dataclass
class WeekCell:
    day: date
    busy: list[SlotView]
    past: bool


@dataclass
class WeekRow:
    hour: int
    cells: list[WeekCell]

    @property
    def label(self) -> str:
        return f"{self.hour:02d}:00"


@dataclass
class RoomWeek:
    room: Room
    monday: date
    days: list[date]
    rows: list[WeekRow]
    per_day: list[tuple[date, list[SlotView]]]

    @property
    def label(self) -> str:
        end = self.days[-1]
        return f"{self.monday.year}年{self.monday.month}月{self.monday.day}日–{end.month}月{end.day}日"


def _slot_views(room: Room, since: datetime, until: datetime, viewer: Any) -> list[SlotView]:
    rows = (
        Booking.objects.filter(room=room, status__in=HOLDING_STATUSES, starts_at__lt=until, ends_at__gt=since)
        .select_related("booked_by", "room")
        .order_by("starts_at", "pk")
    )
    manages = access.can_manage_room(viewer, room)
    views: list[SlotView] = []
    for row in rows:
        sees = manages or row.booked_by_id == viewer.pk or access.may_see_booking_purpose(viewer, row)
        views.append(
            SlotView(
                booking=row,
                starts_at=row.starts_at,
                ends_at=row.ends_at,
                purpose=row.purpose if sees else "",
                booked_by=str(row.booked_by) if sees else "",
                pending=row.status == "pending",
                mine=row.booked_by_id == viewer.pk,
            )
        )
    return views


def _busy_in(slots: list[SlotView], since: datetime, until: datetime) -> list[SlotView]:
    return [s for s in slots if s.starts_at < until and s.ends_at > since]


def room_day(room: Room, day: date, viewer: Any) -> RoomDay:
    since = local_start(day)
    until = local_start(day + timedelta(days=1))
    slots = _slot_views(room, since, until, viewer)
    now = timezone.now()
    rows: list[GridRow] = []
    step = timedelta(minutes=SLOT_MINUTES)
    cursor = since + timedelta(hours=DAY_FIRST_HOUR)
    last = since + timedelta(hours=DAY_LAST_HOUR)
    while cursor < last:
        busy = _busy_in(slots, cursor, cursor + step)
        rows.append(
            GridRow(
                starts_at=cursor, ends_at=cursor + step, busy=busy[0] if busy else None, past=cursor < now
            )
        )
        cursor += step
    return RoomDay(room=room, day=day, slots=slots, rows=rows)


def room_week(room: Room, monday: date, viewer: Any) -> RoomWeek:
    monday = monday_of(monday)
    days = [monday + timedelta(days=n) for n in range(7)]
    since, until = local_start(monday), local_start(monday + timedelta(days=7))
    slots = _slot_views(room, since, until, viewer)
    now = timezone.now()
    rows: list[WeekRow] = []
    for hour in range(DAY_FIRST_HOUR, DAY_LAST_HOUR):
        cells = []
        for day in days:
            start = local_start(day) + timedelta(hours=hour)
            end = start + timedelta(hours=1)
            cells.append(WeekCell(day=day, busy=_busy_in(slots, start, end), past=end <= now))
        rows.append(WeekRow(hour=hour, cells=cells))
    per_day = [(day, _busy_in(slots, local_start(day), local_start(day + timedelta(days=1)))) for day in days]
    return RoomWeek(room=room, monday=monday, days=days, rows=rows, per_day=per_day)


# --- a person's own week --------------------------------------------------------------------------


@dataclass
class MeetingEntry:
    meeting: Meeting
    roles: list[str]

    @property
    def label(self) -> str:
        start, end = timezone.localtime(self.meeting.starts_at), timezone.localtime(self.meeting.ends_at)
        return f"{start:%H:%M}–{end:%H:%M}"

    @property
    def cancelled(self) -> bool:
        return self.meeting.status == MeetingStatus.CANCELLED

    @property
    def place(self) -> str:
        room = self.meeting.room
        parts = [room.name] if room is not None else []
        if self.meeting.online:
            parts.append("线上")
        return "、".join(parts)


@dataclass
class PersonWeek:
    monday: date
    days: list[tuple[date, list[MeetingEntry]]] = field(default_factory=list)

    @property
    def label(self) -> str:
        end = self.monday + timedelta(days=6)
        return f"{self.monday.year}年{self.monday.month}月{self.monday.day}日–{end.month}月{end.day}日"

    @property
    def count(self) -> int:
        return sum(len(entries) for _, entries in self.days)


def own_meetings(user: Any) -> Any:
    """Meetings that are the user's own (organised, hosted, invited or named as delegate) and that
    meetings.access lets them see: a meeting_admin's view of the whole agency is not their calendar."""
    mine = Q(organiser=user) | Q(host=user) | Q(rsvps__user=user)
    own = Meeting.objects.filter(mine).values("pk")
    return access.visible_meetings(user).filter(pk__in=own)


def person_week(user: Any, monday: date) -> PersonWeek:
    monday = monday_of(monday)
    since, until = local_start(monday), local_start(monday + timedelta(days=7))
    meetings = list(
        own_meetings(user)
        .filter(starts_at__lt=until, ends_at__gt=since)
        .select_related("booking__room")
        .order_by("starts_at", "pk")
    )
    invited = set(
        Meeting.objects.filter(pk__in=[m.pk for m in meetings], rsvps__user=user).values_list("pk", flat=True)
    )
    week = PersonWeek(monday=monday)
    for n in range(7):
        day = monday + timedelta(days=n)
        day_since, day_until = local_start(day), local_start(day + timedelta(days=1))
        entries = []
        for meeting in meetings:
            if meeting.starts_at < day_until and meeting.ends_at > day_since:
                roles = []
                if meeting.organiser_id == user.pk:
                    roles.append("组织")
                if meeting.host_id == user.pk:
                    roles.append("主持")
                if meeting.pk in invited:
                    roles.append("受邀")
                entries.append(MeetingEntry(meeting=meeting, roles=roles))
        week.days.append((day, entries))
    return week
