"""签到: by the QR code at the door, by the organiser's hand, or by entering the live room.

The door shows a QR code of meetings:checkin with the meeting's `checkin_token`; a participant who
scans it on a signed-in phone presses one 签到 button (POST). Each check-in writes the Rsvp's
`checked_in_at`, `checkin_method` and `checked_in_by` under the Rsvp's row lock (a double tap
checks in once), an audit event and an outbox row, and pushes the organiser's statistics after
commit (meetings.stats).

Window: from CHECKIN_OPENS_BEFORE before the start until the meeting ends (its `ends_at`, or the
host ending it earlier). Refused: a cancelled meeting, a meeting whose notice was not sent, a person
without an Rsvp, a person who handed the meeting to a delegate (the delegate has a row of their
own and is the one expected), and a second check-in ("您已于 HH:MM 签到").

A person who asked for leave (请假) and comes anyway is checked in and their reply becomes 参加;
so does one who never replied. The statistics count expected = invited − leave − delegate: left at
请假, a person in the room would be both "absent" on the attendance sheet and checked in, and the
door would show more checked in than expected. The reason they gave stays on the row.
"""

from __future__ import annotations

import hmac
from datetime import timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from meetings import access
from meetings.errors import MeetingError
from meetings.models import CheckinMethod, Meeting, MeetingStatus, Reply, Rsvp
from meetings.stats import push_stats
from officeapp.audit.services import record
from officeapp.outbox.services import emit

CHECKIN_OPENS_BEFORE = timedelta(minutes=60)

MSG_WRONG_CODE = "二维码与本会议不符"
MSG_NOT_INVITED = "您不在本次会议的参会名单中"
MSG_CANCELLED = "本次会议已取消，无需签到。"
MSG_NOT_NOTICED = "本次会议尚未发出通知，暂不能签到。"
MSG_ENDED = "会议已结束，不能再签到。"
MSG_DELEGATED = "您已指派他人代为参会，本人无需签到。"
MSG_NOT_ORGANISER = "只有会议组织者可以代为签到。"
MSG_PERSON_NOT_INVITED = "该人员不在本次会议的参会名单中。"


def _hhmm(moment: Any) -> str:
    return f"{timezone.localtime(moment):%H:%M}"


def msg_already(rsvp: Rsvp) -> str:
    return f"您已于 {_hhmm(rsvp.checked_in_at)} 签到"


def msg_too_early(meeting: Meeting) -> str:
    opens = meeting.starts_at - CHECKIN_OPENS_BEFORE
    return f"签到尚未开始：会前60分钟（{_hhmm(opens)}）起可签到，请稍后再扫码。"


def token_matches(meeting: Meeting, token: Any) -> bool:
    """Constant-time: the token is what keeps a guessed URL from checking anyone in."""
    return isinstance(token, str) and hmac.compare_digest(token.encode(), meeting.checkin_token.encode())


def window_refusal(meeting: Meeting, now: Any = None) -> str:
    """Why nobody may check in to `meeting` now, or "" when the door is open."""
    now = now or timezone.now()
    if meeting.status == MeetingStatus.CANCELLED:
        return MSG_CANCELLED
    if meeting.status == MeetingStatus.DRAFT:
        return MSG_NOT_NOTICED
    if meeting.status == MeetingStatus.ENDED or now >= meeting.ends_at:
        return MSG_ENDED
    if now < meeting.starts_at - CHECKIN_OPENS_BEFORE:
        return msg_too_early(meeting)
    return ""


def refusal_for(meeting: Meeting, user: Any, rsvp: Rsvp | None) -> str:
    """Why `user` (with `rsvp`, their row or None) may not check in now, or ""."""
    if rsvp is None or not access.may_use_meetings(user):
        return MSG_NOT_INVITED
    if rsvp.checked_in_at is not None:
        return msg_already(rsvp)
    refusal = window_refusal(meeting)
    if refusal:
        return refusal
    if rsvp.reply == Reply.DELEGATE:
        return MSG_DELEGATED
    return ""


def state_for(meeting: Meeting, user: Any) -> tuple[Rsvp | None, str]:
    """What the check-in page shows before the button is pressed: the row and the refusal, if any."""
    rsvp = access.rsvp_of(user, meeting)
    return rsvp, refusal_for(meeting, user, rsvp)


def _locked_rsvp(meeting: Meeting, user: Any) -> Rsvp | None:
    return Rsvp.objects.select_for_update().filter(meeting_id=meeting.pk, user_id=user.pk).first()


def _fresh(meeting: Meeting) -> Meeting:
    return Meeting.objects.get(pk=meeting.pk)


def _mark(rsvp: Rsvp, *, method: str, by: Any) -> Rsvp:
    now = timezone.now()
    previous_reply = rsvp.reply
    rsvp.checked_in_at = now
    rsvp.checkin_method = method
    rsvp.checked_in_by = by
    fields = ["checked_in_at", "checkin_method", "checked_in_by"]
    if rsvp.reply in (Reply.NONE, Reply.LEAVE):
        # Present in the room: counted as attending (see the module docstring).
        rsvp.reply = Reply.ATTEND
        rsvp.replied_at = now
        fields += ["reply", "replied_at"]
    rsvp.save(update_fields=fields)
    record(
        "meetings.checked_in",
        actor=by,
        obj=rsvp,
        details={
            "meeting": rsvp.meeting_id,
            "user": rsvp.user_id,
            "method": method,
            "reply_before": previous_reply,
        },
    )
    emit(
        "meetings.rsvp.checked_in",
        rsvp,
        payload={"meeting": rsvp.meeting_id, "user": rsvp.user_id, "method": method},
    )
    transaction.on_commit(partial(push_stats, rsvp.meeting_id), robust=True)
    return rsvp


def check_in(meeting: Meeting, *, actor: Any, token: str) -> Rsvp:
    """扫码签到: the actor checks themselves in with the token from the door's QR code."""
    with transaction.atomic():
        meeting = _fresh(meeting)
        if not token_matches(meeting, token):
            raise MeetingError(MSG_WRONG_CODE)
        rsvp = _locked_rsvp(meeting, actor)
        refusal = refusal_for(meeting, actor, rsvp)
        if refusal:
            raise MeetingError(refusal)
        assert rsvp is not None  # refusal_for refused a missing row
        return _mark(rsvp, method=CheckinMethod.QR, by=actor)


def check_in_by_hand(meeting: Meeting, *, actor: Any, user: Any) -> Rsvp:
    """代为签到: the organiser checks in a participant who has no phone with them."""
    with transaction.atomic():
        meeting = _fresh(meeting)
        if not access.can_manage_meeting(actor, meeting):
            raise MeetingError(MSG_NOT_ORGANISER)
        rsvp = _locked_rsvp(meeting, user)
        if rsvp is None:
            raise MeetingError(MSG_PERSON_NOT_INVITED)
        name = getattr(user, "real_name", "") or str(user)
        if rsvp.checked_in_at is not None:
            raise MeetingError(f"{name}已于 {_hhmm(rsvp.checked_in_at)} 签到。")
        refusal = window_refusal(meeting)
        if refusal:
            raise MeetingError(refusal)
        if rsvp.reply == Reply.DELEGATE:
            raise MeetingError(f"{name}已指派他人代为参会，请为被指派人签到。")
        return _mark(rsvp, method=CheckinMethod.MANUAL, by=actor)


def check_in_live(meeting: Meeting, *, actor: Any) -> Rsvp | None:
    """线上入会: called by the live room when a participant enters. Idempotent: an existing
    check-in is kept as it is. None (and nothing written) when the actor has no Rsvp (the host or
    organiser who was not invited), handed the meeting to a delegate, or the door is not open
    (cancelled, ended, more than an hour early) — entering the room is not refused for that."""
    with transaction.atomic():
        meeting = _fresh(meeting)
        rsvp = _locked_rsvp(meeting, actor)
        if rsvp is None or not access.may_use_meetings(actor):
            return None
        if rsvp.checked_in_at is not None:
            return rsvp
        if window_refusal(meeting) or rsvp.reply == Reply.DELEGATE:
            return None
        return _mark(rsvp, method=CheckinMethod.LIVE, by=actor)
