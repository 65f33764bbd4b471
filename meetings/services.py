"""Every change to a meeting, its invitees and replies: create, edit, invite, send the notice, the
clerk's choice, 回执, reminders, cancel.

Each service is one transaction with a keyword-only actor; it re-checks meetings.access (a person
who may not see the meeting gets the same Http404 as for a missing one), refuses with a
MeetingError carrying a Chinese sentence, writes the audit event (ids and kinds, never the notice
or a leave reason) and the outbox row, and notifies / pushes statistics only after commit.

The meeting's row lock (_lock) orders every change of one meeting: two replies, a reply and a
reminder, a notice and an edit queue on it, so the statistics pushed after commit are never older
than the change that pushed them.

Rooms are booked through meetings.booking (helper A's services): a meeting holds its room by its
`booking`; moving the meeting moves the booking, cancelling it cancels the booking.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from meetings import access
from meetings.errors import MeetingError
from meetings.models import (
    Booking,
    Invitee,
    InviteeKind,
    Meeting,
    MeetingKind,
    MeetingStatus,
    Reply,
    Rsvp,
    Series,
)
from meetings.stats import push_stats
from officeapp.access import NOT_FOUND_MESSAGE
from officeapp.audit.services import record
from officeapp.outbox.services import emit

TITLE_MAX_CHARS = Meeting._meta.get_field("title").max_length or 120
NOTICE_MAX_CHARS = 5000
REASON_MAX_CHARS = Rsvp._meta.get_field("reason").max_length or 200
CANCEL_REASON_MAX_CHARS = 200
# A reminder at most a week ahead: the worker looks that far for meetings to remind of.
REMIND_MAX_MINUTES = 7 * 24 * 60
QUOTA_MAX = 999
SERIES_MAX_COUNT = 52

MSG_NOT_MANAGER = "只有会议组织者或会议管理员可以进行此操作。"
MSG_CANCELLED = "会议已取消，不能再进行此操作。"
MSG_ENDED = "会议已结束，不能再进行此操作。"
MSG_REPLY_CANCELLED = "会议已取消，无需回执。"
MSG_REPLY_ENDED = "会议已结束，不能再回执。"
MSG_BAD_REPLY = "请选择回执：参加、请假或指派他人。"
MSG_REASON_REQUIRED = "请假须填写事由。"
MSG_DELEGATE_REQUIRED = "请选择被指派参会的人员。"
MSG_DELEGATE_SELF = "不能指派自己。"
MSG_DELEGATE_DEPARTMENT = "只能指派本部门的人员参会。"
MSG_DELEGATE_AGAIN = "您是受指派参会的，不能再指派他人，请回复参加或请假。"
MSG_NO_INVITEES = "请先选择参会人员，再发出会议通知。"
MSG_NOTICED = "会议通知已经发出。"
MSG_ROOM_OR_ONLINE = "请选择会议室，或勾选线上参会。"

EDITABLE = (
    "title",
    "kind",
    "starts_at",
    "ends_at",
    "host",
    "room",
    "online",
    "notice",
    "remind_minutes_before",
)


# --- small helpers -------------------------------------------------------------------------------


def _name(user: Any) -> str:
    return (user.real_name or user.username) if user is not None else ""


def _not_found() -> Http404:
    return Http404(NOT_FOUND_MESSAGE)


def _lock(meeting: Meeting | int) -> Meeting:
    """The meeting's row, locked until the end of the transaction (see the module docstring)."""
    pk = meeting.pk if isinstance(meeting, Meeting) else int(meeting)
    return Meeting.objects.select_for_update().get(pk=pk)


def _visible(meeting: Meeting, actor: Any) -> None:
    if not access.visible_meetings(actor).filter(pk=meeting.pk).exists():
        raise _not_found()


def _require_manager(meeting: Meeting, actor: Any) -> None:
    _visible(meeting, actor)
    if not access.can_manage_meeting(actor, meeting):
        raise MeetingError(MSG_NOT_MANAGER)


def _require_open(meeting: Meeting) -> None:
    if meeting.status == MeetingStatus.CANCELLED:
        raise MeetingError(MSG_CANCELLED)
    if meeting.status == MeetingStatus.ENDED or meeting.ends_at <= timezone.now():
        raise MeetingError(MSG_ENDED)


def _usable(user: Any, what: str) -> None:
    """A person who can take part: active, not disabled, not the 审计管理员."""
    if user is None:
        raise MeetingError(f"请选择{what}。")
    if not user.is_active or getattr(user, "disabled_at", None) is not None:
        raise MeetingError(f"{_name(user)} 的账号已停用，不能作为{what}。")
    if not access.may_use_meetings(user):
        raise MeetingError(f"{_name(user)} 不能参加会议。")


def detail_url(meeting: Meeting | int) -> str:
    pk = meeting.pk if isinstance(meeting, Meeting) else int(meeting)
    return reverse("meetings:detail", args=[pk])


def when_text(meeting: Meeting) -> str:
    start = timezone.localtime(meeting.starts_at)
    end = timezone.localtime(meeting.ends_at)
    if start.date() == end.date():
        return f"{start:%m月%d日 %H:%M}—{end:%H:%M}"
    return f"{start:%m月%d日 %H:%M}—{end:%m月%d日 %H:%M}"


def where_text(meeting: Meeting) -> str:
    room = meeting.room
    parts = [f"{room.name}（{room.location}）" if room and room.location else (room.name if room else "")]
    if meeting.online:
        parts.append("线上参会")
    return "，".join(p for p in parts if p)


def _notify(
    users: Iterable[Any], *, meeting: Meeting, kind: str, title: str, actor: Any, body: str = ""
) -> None:
    from officeapp.notify.services import notify

    notify(users, kind=kind, title=title, body=body, url=detail_url(meeting), actor=actor)


def _push_stats_on_commit(meeting_id: int) -> None:
    transaction.on_commit(partial(push_stats, meeting_id), robust=True)


def _audit(action: str, *, actor: Any, obj: Any, **details: Any) -> None:
    record(action, actor=actor, obj=obj, details=details)


# --- what a meeting is ---------------------------------------------------------------------------


def _clean_fields(
    *,
    actor: Any,
    title: Any,
    kind: Any,
    starts_at: Any,
    ends_at: Any,
    host: Any,
    room: Any,
    online: bool,
    notice: Any,
    remind_minutes_before: Any,
    check_start: bool = True,
) -> dict[str, Any]:
    title = " ".join(str(title or "").split())
    if not title:
        raise MeetingError("请填写会议名称。")
    if len(title) > TITLE_MAX_CHARS:
        raise MeetingError(f"会议名称不能超过 {TITLE_MAX_CHARS} 个字。")
    if kind not in MeetingKind.values:
        raise MeetingError("请选择会议类型。")
    if not isinstance(starts_at, datetime) or not isinstance(ends_at, datetime):
        raise MeetingError("请填写会议的开始和结束时间。")
    if ends_at <= starts_at:
        raise MeetingError("结束时间必须晚于开始时间。")
    if check_start and starts_at <= timezone.now():
        raise MeetingError("开始时间已过，请选择以后的时间。")
    _usable(host, "主持人")
    if room is None and not online:
        raise MeetingError(MSG_ROOM_OR_ONLINE)
    notice = str(notice or "").strip()
    if len(notice) > NOTICE_MAX_CHARS:
        raise MeetingError(f"会议通知不能超过 {NOTICE_MAX_CHARS} 个字。")
    try:
        remind = int(remind_minutes_before)
    except (TypeError, ValueError):
        raise MeetingError("提前提醒的分钟数须是整数。") from None
    if not 0 <= remind <= REMIND_MAX_MINUTES:
        raise MeetingError(f"提前提醒须在 0 到 {REMIND_MAX_MINUTES} 分钟之间。")
    return {
        "title": title,
        "kind": kind,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "host": host,
        "room": room,
        "online": bool(online),
        "notice": notice,
        "remind_minutes_before": remind,
    }


def _agency_for(actor: Any, agency: Any) -> Any:
    own = getattr(getattr(actor, "department", None), "agency", None)
    agency = agency or own
    if agency is None:
        raise MeetingError("您不属于任何单位，不能组织会议。")
    if (own is None or agency.pk != own.pk) and not access.is_meeting_admin(actor, agency):
        raise MeetingError("只能为本单位组织会议。")
    return agency


def _meeting_counts(meeting: Meeting) -> int:
    """Seats to book: who is expected so far (at least one)."""
    return max(
        1, Rsvp.objects.filter(meeting=meeting).exclude(reply__in=[Reply.LEAVE, Reply.DELEGATE]).count()
    )


def create_meeting(
    *,
    actor: Any,
    title: str,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    host: Any,
    room: Any = None,
    online: bool = False,
    notice: str = "",
    remind_minutes_before: int = 60,
    agency: Any = None,
) -> Meeting:
    """A DRAFT meeting; its room booked through meetings.booking (pending when the room needs
    approval). Nobody is told anything until send_notice."""
    from meetings import booking as booking_services

    if not access.may_use_meetings(actor):
        raise _not_found()
    fields = _clean_fields(
        actor=actor,
        title=title,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        host=host,
        room=room,
        online=online,
        notice=notice,
        remind_minutes_before=remind_minutes_before,
    )
    agency = _agency_for(actor, agency)
    with transaction.atomic():
        booking = None
        if room is not None:
            booking = booking_services.book(
                actor=actor, room=room, starts_at=starts_at, ends_at=ends_at, purpose=fields["title"]
            )
        fields.pop("room")
        meeting = Meeting.objects.create(agency=agency, organiser=actor, booking=booking, **fields)
        _audit("meetings.meeting.create", actor=actor, obj=meeting, room=getattr(room, "pk", None))
        emit("meetings.meeting.created", meeting, payload={"agency": agency.pk})
    return meeting


def create_series(
    *,
    actor: Any,
    title: str,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    host: Any,
    frequency: str,
    count: int,
    room: Any = None,
    online: bool = False,
    notice: str = "",
    remind_minutes_before: int = 60,
    agency: Any = None,
    interval: int = 1,
) -> tuple[list[Meeting], Any]:
    """A recurring meeting: one DRAFT Meeting per occurrence whose room is free (the booking
    service books every free occurrence and reports each conflict); online-only meetings have no
    conflicts. Returns the meetings and the booking service's SeriesResult."""
    from meetings import booking as booking_services

    if not access.may_use_meetings(actor):
        raise _not_found()
    fields = _clean_fields(
        actor=actor,
        title=title,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        host=host,
        room=room,
        online=online,
        notice=notice,
        remind_minutes_before=remind_minutes_before,
    )
    if frequency not in Series.Frequency.values:
        raise MeetingError("请选择重复方式：每周或每月。")
    if not isinstance(count, int) or not 2 <= count <= SERIES_MAX_COUNT:
        raise MeetingError(f"重复次数须在 2 到 {SERIES_MAX_COUNT} 次之间。")
    agency = _agency_for(actor, agency)
    fields.pop("room")
    with transaction.atomic():
        if room is not None:
            result = booking_services.book_series(
                actor=actor,
                room=room,
                starts_at=starts_at,
                ends_at=ends_at,
                frequency=frequency,
                count=count,
                interval=interval,
                purpose=fields["title"],
            )
            series = result.series
            slots = [(o.starts_at, o.ends_at, o.booking) for o in result.occurrences if o.booking is not None]
        else:
            series = Series.objects.create(
                frequency=frequency, interval=interval, count=count, created_by=actor
            )
            occurrences = [
                booking_services.Occurrence(s, e, None, "")
                for s, e in booking_services.occurrence_times(
                    starts_at, ends_at, frequency=frequency, count=count, interval=interval
                )
            ]
            result = booking_services.SeriesResult(series=series, occurrences=occurrences)
            slots = [(o.starts_at, o.ends_at, None) for o in occurrences]
        meetings: list[Meeting] = []
        for start, end, booking in slots:
            meetings.append(
                Meeting.objects.create(
                    agency=agency,
                    organiser=actor,
                    booking=booking,
                    series=series,
                    **{**fields, "starts_at": start, "ends_at": end},
                )
            )
        _audit("meetings.series.create", actor=actor, obj=series, meetings=[m.pk for m in meetings])
        emit("meetings.series.created", series, payload={"meetings": [m.pk for m in meetings]})
    return meetings, result


def update_meeting(meeting: Meeting, *, actor: Any, **changes: Any) -> Meeting:
    """Change what the meeting is. A changed time moves the booking, a changed room books the new
    one and cancels the old; after the notice, a change of time or place is told to everyone who
    has (or is to give) a 回执, and to the clerks still choosing."""
    from meetings import booking as booking_services

    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"update_meeting: unknown fields {sorted(unknown)}")
    with transaction.atomic():
        meeting = _lock(meeting)
        _require_manager(meeting, actor)
        _require_open(meeting)
        current = {
            "title": meeting.title,
            "kind": meeting.kind,
            "starts_at": meeting.starts_at,
            "ends_at": meeting.ends_at,
            "host": meeting.host,
            "room": meeting.room,
            "online": meeting.online,
            "notice": meeting.notice,
            "remind_minutes_before": meeting.remind_minutes_before,
        }
        wanted = {**current, **changes}
        time_changed = (wanted["starts_at"], wanted["ends_at"]) != (meeting.starts_at, meeting.ends_at)
        fields = _clean_fields(actor=actor, check_start=time_changed, **wanted)
        new_room = fields.pop("room")
        old_room = current["room"]
        room_changed = getattr(new_room, "pk", None) != getattr(old_room, "pk", None)
        booking = meeting.booking
        if room_changed:
            if new_room is not None:
                booking = booking_services.book(
                    actor=actor,
                    room=new_room,
                    starts_at=fields["starts_at"],
                    ends_at=fields["ends_at"],
                    purpose=fields["title"],
                    attendees=min(_meeting_counts(meeting), new_room.capacity),
                )
            else:
                booking = None
            if meeting.booking is not None and meeting.booking.holds_room:
                booking_services.cancel_booking(meeting.booking, actor=actor, reason="会议改用其他会议室")
        elif booking is not None and not booking.holds_room:
            # The room refused or cancelled the booking: saving the meeting asks for the room again.
            booking = booking_services.book(
                actor=actor,
                room=new_room,
                starts_at=fields["starts_at"],
                ends_at=fields["ends_at"],
                purpose=fields["title"],
                attendees=min(_meeting_counts(meeting), new_room.capacity),
            )
        elif time_changed and booking is not None:
            booking = booking_services.move_booking(
                booking, actor=actor, starts_at=fields["starts_at"], ends_at=fields["ends_at"]
            )
        for key, value in fields.items():
            setattr(meeting, key, value)
        meeting.booking = booking
        meeting.updated_at = timezone.now()
        if time_changed:
            # A new time is a new reason to remind the silent ones.
            Rsvp.objects.filter(meeting=meeting, reply=Reply.NONE).update(reminded_at=None)
        meeting.save()
        changed = sorted(k for k in EDITABLE if k in changes and wanted[k] != current[k])
        _audit("meetings.meeting.update", actor=actor, obj=meeting, fields=changed)
        emit("meetings.meeting.updated", meeting, payload={"fields": changed})
        if meeting.status != MeetingStatus.DRAFT and (time_changed or room_changed or "online" in changed):
            _notify(
                _to_be_told(meeting),
                meeting=meeting,
                kind="meetings.changed",
                title=f"会议变更：{meeting.title}",
                body=f"{when_text(meeting)} {where_text(meeting)}",
                actor=actor,
            )
    return meeting


def _to_be_told(meeting: Meeting) -> list[Any]:
    """Everyone with a 回执 (given or to give) and the clerks still choosing for their agency."""
    from officeapp.org.models import Role, User

    users = list(User.objects.filter(meeting_rsvps__meeting=meeting, is_active=True))
    waiting = Invitee.objects.filter(meeting=meeting, kind=InviteeKind.AGENCY, chosen_at__isnull=True)
    clerks = User.objects.filter(
        is_active=True,
        department__agency_id__in=waiting.values("agency_id"),
        role_grants__role=Role.CLERK,
    ).distinct()
    return users + [c for c in clerks if c.pk not in {u.pk for u in users}]


def cancel_meeting(meeting: Meeting, *, actor: Any, reason: str) -> Meeting:
    from meetings import booking as booking_services

    reason = " ".join(str(reason or "").split())
    if not reason:
        raise MeetingError("请填写取消会议的原因。")
    if len(reason) > CANCEL_REASON_MAX_CHARS:
        raise MeetingError(f"取消原因不能超过 {CANCEL_REASON_MAX_CHARS} 个字。")
    with transaction.atomic():
        meeting = _lock(meeting)
        _require_manager(meeting, actor)
        if meeting.status == MeetingStatus.CANCELLED:
            raise MeetingError("会议已经取消。")
        if meeting.status in (MeetingStatus.LIVE, MeetingStatus.ENDED):
            raise MeetingError("会议已经开始或结束，不能取消。")
        if meeting.booking is not None and meeting.booking.holds_room:
            booking_services.cancel_booking(meeting.booking, actor=actor, reason=reason)
        was_noticed = meeting.status == MeetingStatus.NOTICED
        meeting.status = MeetingStatus.CANCELLED
        meeting.updated_at = timezone.now()
        meeting.save(update_fields=["status", "updated_at"])
        _audit("meetings.meeting.cancel", actor=actor, obj=meeting, noticed=was_noticed)
        emit("meetings.meeting.cancelled", meeting, payload={})
        if was_noticed:
            _notify(
                _to_be_told(meeting),
                meeting=meeting,
                kind="meetings.cancelled",
                title=f"会议取消：{meeting.title}",
                body=f"原定 {when_text(meeting)}。原因：{reason}",
                actor=actor,
            )
        _push_stats_on_commit(meeting.pk)
    return meeting


# --- invitees and the notice ---------------------------------------------------------------------


def _people_of_department(department: Any) -> list[Any]:
    from officeapp.org.models import User

    return [
        u
        for u in User.objects.filter(
            department=department, is_active=True, disabled_at__isnull=True
        ).order_by("sort_order", "pk")
        if access.may_use_meetings(u)
    ]


def _make_rsvps(meeting: Meeting, invitees: Iterable[Invitee]) -> list[Rsvp]:
    """Rsvp rows for the people and the members of the departments invited (the first invitation
    of a person wins; agencies wait for their clerk)."""
    have = set(Rsvp.objects.filter(meeting=meeting).values_list("user_id", flat=True))
    rows: list[Rsvp] = []
    for invitee in invitees:
        if invitee.kind == InviteeKind.PERSON:
            people = [invitee.user] if invitee.user.is_active else []
        elif invitee.kind == InviteeKind.DEPARTMENT:
            people = _people_of_department(invitee.department)
        else:
            continue
        for person in people:
            if person.pk not in have:
                have.add(person.pk)
                rows.append(Rsvp(meeting=meeting, user=person, invitee=invitee))
    return Rsvp.objects.bulk_create(rows)


def _clerks_of(agency_ids: Iterable[int]) -> list[Any]:
    from officeapp.org.models import Role, User

    ids = list(agency_ids)
    if not ids:
        return []
    return list(
        User.objects.filter(
            is_active=True, department__agency_id__in=ids, role_grants__role=Role.CLERK
        ).distinct()
    )


def set_invitees(
    meeting: Meeting,
    *,
    actor: Any,
    people: Iterable[Any] = (),
    departments: Iterable[Any] = (),
    agencies: Iterable[tuple[Any, int]] = (),
) -> None:
    """Whom the meeting invites, as a whole. Before the notice anything may change; after it,
    invitees may only be added (those invited already have been told): the added ones get their
    回执 rows and the notice at once."""
    people = {p.pk: p for p in people if p is not None}
    departments = {d.pk: d for d in departments if d is not None}
    quotas: dict[int, tuple[Any, int]] = {}
    for agency, quota in agencies:
        if agency is None:
            continue
        try:
            quota = int(quota)
        except (TypeError, ValueError):
            raise MeetingError(f"{agency.short_name or agency.name} 的名额须是整数。") from None
        if not 0 <= quota <= QUOTA_MAX:
            raise MeetingError(
                f"{agency.short_name or agency.name} 的名额须在 0 到 {QUOTA_MAX} 之间（0 表示不限）。"
            )
        quotas[agency.pk] = (agency, quota)
    for person in people.values():
        _usable(person, "参会人员")
    for department in departments.values():
        if not department.is_active:
            raise MeetingError(f"{department.name} 已撤销，不能邀请。")
    for agency, _quota in quotas.values():
        if not agency.is_active:
            raise MeetingError(f"{agency.name} 已撤销，不能邀请。")
    with transaction.atomic():
        meeting = _lock(meeting)
        _require_manager(meeting, actor)
        _require_open(meeting)
        existing = list(Invitee.objects.filter(meeting=meeting))
        keep: list[int] = []
        new: list[Invitee] = []
        seen_people, seen_depts, seen_agencies = set(), set(), set()
        for inv in existing:
            if inv.kind == InviteeKind.PERSON and inv.user_id in people:
                keep.append(inv.pk)
                seen_people.add(inv.user_id)
            elif inv.kind == InviteeKind.DEPARTMENT and inv.department_id in departments:
                keep.append(inv.pk)
                seen_depts.add(inv.department_id)
            elif inv.kind == InviteeKind.AGENCY and inv.agency_id in quotas:
                keep.append(inv.pk)
                seen_agencies.add(inv.agency_id)
                quota = quotas[inv.agency_id][1]
                if inv.quota != quota:
                    inv.quota = quota
                    inv.save(update_fields=["quota"])
        removed = [inv for inv in existing if inv.pk not in keep]
        if removed and meeting.status != MeetingStatus.DRAFT:
            raise MeetingError(
                f"通知已发出，不能移除已邀请的{'、'.join(str(inv) for inv in removed[:3])}；如需调整请取消会议后重新组织。"
            )
        Invitee.objects.filter(pk__in=[inv.pk for inv in removed]).delete()
        new += [
            Invitee(meeting=meeting, kind=InviteeKind.PERSON, user=p)
            for k, p in people.items()
            if k not in seen_people
        ]
        new += [
            Invitee(meeting=meeting, kind=InviteeKind.DEPARTMENT, department=d)
            for k, d in departments.items()
            if k not in seen_depts
        ]
        new += [
            Invitee(meeting=meeting, kind=InviteeKind.AGENCY, agency=a, quota=q)
            for k, (a, q) in quotas.items()
            if k not in seen_agencies
        ]
        created = Invitee.objects.bulk_create(new)
        # bulk_create on SQLite may not return pks: read them back.
        created = list(Invitee.objects.filter(meeting=meeting).exclude(pk__in=keep).order_by("pk"))
        _audit(
            "meetings.invitees.set",
            actor=actor,
            obj=meeting,
            people=len(people),
            departments=len(departments),
            agencies=len(quotas),
        )
        emit("meetings.invitees.changed", meeting, payload={"added": len(created), "removed": len(removed)})
        if meeting.status != MeetingStatus.DRAFT and created:
            _tell_invited(meeting, created, actor=actor)
            _push_stats_on_commit(meeting.pk)


def _tell_invited(meeting: Meeting, invitees: list[Invitee], *, actor: Any) -> int:
    rsvps = _make_rsvps(meeting, invitees)
    from officeapp.org.models import User

    people = list(User.objects.filter(pk__in=[r.user_id for r in rsvps]))
    title = f"会议通知：{meeting.title}"
    body = f"{when_text(meeting)} {where_text(meeting)}，请回执。"
    _notify(people, meeting=meeting, kind="meetings.notice", title=title, body=body, actor=actor)
    clerks = _clerks_of(inv.agency_id for inv in invitees if inv.kind == InviteeKind.AGENCY)
    clerks = [c for c in clerks if c.pk not in {p.pk for p in people}]
    if clerks:
        _notify(
            clerks,
            meeting=meeting,
            kind="meetings.choose",
            title=f"请报送参会人员：{meeting.title}",
            body=f"{when_text(meeting)} {where_text(meeting)}",
            actor=actor,
        )
    return len(people) + len(clerks)


def send_notice(meeting: Meeting, *, actor: Any) -> int:
    """发出会议通知: every invited person and every member of an invited department gets a 回执
    row and a notification; each invited agency's 收发员 is asked to choose who attends. Returns
    how many people were notified."""
    with transaction.atomic():
        meeting = _lock(meeting)
        _require_manager(meeting, actor)
        if meeting.status == MeetingStatus.NOTICED:
            raise MeetingError(MSG_NOTICED)
        _require_open(meeting)
        if meeting.status != MeetingStatus.DRAFT:
            raise MeetingError("会议已经开始，不能再发出通知。")
        if meeting.starts_at <= timezone.now():
            raise MeetingError("会议开始时间已过，不能发出通知；请先修改会议时间。")
        invitees = list(
            Invitee.objects.filter(meeting=meeting)
            .select_related("user", "department", "agency")
            .order_by("pk")
        )
        if not invitees:
            raise MeetingError(MSG_NO_INVITEES)
        meeting.status = MeetingStatus.NOTICED
        meeting.noticed_at = timezone.now()
        meeting.updated_at = meeting.noticed_at
        meeting.save(update_fields=["status", "noticed_at", "updated_at"])
        told = _tell_invited(meeting, invitees, actor=actor)
        _audit("meetings.notice.send", actor=actor, obj=meeting, notified=told)
        emit("meetings.notice.sent", meeting, payload={"notified": told})
        _push_stats_on_commit(meeting.pk)
    return told


def choose_attendees(invitee: Invitee, *, actor: Any, people: Iterable[Any]) -> list[Rsvp]:
    """The invited agency's 收发员 names who attends (within the quota); they get 回执 rows and the
    notice. Chosen once: later changes go through the chosen people's own 指派/请假."""
    people = list({p.pk: p for p in people if p is not None}.values())
    with transaction.atomic():
        meeting = _lock(invitee.meeting_id)
        # Under the meeting's lock: two choices for one agency queue there.
        invitee = Invitee.objects.get(pk=invitee.pk)
        if not access.can_choose_for(actor, invitee) or not access.may_use_meetings(actor):
            raise _not_found()
        _require_open(meeting)
        if meeting.status not in (MeetingStatus.NOTICED, MeetingStatus.LIVE):
            raise _not_found()
        if invitee.chosen_at is not None:
            raise MeetingError("本单位的参会人员已经报送。")
        if not people:
            raise MeetingError("请至少选择一位参会人员。")
        if invitee.quota and len(people) > invitee.quota:
            raise MeetingError(f"本单位最多可报 {invitee.quota} 人，您选择了 {len(people)} 人。")
        for person in people:
            _usable(person, "参会人员")
            if getattr(person.department, "agency_id", None) != invitee.agency_id:
                raise MeetingError(f"{_name(person)} 不是本单位人员。")
        already = {
            r.user_id: r for r in Rsvp.objects.filter(meeting=meeting, user_id__in=[p.pk for p in people])
        }
        if already:
            names = "、".join(_name(p) for p in people if p.pk in already)
            raise MeetingError(f"{names} 已在参会名单中，无需再报。")
        rows = Rsvp.objects.bulk_create([Rsvp(meeting=meeting, user=p, invitee=invitee) for p in people])
        rows = list(Rsvp.objects.filter(meeting=meeting, invitee=invitee, user_id__in=[p.pk for p in people]))
        invitee.chosen_at = timezone.now()
        invitee.chosen_by = actor
        invitee.save(update_fields=["chosen_at", "chosen_by"])
        _notify(
            people,
            meeting=meeting,
            kind="meetings.notice",
            title=f"会议通知：{meeting.title}",
            body=f"{when_text(meeting)} {where_text(meeting)}，请回执。",
            actor=actor,
        )
        _audit("meetings.attendees.choose", actor=actor, obj=invitee, meeting=meeting.pk, people=len(rows))
        emit("meetings.attendees.chosen", invitee, payload={"meeting": meeting.pk, "people": len(rows)})
        _push_stats_on_commit(meeting.pk)
    return rows


# --- 回执 ---------------------------------------------------------------------------------------------


def reply(meeting: Meeting, *, actor: Any, reply: str, reason: str = "", delegate: Any = None) -> Rsvp:
    """参加, 请假 (with a reason) or 指派他人 (someone of the replier's department, who gets an Rsvp
    of their own and must reply). Replies may change (参加 ↔ 请假) until the meeting ends; a 指派 is
    final, because the delegate has been told and holds the seat.

    A delegate may not delegate again: the invited person answers for whom they sent, and a chain
    (A → B → C) would let a seat wander away from the person the organiser can hold to account and
    make the attendance sheet's 指派 column a path instead of a name. A delegate who cannot come
    asks for leave; the organiser sees it."""
    choice = str(reply or "")
    with transaction.atomic():
        meeting = _lock(meeting)
        rsvp = (
            Rsvp.objects.select_for_update()
            .filter(meeting=meeting, user_id=getattr(actor, "pk", None))
            .first()
            if access.may_use_meetings(actor)
            else None
        )
        if rsvp is None:
            raise _not_found()
        if meeting.status == MeetingStatus.CANCELLED:
            raise MeetingError(MSG_REPLY_CANCELLED)
        if meeting.status == MeetingStatus.ENDED or meeting.ends_at <= timezone.now():
            raise MeetingError(MSG_REPLY_ENDED)
        if choice not in (Reply.ATTEND, Reply.LEAVE, Reply.DELEGATE):
            raise MeetingError(MSG_BAD_REPLY)
        if rsvp.reply == Reply.DELEGATE:
            delegate_rsvp = Rsvp.objects.filter(delegated_from=rsvp).select_related("user").first()
            who = _name(delegate_rsvp.user) if delegate_rsvp else "他人"
            raise MeetingError(f"您已指派 {who} 参会，不能再更改回执。")
        reason = str(reason or "").strip()
        if choice == Reply.LEAVE:
            if not reason:
                raise MeetingError(MSG_REASON_REQUIRED)
            if len(reason) > REASON_MAX_CHARS:
                raise MeetingError(f"请假事由不能超过 {REASON_MAX_CHARS} 个字。")
        else:
            reason = ""
        delegate_rsvp = None
        if choice == Reply.DELEGATE:
            if rsvp.delegated_from_id is not None:
                raise MeetingError(MSG_DELEGATE_AGAIN)
            if delegate is None:
                raise MeetingError(MSG_DELEGATE_REQUIRED)
            if delegate.pk == actor.pk:
                raise MeetingError(MSG_DELEGATE_SELF)
            if actor.department_id is None or delegate.department_id != actor.department_id:
                raise MeetingError(MSG_DELEGATE_DEPARTMENT)
            _usable(delegate, "被指派人")
            if Rsvp.objects.filter(meeting=meeting, user=delegate).exists():
                raise MeetingError(f"{_name(delegate)} 已在参会名单中，请指派其他人员。")
            delegate_rsvp = Rsvp.objects.create(
                meeting=meeting, user=delegate, invitee=rsvp.invitee, delegated_from=rsvp
            )
        previous = rsvp.reply
        rsvp.reply = choice
        rsvp.reason = reason
        rsvp.replied_at = timezone.now()
        rsvp.save(update_fields=["reply", "reason", "replied_at"])
        _audit(
            "meetings.rsvp.reply",
            actor=actor,
            obj=rsvp,
            meeting=meeting.pk,
            reply=choice,
            previous=previous,
            delegate=getattr(delegate, "pk", None),
        )
        emit("meetings.rsvp.replied", rsvp, payload={"meeting": meeting.pk, "reply": choice})
        if delegate_rsvp is not None:
            _notify(
                [delegate],
                meeting=meeting,
                kind="meetings.delegated",
                title=f"{_name(actor)} 指派您参加：{meeting.title}",
                body=f"{when_text(meeting)} {where_text(meeting)}，请回执。",
                actor=actor,
            )
        _push_stats_on_commit(meeting.pk)
    return rsvp


# --- reminders ---------------------------------------------------------------------------------------


def _remind(meeting: Meeting, *, actor: Any) -> int:
    """Remind each silent person of the meeting (its row locked by the caller) who was never
    reminded; the rows are marked in this transaction. Two runs at once queue on the meeting's
    lock, so the second finds them marked: each person is reminded once."""
    now = timezone.now()
    rows = list(
        Rsvp.objects.filter(meeting=meeting, reply=Reply.NONE, reminded_at__isnull=True).order_by("pk")
    )
    # The conditional update decides who is reminded by this run: a run that overlaps this one
    # waited on the meeting's lock and finds the rows marked.
    Rsvp.objects.filter(pk__in=[r.pk for r in rows], reminded_at__isnull=True).update(reminded_at=now)
    rows = [r for r in Rsvp.objects.filter(pk__in=[r.pk for r in rows], reminded_at=now)]
    if not rows:
        return 0
    from officeapp.org.models import User

    _notify(
        User.objects.filter(pk__in=[r.user_id for r in rows]),
        meeting=meeting,
        kind="meetings.remind",
        title=f"请回执：{meeting.title}",
        body=f"{when_text(meeting)} {where_text(meeting)}",
        actor=actor,
    )
    record(
        "meetings.rsvp.remind",
        actor=actor,
        obj=meeting,
        details={"reminded": len(rows), "by_worker": actor is None},
        actor_label="" if actor is not None else "系统提醒",
    )
    return len(rows)


def remind_silent(meeting: Meeting, *, actor: Any) -> int:
    """The organiser's 提醒未回执: each silent person is reminded at most once (also counting the
    worker's reminder). Returns how many were reminded now (0: nobody left to remind)."""
    with transaction.atomic():
        meeting = _lock(meeting)
        _require_manager(meeting, actor)
        _require_open(meeting)
        if meeting.status == MeetingStatus.DRAFT:
            raise MeetingError("会议通知尚未发出。")
        return _remind(meeting, actor=actor)


def remind_due(now: datetime | None = None) -> int:
    """The worker's run: the silent people of every noticed meeting that starts within its
    remind_minutes_before are reminded (once each). Returns how many people were reminded."""
    now = now or timezone.now()
    candidates = (
        Meeting.objects.filter(
            status=MeetingStatus.NOTICED,
            starts_at__gt=now,
            starts_at__lte=now + timedelta(minutes=REMIND_MAX_MINUTES),
            remind_minutes_before__gt=0,
        )
        .filter(Q(rsvps__reply=Reply.NONE, rsvps__reminded_at__isnull=True))
        .distinct()
        .values_list("pk", "starts_at", "remind_minutes_before")
    )
    due = [pk for pk, starts_at, minutes in candidates if starts_at - timedelta(minutes=minutes) <= now]
    reminded = 0
    for pk in due:
        with transaction.atomic():
            meeting = _lock(pk)
            if meeting.status == MeetingStatus.NOTICED:
                reminded += _remind(meeting, actor=None)
    return reminded


# --- hand-over ---------------------------------------------------------------------------------------


def hand_over_meetings(from_user: Any, to_user: Any, *, actor: Any) -> int:
    """A disabled or transferred organiser's meetings still to come (draft or noticed) are
    organised by the successor from now on; each one audited."""
    moved = 0
    ids = list(
        Meeting.objects.filter(
            organiser=from_user,
            status__in=[MeetingStatus.DRAFT, MeetingStatus.NOTICED],
            ends_at__gt=timezone.now(),
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in ids:
        meeting = _lock(pk)
        meeting.organiser = to_user
        meeting.updated_at = timezone.now()
        meeting.save(update_fields=["organiser", "updated_at"])
        # The room's booking goes with the meeting: the booking service lets only its booker (or
        # the room's managers) move or cancel it, and the successor now moves and cancels it.
        Booking.objects.filter(pk=meeting.booking_id, booked_by=from_user).update(booked_by=to_user)
        record(
            "meetings.meeting.hand_over",
            actor=actor,
            obj=meeting,
            details={"from": from_user.pk, "to": to_user.pk},
        )
        emit("meetings.meeting.handed_over", meeting, payload={"to": to_user.pk})
        moved += 1
    if ids:
        _notify(
            [to_user],
            meeting=Meeting.objects.get(pk=ids[0]),
            kind="meetings.hand_over",
            title=f"您接手了 {_name(from_user)} 组织的 {len(ids)} 个会议",
            actor=actor,
        )
    return moved


class OrganisedMeetingsHandover:
    name = "meetings.organiser"
    label = "组织的会议"

    def _open(self, user: Any) -> Any:
        return Meeting.objects.filter(
            organiser=user,
            status__in=[MeetingStatus.DRAFT, MeetingStatus.NOTICED],
            ends_at__gt=timezone.now(),
        )

    def open_items(self, user: Any) -> int:
        return self._open(user).count()

    def hand_over(self, from_user: Any, to_user: Any, *, actor: Any) -> int:
        return hand_over_meetings(from_user, to_user, actor=actor)


def register() -> None:
    """Registrations into officeapp's registries, called once from MeetingsConfig.ready(): the
    reminder schedule, the hand-over of organised meetings, the statistics socket handler and the
    demo builder."""
    from meetings import demo, tasks, watch
    from officeapp.registries import demo_builders, handover_providers, worker_schedules

    worker_schedules.register(tasks.REMIND_SCHEDULE.name, tasks.REMIND_SCHEDULE)
    provider = OrganisedMeetingsHandover()
    handover_providers.register(provider.name, provider)
    watch.register()
    demo_builders.register("70-meetings", demo.build)
