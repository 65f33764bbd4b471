"""Permission-matrix entries for meetings (meetings/urls_*.py).

`meeting_id` is a noticed meeting of the 省府办公厅 in 第一会议室 tomorrow: organised by the
office_secretary, hosted by the leader, the drafter invited by name and the 省财政厅 invited as an
agency whose 收发员 (other_clerk) has still to choose who attends. Those four see it; everyone else
— administrators and the 省府办公厅's other people included — gets the 404 of a missing meeting.
The organiser manages it (the leader hosts but does not organise). `room_id` is that room (every
active person of the 省府办公厅 sees it and may book it; nobody in the cast manages it), `booking_id`
its booking, `material_id` a PDF of the meeting, `invitee_id` the 省财政厅's invitation.
`token` is both the meeting's door QR token and the drafter's calendar-feed token (one URL argument
name serves both URLs): the check-in page answers everyone signed in (it tells a person not invited
so), the feed answers without a session. The 审计管理员 never uses meetings: 403 on the pages that
name no meeting (as for the 通讯录 and 消息), the 404 of a stranger on those that do. Who sees a
meeting but does not run it gets 403 on the organiser's pages.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.utils import timezone

# The organiser, the host, the invited drafter and the clerk who chooses for the invited agency.
SEES = {"office_secretary": 200, "leader": 200, "drafter": 200, "other_clerk": 200}
NOT_FOUND = {"anonymous": 302, "*": 404}
# Seen but not theirs to manage: 403 on the organiser's pages (the same rule as chat's export).
ORGANISER_ONLY = {**NOT_FOUND, **{k: 403 for k in SEES}, "office_secretary": 200}
# The 省府办公厅's people (the room's agency); the 审计管理员 too is of it but never uses meetings.
AGENCY = {
    "drafter": 200,
    "dept_head": 200,
    "office_secretary": 200,
    "office_director": 200,
    "leader": 200,
    "clerk": 200,
    "supervisor": 200,
    "system_admin": 200,
    "security_admin": 200,
}
EVERYONE_BUT_AUDIT = {"anonymous": 302, "*": 200, "audit_admin": 403}

MATRIX: dict[str, tuple[str, dict[str, int]]] = {
    "meetings:index": ("get", EVERYONE_BUT_AUDIT),
    "meetings:new": ("get", EVERYONE_BUT_AUDIT),
    "meetings:detail": ("get", {**NOT_FOUND, **SEES}),
    "meetings:edit": ("get", ORGANISER_ONLY),
    "meetings:invitees": ("get", ORGANISER_ONLY),
    # Already noticed: sending again is refused with a message, back to the meeting page.
    "meetings:send_notice": ("post", {**ORGANISER_ONLY, "office_secretary": 302}),
    # An empty 回执 from the invited drafter: the meeting page again with the form's errors.
    "meetings:reply": ("post", {**NOT_FOUND, "drafter": 400}),
    "meetings:remind": ("post", {**ORGANISER_ONLY, "office_secretary": 302}),
    "meetings:cancel": ("get", ORGANISER_ONLY),
    "meetings:stats": ("get", ORGANISER_ONLY),
    "meetings:export_attendance": ("get", ORGANISER_ONLY),
    # The 省财政厅's invitation: only its 收发员 chooses.
    "meetings:choose": ("get", {**NOT_FOUND, "other_clerk": 200}),
    "meetings:rooms": ("get", EVERYONE_BUT_AUDIT),
    # Adding a room is the 会议管理员's: nobody in the cast is one.
    "meetings:room_new": ("get", {"anonymous": 302, "*": 403}),
    "meetings:room": ("get", {**NOT_FOUND, **AGENCY}),
    # Seen by the agency, managed by nobody in the cast.
    "meetings:room_edit": ("get", {**NOT_FOUND, **{k: 403 for k in AGENCY}}),
    "meetings:room_calendar": ("get", {**NOT_FOUND, **AGENCY}),
    "meetings:bookings": ("get", EVERYONE_BUT_AUDIT),
    # Nobody in the cast manages the room: who sees it is refused, the rest do not learn of it.
    "meetings:booking_decide": ("post", {**NOT_FOUND, **{k: 403 for k in AGENCY}}),
    # The booking holds the meeting's room: nobody cancels it from the approvals page (the
    # organiser changes the room on the meeting page); re-rendered with the sentence (400).
    "meetings:booking_cancel": ("post", {**NOT_FOUND, **{k: 400 for k in AGENCY}}),
    "meetings:my_calendar": ("get", EVERYONE_BUT_AUDIT),
    "meetings:meeting_ics": ("get", {**NOT_FOUND, **SEES}),
    "meetings:feed_settings": ("get", EVERYONE_BUT_AUDIT),
    # No session: the token is the key (an unknown one is a plain 404, tests/meetings/test_ics.py).
    "meetings:feed": ("get", {"anonymous": 200, "*": 200}),
    # The door page: the organiser's; whoever else sees the meeting is refused.
    "meetings:checkin_door": (
        "get",
        {**NOT_FOUND, **{k: 403 for k in SEES}, "office_secretary": 200},
    ),
    # No person chosen: the door page again with "请选择要代为签到的人员。"
    "meetings:checkin_manual": (
        "post",
        {**NOT_FOUND, **{k: 403 for k in SEES}, "office_secretary": 400},
    ),
    # Whoever holds the door's code opens the check-in page; it says whether they are invited.
    "meetings:checkin": ("get", {"anonymous": 302, "*": 200}),
    "meetings:agenda": ("get", {**NOT_FOUND, **SEES}),
    # Papers are for those who hold a seat: the clerk who has still to choose sees the meeting only.
    "meetings:material": ("get", {**NOT_FOUND, **SEES, "other_clerk": 404}),
    "meetings:minutes": ("get", {**NOT_FOUND, **SEES}),
    # The meeting is noticed: its invited, host and organiser enter; the clerk who has not chosen
    # sees the meeting, and the room page tells him he may not enter.
    "meetings:live": ("get", {**NOT_FOUND, **SEES}),
    # The media server's settings: the 系统管理员's.
    "meetings:media_settings": ("get", {"anonymous": 302, "*": 403, "system_admin": 200}),
}


def _pdf() -> Any:
    from io import BytesIO

    from django.core.files.uploadedfile import SimpleUploadedFile
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = BytesIO()
    writer.write(out)
    return SimpleUploadedFile("汇报材料.pdf", out.getvalue(), content_type="application/pdf")


def objects(cast: Any, existing: dict[str, Any]) -> dict[str, Any]:
    from meetings import agenda, services
    from meetings.models import BookableBy, CalendarFeed, Invitee, InviteeKind, MeetingKind, Room

    room = Room.objects.create(
        agency=cast.gov_office,
        name="第一会议室",
        location="省府大院1号楼3楼",
        capacity=40,
        bookable_by=BookableBy.AGENCY,
    )
    tomorrow = timezone.localdate() + timedelta(days=1)
    starts_at = timezone.make_aware(datetime.combine(tomorrow, time(9)))
    meeting = services.create_meeting(
        actor=cast.office_secretary,
        title="全省政务服务工作推进会",
        kind=MeetingKind.OFFICE,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        host=cast.leader,
        room=room,
    )
    services.set_invitees(
        meeting, actor=cast.office_secretary, people=[cast.drafter], agencies=[(cast.finance, 0)]
    )
    services.send_notice(meeting, actor=cast.office_secretary)
    material = agenda.add_material(meeting, actor=cast.office_secretary, upload=_pdf(), title="汇报材料")
    CalendarFeed.objects.update_or_create(user=cast.drafter, defaults={"token": meeting.checkin_token})
    invitee = Invitee.objects.get(meeting=meeting, kind=InviteeKind.AGENCY)
    return {
        "meeting_id": meeting.pk,
        "room_id": room.pk,
        "booking_id": meeting.booking_id,
        "material_id": material.pk,
        "invitee_id": invitee.pk,
        "token": meeting.checkin_token,
    }
