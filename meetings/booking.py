"""Rooms and their bookings: book, move, cancel, approve or refuse; recurring bookings; rooms.

Each service is one transaction with a keyword-only actor; it re-checks meetings.access (a room the
actor may not see is the same Http404 as a missing one), refuses with a MeetingError carrying a
Chinese sentence, writes the audit event and the outbox row of every change, and notifies only
through officeapp.notify (which pushes after commit).

No double booking: the database is the guarantee (migration 0002: PostgreSQL's exclusion constraint,
SQLite's trigger, both named CONSTRAINT). The service looks for an overlapping booking first only to
name it in a friendly sentence; the save itself runs in a savepoint, and the database's refusal of
it (raised when a concurrent booking committed between the look and the save) is turned into the
same sentence while the outer transaction carries on. A pending booking holds its slot as an
approved one does, so approving can never double-book.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, OperationalError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from meetings import access
from meetings.errors import MeetingError
from meetings.models import HOLDING_STATUSES, BookableBy, Booking, BookingStatus, Room, Series
from officeapp.access import NOT_FOUND_MESSAGE
from officeapp.audit.services import record
from officeapp.notify.services import notify
from officeapp.outbox.services import emit

# The name both databases put in their refusal of an overlapping booking (migration 0002).
CONSTRAINT = "meetings_booking_no_overlap"
BOOKING_MAX_HOURS = 12
SERIES_MAX_COUNT = 52
SERIES_MAX_INTERVAL = 12
ROOM_MAX_CAPACITY = 10_000
EQUIPMENT_MAX_ITEMS = 20
EQUIPMENT_MAX_CHARS = 20
ROOM_NAME_MAX_CHARS = Room._meta.get_field("name").max_length or 60
LOCATION_MAX_CHARS = Room._meta.get_field("location").max_length or 120
PURPOSE_MAX_CHARS = Booking._meta.get_field("purpose").max_length or 120
NOTE_MAX_CHARS = Booking._meta.get_field("decision_note").max_length or 200

MSG_NO_TIME = "请填写开始和结束时间。"
MSG_PAST = "开始时间已过，不能预订过去的时段。"
MSG_END_BEFORE_START = "结束时间必须晚于开始时间。"
MSG_TOO_LONG = f"一次预订不能超过 {BOOKING_MAX_HOURS} 小时。"
MSG_ATTENDEES = "参会人数至少为 1 人。"
MSG_INACTIVE = "该会议室已停用，不能预订。"
MSG_MAY_NOT_BOOK = "您没有预订该会议室的权限。"
MSG_TAKEN_PLAIN = "该时段已被预订，请选择其他时段。"
MSG_NOT_YOURS = "只有预订人和会议室管理员可以修改或取消该预订。"
MSG_NOT_HOLDING = "该预订已取消或未获批准，不能再修改。"
MSG_NOT_PENDING = "该预订已处理，无需再审批。"
MSG_NOT_MANAGER = "只有会议室管理员可以审批该预订。"
MSG_REFUSE_NOTE = "请填写不批准的理由。"
MSG_PURPOSE_TOO_LONG = f"用途最多 {PURPOSE_MAX_CHARS} 个字。"
MSG_NOTE_TOO_LONG = f"意见最多 {NOTE_MAX_CHARS} 个字。"
MSG_FREQUENCY = "请选择重复方式（每周或每月）。"
MSG_COUNT = f"重复次数须在 1 到 {SERIES_MAX_COUNT} 次之间。"
MSG_INTERVAL = f"间隔须在 1 到 {SERIES_MAX_INTERVAL} 之间。"
MSG_NOT_ROOM_ADMIN = "只有本机关的会议管理员可以管理会议室。"
MSG_ADMINS_ONLY_MEETING_ADMIN = "只有本机关的会议管理员可以调整会议室管理员。"
MSG_ROOM_NAME = "请填写会议室名称。"
MSG_ROOM_NAME_TOO_LONG = f"会议室名称最多 {ROOM_NAME_MAX_CHARS} 个字。"
MSG_ROOM_NAME_TAKEN = "本机关已有同名会议室。"
MSG_LOCATION_TOO_LONG = f"位置最多 {LOCATION_MAX_CHARS} 个字。"
MSG_CAPACITY = f"容纳人数须为 1 到 {ROOM_MAX_CAPACITY} 之间的整数。"
MSG_EQUIPMENT = f"设备最多 {EQUIPMENT_MAX_ITEMS} 项，每项最多 {EQUIPMENT_MAX_CHARS} 个字。"
MSG_BOOKABLE_BY = "请选择谁可以预订。"
MSG_DEPARTMENTS_NEEDED = "选择“指定部门”时，请至少选择一个部门。"
MSG_DEPARTMENT_OTHER_AGENCY = "只能选择本机关的部门。"
MSG_ADMIN_INACTIVE = "会议室管理员须为在职人员。"


def _over_capacity(attendees: int, room: Room) -> str:
    return f"参会人数（{attendees} 人）超过会议室容量（{room.capacity} 人）。"


def _not_found() -> Http404:
    return Http404(NOT_FOUND_MESSAGE)


# --- how a slot reads ---------------------------------------------------------------------------


def slot_label(starts_at: datetime, ends_at: datetime) -> str:
    """ "12月8日 09:00–10:00" in local time (the end's date too when it is another day)."""
    start = timezone.localtime(starts_at)
    end = timezone.localtime(ends_at)
    if start.date() == end.date():
        return f"{start.month}月{start.day}日 {start:%H:%M}–{end:%H:%M}"
    return f"{start.month}月{start.day}日 {start:%H:%M}–{end.month}月{end.day}日 {end:%H:%M}"


def taken_message(clash: Booking | None, viewer: Any) -> str:
    """The refusal of an overlapping booking: the slot that holds the room, and what it is for
    only when the viewer may see that."""
    if clash is None:
        return MSG_TAKEN_PLAIN
    text = f"该时段已被预订：{slot_label(clash.starts_at, clash.ends_at)}"
    if clash.status == BookingStatus.PENDING:
        text += "（待审批）"
    if clash.purpose and access.may_see_booking_purpose(viewer, clash):
        text += f"，用途：{clash.purpose}"
    return text + "。"


# --- checks shared by every booking change --------------------------------------------------------


def _check_times(starts_at: datetime | None, ends_at: datetime | None) -> tuple[datetime, datetime]:
    if starts_at is None or ends_at is None:
        raise MeetingError(MSG_NO_TIME)
    # A naive time is local wall-clock time (what a person typed).
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at)
    if timezone.is_naive(ends_at):
        ends_at = timezone.make_aware(ends_at)
    if ends_at <= starts_at:
        raise MeetingError(MSG_END_BEFORE_START)
    if starts_at < timezone.now():
        raise MeetingError(MSG_PAST)
    if ends_at - starts_at > timedelta(hours=BOOKING_MAX_HOURS):
        raise MeetingError(MSG_TOO_LONG)
    return starts_at, ends_at


def _check_attendees(attendees: Any, room: Room) -> int:
    if isinstance(attendees, bool) or not isinstance(attendees, int) or attendees < 1:
        raise MeetingError(MSG_ATTENDEES)
    if attendees > room.capacity:
        raise MeetingError(_over_capacity(attendees, room))
    return attendees


def _check_purpose(purpose: str) -> str:
    purpose = (purpose or "").strip()
    if len(purpose) > PURPOSE_MAX_CHARS:
        raise MeetingError(MSG_PURPOSE_TOO_LONG)
    return purpose


def _room_to_book(actor: Any, room: Room | int) -> Room:
    """The room as it is now (a stale object might still say active), seen through access."""
    pk = room.pk if isinstance(room, Room) else room
    fresh = access.visible_rooms(actor).filter(pk=pk).first()
    if fresh is None:
        raise _not_found()
    if not fresh.is_active:
        raise MeetingError(MSG_INACTIVE)
    if not access.can_book(actor, fresh):
        raise MeetingError(MSG_MAY_NOT_BOOK)
    return fresh


def first_clash(
    room: Room, starts_at: datetime, ends_at: datetime, *, exclude: int | None = None
) -> Booking | None:
    """The earliest booking holding `room` somewhere in [starts_at, ends_at) (half-open: a booking
    ending at 10:00 leaves 10:00 free)."""
    clashes = Booking.objects.filter(
        room=room, status__in=HOLDING_STATUSES, starts_at__lt=ends_at, ends_at__gt=starts_at
    )
    if exclude is not None:
        clashes = clashes.exclude(pk=exclude)
    return clashes.order_by("starts_at", "pk").first()


def _is_overlap_refusal(exc: Exception) -> bool:
    return CONSTRAINT in str(exc)


def _save_holding(booking: Booking, viewer: Any) -> None:
    """Save in a savepoint; the database's overlap refusal becomes the sentence naming the clash."""
    try:
        with transaction.atomic():
            booking.save()
    except (IntegrityError, OperationalError) as exc:
        if not _is_overlap_refusal(exc):
            raise
        clash = first_clash(booking.room, booking.starts_at, booking.ends_at, exclude=booking.pk)
        raise MeetingError(taken_message(clash, viewer)) from exc


def _room_managers(room: Room) -> list[Any]:
    """Who approves the room's bookings: its admins and the meeting_admins whose grant covers the
    room's agency (an agency grant, or a province-wide one), as officeapp.access.has_role reads them."""
    from django.db.models import Q

    from officeapp.org.models import Role

    users = get_user_model().objects.filter(is_active=True)
    covering = Q(role_grants__role=Role.MEETING_ADMIN) & (
        Q(role_grants__agency_id=room.agency_id)
        | Q(role_grants__agency__isnull=True, role_grants__department__isnull=True)
    )
    return list(users.filter(Q(administered_rooms=room) | covering).distinct().order_by("pk"))


def _booking_event(booking: Booking, topic: str) -> None:
    emit(
        topic,
        booking,
        payload={
            "room": booking.room_id,
            "status": booking.status,
            "starts_at": booking.starts_at.isoformat(),
            "ends_at": booking.ends_at.isoformat(),
        },
    )


def _audit(action: str, booking: Booking, actor: Any, **details: Any) -> None:
    record(
        action,
        actor=actor,
        obj=booking,
        details={"room": booking.room_id, "status": booking.status, **details},
    )


def _approvals_url() -> str:
    return reverse("meetings:bookings")


def _room_url(room: Room) -> str:
    return reverse("meetings:room", args=[room.pk])


def _tell_managers(booking: Booking, actor: Any) -> None:
    managers = [u for u in _room_managers(booking.room) if u.pk != actor.pk]
    if managers:
        notify(
            managers,
            kind="meetings.booking.pending",
            title=f"会议室预订待审批：{booking.room.name} {slot_label(booking.starts_at, booking.ends_at)}",
            body=f"预订人：{actor}",
            url=_approvals_url(),
            actor=actor,
        )


def _tell_booker(booking: Booking, actor: Any, title: str) -> None:
    if booking.booked_by_id != actor.pk:
        notify(
            [booking.booked_by],
            kind="meetings.booking.decided",
            title=title,
            body=booking.decision_note[:60],
            url=_room_url(booking.room),
            actor=actor,
        )


# --- booking --------------------------------------------------------------------------------------


@transaction.atomic
def book(
    *,
    actor: Any,
    room: Room | int,
    starts_at: datetime,
    ends_at: datetime,
    purpose: str = "",
    attendees: int = 1,
    series: Series | None = None,
) -> Booking:
    """Hold `room` for [starts_at, ends_at): APPROVED, or PENDING when the room requires approval
    and the actor does not manage it (a pending booking holds the slot too)."""
    starts_at, ends_at = _check_times(starts_at, ends_at)
    target = _room_to_book(actor, room)
    attendees = _check_attendees(attendees, target)
    purpose = _check_purpose(purpose)
    needs_approval = target.requires_approval and not access.can_manage_room(actor, target)

    clash = first_clash(target, starts_at, ends_at)
    if clash is not None:
        raise MeetingError(taken_message(clash, actor))
    booking = Booking(
        room=target,
        starts_at=starts_at,
        ends_at=ends_at,
        status=BookingStatus.PENDING if needs_approval else BookingStatus.APPROVED,
        purpose=purpose,
        attendees=attendees,
        booked_by=actor,
        series=series,
    )
    if not needs_approval:
        booking.decided_by = actor
        booking.decided_at = timezone.now()
    _save_holding(booking, actor)
    _audit("meetings.booking.create", booking, actor, series=series.pk if series else None)
    _booking_event(booking, "meetings.booking.created")
    if needs_approval:
        _tell_managers(booking, actor)
    return booking


def _lock_booking(booking: Booking | int) -> Booking:
    pk = booking.pk if isinstance(booking, Booking) else booking
    return Booking.objects.select_for_update().select_related("room", "booked_by").get(pk=pk)


def _require_changer(actor: Any, booking: Booking) -> None:
    if not access.may_use_meetings(actor):
        raise _not_found()
    if booking.booked_by_id == actor.pk:
        return
    if access.can_manage_room(actor, booking.room):
        return
    if not access.visible_rooms(actor).filter(pk=booking.room_id).exists():
        raise _not_found()
    raise MeetingError(MSG_NOT_YOURS)


@transaction.atomic
def move_booking(
    booking: Booking,
    *,
    actor: Any,
    starts_at: datetime,
    ends_at: datetime,
    attendees: int | None = None,
) -> Booking:
    """Move a holding booking to another time (same room). In a room that requires approval a move
    by someone who does not manage it waits for approval again: the approval was for the old slot.
    A refusal leaves the booking as it was."""
    current = _lock_booking(booking)
    _require_changer(actor, current)
    if not current.holds_room:
        raise MeetingError(MSG_NOT_HOLDING)
    starts_at, ends_at = _check_times(starts_at, ends_at)
    new_attendees = _check_attendees(current.attendees if attendees is None else attendees, current.room)
    clash = first_clash(current.room, starts_at, ends_at, exclude=current.pk)
    if clash is not None:
        raise MeetingError(taken_message(clash, actor))
    before = (current.starts_at, current.ends_at, current.status)
    current.starts_at, current.ends_at, current.attendees = starts_at, ends_at, new_attendees
    reapprove = (
        current.room.requires_approval
        and not access.can_manage_room(actor, current.room)
        and (starts_at, ends_at) != before[:2]
    )
    if reapprove:
        current.status = BookingStatus.PENDING
        current.decided_by, current.decided_at = None, None
    _save_holding(current, actor)
    _audit(
        "meetings.booking.move",
        current,
        actor,
        previous_starts_at=before[0].isoformat(),
        previous_ends_at=before[1].isoformat(),
    )
    _booking_event(current, "meetings.booking.moved")
    if reapprove:
        _tell_managers(current, actor)
    _copy_into(current, booking)
    return current


def _copy_into(source: Booking, target: Booking) -> None:
    """Keep the caller's object in step with the row (they may go on using it)."""
    if target is source:
        return
    for name in ("starts_at", "ends_at", "attendees", "status", "decided_by_id", "decided_at"):
        setattr(target, name, getattr(source, name))
    target.decision_note = source.decision_note


@transaction.atomic
def cancel_booking(booking: Booking, *, actor: Any, reason: str = "") -> Booking:
    """Free the slot. The booker or a manager; a manager's cancellation is told to the booker."""
    current = _lock_booking(booking)
    _require_changer(actor, current)
    if not current.holds_room:
        raise MeetingError(MSG_NOT_HOLDING)
    reason = (reason or "").strip()
    if len(reason) > NOTE_MAX_CHARS:
        raise MeetingError(MSG_NOTE_TOO_LONG)
    current.status = BookingStatus.CANCELLED
    if reason:
        current.decision_note = reason
    current.save(update_fields=["status", "decision_note"])
    _audit("meetings.booking.cancel", current, actor)
    _booking_event(current, "meetings.booking.cancelled")
    _tell_booker(
        current,
        actor,
        f"您的会议室预订已被取消：{current.room.name} {slot_label(current.starts_at, current.ends_at)}",
    )
    _copy_into(current, booking)
    return current


def _decide(booking: Booking, actor: Any, note: str, status: str) -> Booking:
    current = _lock_booking(booking)
    if (
        not access.may_use_meetings(actor)
        or not access.manageable_bookings(actor).filter(pk=current.pk).exists()
    ):
        if access.visible_rooms(actor).filter(pk=current.room_id).exists():
            raise MeetingError(MSG_NOT_MANAGER)
        raise _not_found()
    if current.status != BookingStatus.PENDING:
        raise MeetingError(MSG_NOT_PENDING)
    note = (note or "").strip()
    if len(note) > NOTE_MAX_CHARS:
        raise MeetingError(MSG_NOTE_TOO_LONG)
    if status == BookingStatus.REFUSED and not note:
        raise MeetingError(MSG_REFUSE_NOTE)
    current.status = status
    current.decided_by = actor
    current.decided_at = timezone.now()
    current.decision_note = note
    # A pending booking already holds its slot, so approving cannot overlap; saving through the
    # savepoint anyway keeps the database's word final.
    _save_holding(current, actor)
    verb = "approve" if status == BookingStatus.APPROVED else "refuse"
    _audit(f"meetings.booking.{verb}", current, actor)
    _booking_event(current, f"meetings.booking.{verb}d")
    outcome = "已批准" if status == BookingStatus.APPROVED else "未获批准"
    _tell_booker(
        current,
        actor,
        f"您的会议室预订{outcome}：{current.room.name} {slot_label(current.starts_at, current.ends_at)}",
    )
    _copy_into(current, booking)
    return current


@transaction.atomic
def approve_booking(booking: Booking, *, actor: Any, note: str = "") -> Booking:
    return _decide(booking, actor, note, BookingStatus.APPROVED)


@transaction.atomic
def refuse_booking(booking: Booking, *, actor: Any, note: str) -> Booking:
    """Refuse a pending booking (a reason is required); the slot is free again."""
    return _decide(booking, actor, note, BookingStatus.REFUSED)


# --- recurring bookings ---------------------------------------------------------------------------


@dataclass
class Occurrence:
    starts_at: datetime
    ends_at: datetime
    booking: Booking | None = None
    conflict: str = ""

    @property
    def booked(self) -> bool:
        return self.booking is not None


@dataclass
class SeriesResult:
    series: Series
    occurrences: list[Occurrence] = field(default_factory=list)

    @property
    def booked(self) -> list[Occurrence]:
        return [o for o in self.occurrences if o.booking is not None]

    @property
    def conflicts(self) -> list[Occurrence]:
        return [o for o in self.occurrences if o.booking is None]


class SeriesUnavailable(MeetingError):
    """Not one occurrence of a series was free: nothing was booked; `occurrences` says why each."""

    def __init__(self, message: str, occurrences: list[Occurrence]) -> None:
        super().__init__(message)
        self.occurrences = occurrences


def _add_months(day: date, months: int, wanted_day: int) -> date:
    """`day` moved by `months`, on `wanted_day` or the month's last day when it is shorter (a
    series on the 31st meets on 30 April and 28/29 February)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(wanted_day, last))


def occurrence_times(
    starts_at: datetime, ends_at: datetime, *, frequency: str, count: int, interval: int = 1
) -> list[tuple[datetime, datetime]]:
    """The slots of a series, keeping the local wall-clock time of the first."""
    start_local = timezone.localtime(starts_at)
    length = ends_at - starts_at
    slots: list[tuple[datetime, datetime]] = []
    for n in range(count):
        if frequency == Series.Frequency.WEEKLY:
            day = start_local.date() + timedelta(weeks=n * interval)
        else:
            day = _add_months(start_local.date(), n * interval, start_local.day)
        start = timezone.make_aware(datetime.combine(day, start_local.time().replace(tzinfo=None)))
        slots.append((start, start + length))
    return slots


def _check_series(frequency: Any, count: Any, interval: Any) -> None:
    if frequency not in Series.Frequency.values:
        raise MeetingError(MSG_FREQUENCY)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= SERIES_MAX_COUNT:
        raise MeetingError(MSG_COUNT)
    if (
        isinstance(interval, bool)
        or not isinstance(interval, int)
        or not 1 <= interval <= SERIES_MAX_INTERVAL
    ):
        raise MeetingError(MSG_INTERVAL)


@transaction.atomic
def book_series(
    *,
    actor: Any,
    room: Room | int,
    starts_at: datetime,
    ends_at: datetime,
    frequency: str,
    count: int,
    interval: int = 1,
    purpose: str = "",
    attendees: int = 1,
) -> SeriesResult:
    """Book every free occurrence of a weekly or monthly series and report each one that is not
    (its clash). What is wrong with the request as a whole (times, room, capacity, permission) is
    refused before anything is booked; when no occurrence is free nothing is kept at all
    (SeriesUnavailable, with the report)."""
    _check_series(frequency, count, interval)
    if starts_at is None or ends_at is None:
        raise MeetingError(MSG_NO_TIME)
    if ends_at <= starts_at:
        raise MeetingError(MSG_END_BEFORE_START)
    if ends_at - starts_at > timedelta(hours=BOOKING_MAX_HOURS):
        raise MeetingError(MSG_TOO_LONG)
    target = _room_to_book(actor, room)
    _check_attendees(attendees, target)
    purpose = _check_purpose(purpose)

    series = Series.objects.create(frequency=frequency, interval=interval, count=count, created_by=actor)
    result = SeriesResult(series=series)
    for start, end in occurrence_times(
        starts_at, ends_at, frequency=frequency, count=count, interval=interval
    ):
        occurrence = Occurrence(starts_at=start, ends_at=end)
        try:
            occurrence.booking = book(
                actor=actor,
                room=target,
                starts_at=start,
                ends_at=end,
                purpose=purpose,
                attendees=attendees,
                series=series,
            )
        except MeetingError as exc:
            occurrence.conflict = exc.message
        result.occurrences.append(occurrence)
    if not result.booked:
        transaction.set_rollback(True)
        raise SeriesUnavailable(f"全部 {count} 次都无法预订，未作任何预订。", result.occurrences)
    record(
        "meetings.series.create",
        actor=actor,
        obj=series,
        details={"room": target.pk, "booked": len(result.booked), "conflicts": len(result.conflicts)},
    )
    return result


# --- rooms ----------------------------------------------------------------------------------------


def _clean_equipment(equipment: Iterable[str] | str) -> list[str]:
    if isinstance(equipment, str):
        equipment = equipment.replace("，", ",").replace("、", ",").split(",")
    items: list[str] = []
    for item in equipment:
        item = str(item).strip()
        if item and item not in items:
            items.append(item)
    if len(items) > EQUIPMENT_MAX_ITEMS or any(len(i) > EQUIPMENT_MAX_CHARS for i in items):
        raise MeetingError(MSG_EQUIPMENT)
    return items


def _clean_capacity(capacity: Any) -> int:
    if isinstance(capacity, str) and capacity.strip().isdigit():
        capacity = int(capacity.strip())
    if isinstance(capacity, bool) or not isinstance(capacity, int) or not 1 <= capacity <= ROOM_MAX_CAPACITY:
        raise MeetingError(MSG_CAPACITY)
    return capacity


def _clean_room_fields(agency_id: int, values: dict[str, Any], *, room_pk: int | None) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if "name" in values:
        name = (values["name"] or "").strip()
        if not name:
            raise MeetingError(MSG_ROOM_NAME)
        if len(name) > ROOM_NAME_MAX_CHARS:
            raise MeetingError(MSG_ROOM_NAME_TOO_LONG)
        same = Room.objects.filter(agency_id=agency_id, name=name)
        if room_pk is not None:
            same = same.exclude(pk=room_pk)
        if same.exists():
            raise MeetingError(MSG_ROOM_NAME_TAKEN)
        clean["name"] = name
    if "location" in values:
        location = (values["location"] or "").strip()
        if len(location) > LOCATION_MAX_CHARS:
            raise MeetingError(MSG_LOCATION_TOO_LONG)
        clean["location"] = location
    if "capacity" in values:
        clean["capacity"] = _clean_capacity(values["capacity"])
    if "equipment" in values:
        clean["equipment"] = _clean_equipment(values["equipment"] or [])
    if "bookable_by" in values:
        if values["bookable_by"] not in BookableBy.values:
            raise MeetingError(MSG_BOOKABLE_BY)
        clean["bookable_by"] = values["bookable_by"]
    if "requires_approval" in values:
        clean["requires_approval"] = bool(values["requires_approval"])
    if "is_active" in values:
        clean["is_active"] = bool(values["is_active"])
    return clean


def _clean_departments(agency_id: int, departments: Iterable[Any]) -> list[Any]:
    chosen = list(departments)
    if any(d.agency_id != agency_id for d in chosen):
        raise MeetingError(MSG_DEPARTMENT_OTHER_AGENCY)
    return chosen


def _clean_admins(admins: Iterable[Any]) -> list[Any]:
    chosen = list(admins)
    if any(not u.is_active for u in chosen):
        raise MeetingError(MSG_ADMIN_INACTIVE)
    return chosen


@transaction.atomic
def create_room(
    *,
    actor: Any,
    agency: Any,
    name: str,
    capacity: int,
    location: str = "",
    equipment: Iterable[str] | str = (),
    bookable_by: str = BookableBy.AGENCY,
    bookable_departments: Iterable[Any] = (),
    requires_approval: bool = False,
    admins: Iterable[Any] = (),
    is_active: bool = True,
) -> Room:
    """A new room of `agency` (its 会议管理员 only)."""
    if not access.is_meeting_admin(actor, agency):
        raise MeetingError(MSG_NOT_ROOM_ADMIN)
    agency_id = agency.pk if hasattr(agency, "pk") else int(agency)
    fields = _clean_room_fields(
        agency_id,
        {
            "name": name,
            "location": location,
            "capacity": capacity,
            "equipment": equipment,
            "bookable_by": bookable_by,
            "requires_approval": requires_approval,
            "is_active": is_active,
        },
        room_pk=None,
    )
    departments = _clean_departments(agency_id, bookable_departments)
    if fields["bookable_by"] == BookableBy.DEPARTMENTS and not departments:
        raise MeetingError(MSG_DEPARTMENTS_NEEDED)
    chosen_admins = _clean_admins(admins)
    room = Room.objects.create(agency_id=agency_id, **fields)
    room.bookable_departments.set(departments)
    room.admins.set(chosen_admins)
    record(
        "meetings.room.create",
        actor=actor,
        obj=room,
        details={"agency": agency_id, "admins": [u.pk for u in chosen_admins]},
    )
    emit("meetings.room.created", room, payload={"agency": agency_id})
    return room


@transaction.atomic
def update_room(room: Room, *, actor: Any, **changes: Any) -> Room:
    """Change a room: its managers (room admins and the agency's meeting_admin); who administers it
    only the meeting_admin. Keys as create_room's; absent keys stay as they are."""
    current = Room.objects.select_for_update().filter(pk=room.pk).first()
    if current is None or not access.visible_rooms(actor).filter(pk=room.pk).exists():
        raise _not_found()
    if not access.can_manage_room(actor, current):
        raise MeetingError(MSG_NOT_ROOM_ADMIN)
    unknown = set(changes) - {
        "name",
        "location",
        "capacity",
        "equipment",
        "bookable_by",
        "bookable_departments",
        "requires_approval",
        "admins",
        "is_active",
    }
    if unknown:
        raise TypeError(f"update_room: unknown fields {sorted(unknown)}")
    fields = _clean_room_fields(current.agency_id, changes, room_pk=current.pk)
    departments = (
        _clean_departments(current.agency_id, changes["bookable_departments"])
        if "bookable_departments" in changes
        else list(current.bookable_departments.all())
    )
    if fields.get("bookable_by", current.bookable_by) == BookableBy.DEPARTMENTS and not departments:
        raise MeetingError(MSG_DEPARTMENTS_NEEDED)
    new_admins: list[Any] | None = None
    if "admins" in changes:
        new_admins = _clean_admins(changes["admins"])
        if {u.pk for u in new_admins} != set(current.admins.values_list("pk", flat=True)):
            if not access.is_meeting_admin(actor, current.agency_id):
                raise MeetingError(MSG_ADMINS_ONLY_MEETING_ADMIN)
        else:
            new_admins = None
    changed = [name for name, value in fields.items() if getattr(current, name) != value]
    for name, value in fields.items():
        setattr(current, name, value)
    if changed:
        current.save(update_fields=changed)
    if "bookable_departments" in changes:
        current.bookable_departments.set(departments)
        changed.append("bookable_departments")
    if new_admins is not None:
        current.admins.set(new_admins)
        changed.append("admins")
    record("meetings.room.update", actor=actor, obj=current, details={"changed": changed})
    emit("meetings.room.updated", current, payload={"changed": changed})
    return current


def register() -> None:
    """Registrations into the lower apps' registries (called from MeetingsConfig.ready())."""
