"""Who may see or do what with rooms and meetings. Entry points (views, socket handlers, the
calendar feed) look up only through here; services re-check.

Meetings: a meeting exists for its organiser, its host, the people with an Rsvp (invited, or named
as a delegate) and, while an agency invitee waits for its 收发员 to choose, that agency's clerks;
and for the 会议管理员 (meeting_admin) of the meeting's agency, who runs the agency's meetings. A
person removed from the live room still sees the meeting page (they were invited) but may not
enter the room again. Everyone else — an administrator, a leader of another agency — gets the same
404 as for a meeting that does not exist. Materials follow the meeting.

Rooms: any active person of the room's agency sees its rooms and calendar (to choose a free slot);
who may book is the room's `bookable_by`; the room's admins and the agency's meeting_admin approve
bookings and edit the room.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from meetings.models import (
    BookableBy,
    Booking,
    Invitee,
    InviteeKind,
    Meeting,
    MeetingStatus,
    Reply,
    Room,
    Rsvp,
)
from officeapp.access import NOT_FOUND_MESSAGE, get_or_404, has_role, is_audit_admin
from officeapp.org.models import Role

# The largest id a database column holds: a larger number is simply not found.
MAX_ID = 2**63 - 1


def parse_id(value: Any) -> int | None:
    """A positive database id from a URL part or a frame field, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        # More digits than MAX_ID has is too large anyway, and int() of a few thousand digits
        # raises ValueError (Python's conversion limit) instead of giving a number.
        if len(value) > len(str(MAX_ID)):
            return None
        value = int(value)
    if not isinstance(value, int) or not 0 < value <= MAX_ID:
        return None
    return value


def _not_found() -> Http404:
    return Http404(NOT_FOUND_MESSAGE)


MSG_NOT_FOR_AUDIT = "审计管理员不使用会议。"
MSG_ORGANISER_ONLY = "只有会议组织者和会议管理员可以进行此操作。"


def require_meetings_user(user: Any) -> None:
    """Pages that name no meeting: everyone but the 审计管理员 (403, as for the 通讯录 and 消息)."""
    if not may_use_meetings(user):
        raise PermissionDenied(MSG_NOT_FOR_AUDIT)


def may_use_meetings(user: Any) -> bool:
    """Every signed-in active person except the 审计管理员 (三员分立: the audit log only)."""
    return bool(getattr(user, "is_authenticated", False)) and user.is_active and not is_audit_admin(user)


def _agency_id(user: Any) -> int | None:
    department = getattr(user, "department", None)
    return department.agency_id if department is not None else None


# --- rooms ------------------------------------------------------------------------------------------


def is_meeting_admin(user: Any, agency: Any) -> bool:
    """The agency's 会议管理员 (a province-wide grant covers every agency)."""
    return may_use_meetings(user) and has_role(user, Role.MEETING_ADMIN, agency=agency)


def visible_rooms(user: Any) -> QuerySet[Room]:
    """Rooms of the user's own agency, rooms they administer anywhere, and the rooms of every
    agency whose 会议管理员 they are (a province-wide grant: all rooms)."""
    if not may_use_meetings(user):
        return Room.objects.none()
    admin_agencies = _meeting_admin_agencies(user)
    if admin_agencies is None:
        return Room.objects.all()
    mine = Q(agency_id=_agency_id(user)) | Q(admins=user)
    if admin_agencies:
        mine |= Q(agency_id__in=admin_agencies)
    return Room.objects.filter(pk__in=Room.objects.filter(mine).values("pk"))


def get_room_for(user: Any, room_id: Any) -> Room:
    pk = parse_id(room_id)
    if pk is None:
        raise _not_found()
    return get_or_404(visible_rooms(user), pk=pk)


def can_manage_room(user: Any, room: Room) -> bool:
    """Edit the room and approve or refuse its bookings."""
    if not may_use_meetings(user):
        return False
    return is_meeting_admin(user, room.agency_id) or room.admins.filter(pk=user.pk).exists()


def can_book(user: Any, room: Room) -> bool:
    if not may_use_meetings(user) or not room.is_active:
        return False
    if can_manage_room(user, room):
        return True
    if _agency_id(user) != room.agency_id:
        return False
    if room.bookable_by == BookableBy.AGENCY:
        return True
    if room.bookable_by == BookableBy.DEPARTMENTS:
        return room.bookable_departments.filter(pk=user.department_id).exists()
    return False


def manages_any_room(user: Any) -> bool:
    """Approves bookings somewhere: a 会议管理员, or the admin of some room."""
    if not may_use_meetings(user):
        return False
    return _meeting_admin_agencies(user) != [] or Room.objects.filter(admins=user).exists()


def manageable_bookings(user: Any) -> QuerySet[Booking]:
    """Bookings the user may approve: those of the rooms they manage."""
    if not may_use_meetings(user):
        return Booking.objects.none()
    managed = Q(room__admins=user)
    agencies = _meeting_admin_agencies(user)
    if agencies is None:
        return Booking.objects.all()
    if agencies:
        managed |= Q(room__agency_id__in=agencies)
    return Booking.objects.filter(managed).distinct()


# --- meetings ---------------------------------------------------------------------------------------


def _clerk_agencies(user: Any) -> list[int]:
    """Agencies for which the user chooses attendees (收发员 of their own agency)."""
    agency_id = _agency_id(user)
    if agency_id is not None and has_role(user, Role.CLERK, agency=agency_id):
        return [agency_id]
    return []


def visible_meetings(user: Any) -> QuerySet[Meeting]:
    if not may_use_meetings(user):
        return Meeting.objects.none()
    mine = Q(organiser=user) | Q(host=user) | Q(rsvps__user=user)
    clerk_of = _clerk_agencies(user)
    if clerk_of:
        mine |= Q(invitees__kind=InviteeKind.AGENCY, invitees__agency_id__in=clerk_of)
    admin_agencies = _meeting_admin_agencies(user)
    if admin_agencies is None:
        return Meeting.objects.all()
    if admin_agencies:
        mine |= Q(agency_id__in=admin_agencies)
    return Meeting.objects.filter(pk__in=Meeting.objects.filter(mine).values("pk"))


def _meeting_admin_agencies(user: Any) -> list[int] | None:
    """Agencies whose meetings the user runs as meeting_admin; None: every agency."""
    from officeapp.access import grants_of

    agencies: list[int] = []
    for grant in grants_of(user):
        if grant.role != Role.MEETING_ADMIN:
            continue
        if grant.agency_id is None and grant.department_id is None:
            return None
        if grant.agency_id is not None:
            agencies.append(grant.agency_id)
    return agencies


def get_meeting_for(user: Any, meeting_id: Any) -> Meeting:
    pk = parse_id(meeting_id)
    if pk is None:
        raise _not_found()
    return get_or_404(visible_meetings(user).select_related("booking__room", "host", "organiser"), pk=pk)


def can_manage_meeting(user: Any, meeting: Meeting) -> bool:
    """Edit, send the notice, remind, check in by hand, see statistics, write the minutes: the
    organiser and the agency's meeting_admin."""
    if not may_use_meetings(user):
        return False
    return meeting.organiser_id == user.pk or is_meeting_admin(user, meeting.agency_id)


def can_host(user: Any, meeting: Meeting) -> bool:
    """The live room's host controls: the host, and the organiser who runs the room for them."""
    if not may_use_meetings(user):
        return False
    return user.pk in (meeting.host_id, meeting.organiser_id)


def rsvp_of(user: Any, meeting: Meeting) -> Rsvp | None:
    if not may_use_meetings(user):
        return None
    return Rsvp.objects.filter(meeting=meeting, user=user).first()


def is_participant(user: Any, meeting: Meeting) -> bool:
    """Invited (or named as delegate) and not removed from the room; host and organiser count."""
    if not may_use_meetings(user):
        return False
    if user.pk in (meeting.host_id, meeting.organiser_id):
        return True
    return Rsvp.objects.filter(meeting=meeting, user=user, removed_at__isnull=True).exists()


def may_enter_room(user: Any, meeting: Meeting) -> bool:
    """The live room: participants while the meeting is noticed or live (not cancelled)."""
    if meeting.status in (MeetingStatus.DRAFT, MeetingStatus.CANCELLED):
        return False
    return is_participant(user, meeting)


def pending_agency_invitations(user: Any) -> QuerySet[Invitee]:
    """Agency invitations whose attendees this user (a 收发员) is to choose."""
    clerk_of = _clerk_agencies(user)
    if not clerk_of:
        return Invitee.objects.none()
    return Invitee.objects.filter(
        kind=InviteeKind.AGENCY,
        agency_id__in=clerk_of,
        chosen_at__isnull=True,
        meeting__status__in=[MeetingStatus.NOTICED, MeetingStatus.LIVE],
    )


def can_choose_for(user: Any, invitee: Invitee) -> bool:
    return invitee.kind == InviteeKind.AGENCY and invitee.agency_id in _clerk_agencies(user)


# --- booking (helper A) ---


def may_see_booking_purpose(user: Any, booking: Booking) -> bool:
    """What a booking is for (its 用途) is shown to its booker, the room's managers and those who
    may see the meeting it holds the room for; everyone else sees only that the slot is taken."""
    if not may_use_meetings(user):
        return False
    if booking.booked_by_id == user.pk or can_manage_room(user, booking.room):
        return True
    return visible_meetings(user).filter(booking_id=booking.pk).exists()


# --- check-in, materials, minutes (helper C) ---


def meeting_for_checkin(meeting_id: Any, token: Any) -> Meeting | None:
    """The meeting a door QR code names, when its token matches (constant-time), else None. Not
    narrowed to visible meetings: whoever stands at the door holds the code, and the check-in page
    tells a person who is not invited so, instead of a bare 404."""
    import hmac

    pk = parse_id(meeting_id)
    if pk is None or not isinstance(token, str):
        return None
    meeting = Meeting.objects.select_related("booking__room").filter(pk=pk).first()
    if meeting is None or not hmac.compare_digest(token.encode(), meeting.checkin_token.encode()):
        return None
    return meeting


def material_meetings(user: Any) -> QuerySet[Meeting]:
    """Meetings whose materials the user reads: its participants — the organiser, the host, the
    agency's 会议管理员, and the invited who still hold their seat (not removed from the room, not
    handed to a delegate, who reads them instead). A clerk who has still to choose who attends sees
    the meeting but not its papers."""
    if not may_use_meetings(user):
        return Meeting.objects.none()
    mine = (
        Q(organiser=user)
        | Q(host=user)
        | Q(
            pk__in=Rsvp.objects.filter(user=user, removed_at__isnull=True)
            .exclude(reply=Reply.DELEGATE)
            .values("meeting_id")
        )
    )
    admin_agencies = _meeting_admin_agencies(user)
    if admin_agencies is None:
        return Meeting.objects.all()
    if admin_agencies:
        mine |= Q(agency_id__in=admin_agencies)
    return Meeting.objects.filter(mine)


def get_material_for(user: Any, material_id: Any) -> Any:
    """A material of a meeting whose papers the user reads (material_meetings); the same 404 for
    missing and not theirs."""
    from meetings.models import Material

    pk = parse_id(material_id)
    if pk is None:
        raise _not_found()
    visible = Material.objects.filter(meeting__in=material_meetings(user)).select_related("blob", "meeting")
    return get_or_404(visible, pk=pk)


def can_supervise_decision(user: Any, meeting: Meeting) -> bool:
    """转督办: the meeting's organiser side (can_manage_meeting) who is also the agency's 督查员 or
    office (workflows.supervision.initiate refuses anyone else)."""
    from workflows.access import can_supervise

    return can_manage_meeting(user, meeting) and can_supervise(user, meeting.agency_id)


# --- search (issue 9): the principals that mirror `visible_meetings` and `material_meetings` --------
# An indexed meeting carries `meeting_principals(meeting)`, each of its materials
# `material_principals(meeting)`, a query `search_principals_of(user)`: one principal per reason,
# so "a principal in common" is exactly what the two querysets above answer.

ALL_MEETING_ADMINS = "mtg-admin:*"  # a province-wide 会议管理员 sees every meeting
# People are "mtg-u:<id>", not the common "u:<id>": meetings refuse the 审计管理员 whom other apps
# (督办, 公文) let see what they took part in, so a shared "u:" would let an 审计管理员 with an old
# 回执 row find the meeting through another app's principal.


def meeting_principals(meeting: Meeting) -> frozenset[str]:
    """Organiser, host and everyone with an Rsvp (mtg-u:), the 收发员 of each invited agency
    (mtg-clerk:), the meeting agency's 会议管理员 (mtg-admin:) and the province-wide ones."""
    principals = {f"mtg-u:{meeting.organiser_id}", f"mtg-u:{meeting.host_id}"}
    principals.update(
        f"mtg-u:{uid}" for uid in Rsvp.objects.filter(meeting_id=meeting.pk).values_list("user_id", flat=True)
    )
    agencies = Invitee.objects.filter(meeting_id=meeting.pk, kind=InviteeKind.AGENCY).values_list(
        "agency_id", flat=True
    )
    principals.update(f"mtg-clerk:{a}" for a in agencies)
    principals.update({f"mtg-admin:{meeting.agency_id}", ALL_MEETING_ADMINS})
    return frozenset(principals)


def material_principals(meeting: Meeting) -> frozenset[str]:
    """Who reads the meeting's materials: organiser, host, the invited still holding their seat
    (not removed, not handed to a delegate) and the 会议管理员 — no clerk."""
    principals = {f"mtg-u:{meeting.organiser_id}", f"mtg-u:{meeting.host_id}"}
    seats = (
        Rsvp.objects.filter(meeting_id=meeting.pk, removed_at__isnull=True)
        .exclude(reply=Reply.DELEGATE)
        .values_list("user_id", flat=True)
    )
    principals.update(f"mtg-u:{uid}" for uid in seats)
    principals.update({f"mtg-admin:{meeting.agency_id}", ALL_MEETING_ADMINS})
    return frozenset(principals)


def search_principals_of(user: Any) -> dict[str, int | None]:
    """The user side (no floors): nothing for whoever may not use meetings (the 审计管理员)."""
    if not may_use_meetings(user):
        return {}
    principals: dict[str, int | None] = {f"mtg-u:{user.pk}": None}
    principals.update({f"mtg-clerk:{a}": None for a in _clerk_agencies(user)})
    admin_agencies = _meeting_admin_agencies(user)
    if admin_agencies is None:
        principals[ALL_MEETING_ADMINS] = None
    else:
        principals.update({f"mtg-admin:{a}": None for a in admin_agencies})
    return principals


# --- the REST API (issue 10): what a registered app reads with its own token --------------------------


def meetings_for_app(app: Any, agencies: list[int] | None = None) -> QuerySet[Meeting]:
    """Meetings an app reads with its own token, as a 收发员 of its data agencies would: those one of
    them organises and those to which one of them is invited as an agency — never a draft (not yet
    noticed to anyone)."""
    agencies = app.reading_agency_ids() if agencies is None else agencies
    invited = Invitee.objects.filter(kind=InviteeKind.AGENCY, agency_id__in=agencies).values("meeting_id")
    return Meeting.objects.filter(Q(agency_id__in=agencies) | Q(pk__in=invited)).exclude(
        status=MeetingStatus.DRAFT
    )
