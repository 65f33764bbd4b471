"""Every change in the live meeting room: presence, the host's controls, hands, chat and votes.

Each service is one transaction with a keyword-only actor; it re-checks meetings.access (a person
who may not see the meeting gets the same Http404 as for one that does not exist), refuses with a
MeetingError carrying a Chinese sentence, and publishes its frame to the room's fan-out group
(meetings.groups.room_group) only in transaction.on_commit, so no socket ever sees a change that
was rolled back.

Locks: what moves the room's shared state (page, mute, hands, opening and closing a vote, removal,
the end) runs under the Meeting row lock (select_for_update), so two host clicks are applied one
after the other and `live_version` counts every change exactly once. A cast locks only its Vote
row: 300 voters queue on that row, not on the meeting, and the tally (Vote.count_*) moves in the
same transaction as the Ballot. Lock order is always Meeting, then Vote, so closing (which takes
both) never deadlocks with a cast (which takes only the Vote).

Anonymous votes (不记名): the Ballot row says that a person voted (one ballot each), with an empty
choice; the counts on the Vote row are the only record of the choices. A cast of an anonymous vote
writes NO audit event and no outbox row: an audit row carries the actor, the time and the client
address, and set beside the tally's order of movements it would link a person to a choice. While
such a vote is open the live frames carry the number of ballots but not the split (tally values
are null): in a small meeting a tally that moves right after someone clicks tells everyone what
they chose. The split is published when the host closes the vote.

Presence is per socket (LivePresence, one row per socket channel) so several daphne processes agree
on who is in; a user is "in" while any of their sockets is. Rows of a process that crashed are
never closed by their sockets: see meetings.live (the process heartbeat) for how they are swept.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from meetings import access
from meetings.errors import MeetingError
from meetings.groups import room_group
from meetings.models import (
    AgendaItem,
    Ballot,
    Choice,
    HandRaise,
    HandState,
    LivePresence,
    Material,
    Meeting,
    MeetingStatus,
    Reply,
    RoomMessage,
    Rsvp,
    Vote,
    VoteStatus,
)
from officeapp.access import NOT_FOUND_MESSAGE
from officeapp.audit.services import record
from officeapp.notify import fanout
from officeapp.notify.push import send_to_groups
from officeapp.notify.relay import user_group
from officeapp.outbox.services import emit
from officeapp.ratelimit import within_rate

CHAT_MAX_CHARS = 500
CHAT_HISTORY = 50
# 会中交流: at most this many messages per person in this many seconds (a room of 300 reads them all).
CHAT_RATE = (10, 10)
VOTE_TITLE_MAX_CHARS = Vote._meta.get_field("title").max_length or 200
CLIENT_ID_MAX_CHARS = 64
# The largest page number kept (Meeting.live_page is a PositiveIntegerField: 32 bits on PostgreSQL).
PAGE_MAX = 100_000
# A presence row whose process has not touched it for this long belongs to a process that died
# (meetings.live refreshes the rows of its own sockets every PRESENCE_HEARTBEAT_SECONDS).
PRESENCE_HEARTBEAT_SECONDS = 60
PRESENCE_STALE_AFTER = timedelta(seconds=3 * PRESENCE_HEARTBEAT_SECONDS)

MSG_NOT_HOST = "只有主持人可以进行此操作。"
MSG_ENDED = "会议已结束。"
MSG_REMOVED = "您已被主持人移出会议室，不能再次进入。"
MSG_NOT_IN_ROOM = "您不是本次会议的参会人员。"
MSG_CHAT_EMPTY = "消息不能为空。"
MSG_CHAT_TOO_LONG = f"消息过长：最多 {CHAT_MAX_CHARS} 个字。"
MSG_CHAT_TOO_FAST = "发言过于频繁，请稍后再试。"
MSG_VOTED = "您已投票。"
MSG_VOTE_CLOSED = "表决已结束。"
MSG_VOTE_ALREADY_OPEN = "已有表决正在进行，请先结束当前表决。"
MSG_VOTE_TITLE = f"请填写表决事项（不超过 {VOTE_TITLE_MAX_CHARS} 个字）。"
MSG_BAD_CHOICE = "请选择赞成、反对或弃权。"
MSG_VOTE_NOT_FOUND = "该表决不存在。"
MSG_BAD_PAGE = "页码无效。"
MSG_BAD_AGENDA_ITEM = "该议题不属于本次会议。"
MSG_BAD_MATERIAL = "该材料不属于本次会议。"
MSG_NO_MATERIAL = "请先选择要展示的材料，再翻页。"
MSG_NO_HAND = "该举手申请已处理或已放下。"
MSG_CANNOT_REMOVE_HOST = "不能移出主持人或会议组织者。"
MSG_NOT_A_PARTICIPANT = "该人员不在本次会议的参会名单中。"
MSG_NOT_STARTED = "会议尚未发出通知，不能进入会议室。"
MSG_SEAT_GIVEN = "您已指派 {who} 参会，不能进入会议室。"


# --- looking up -----------------------------------------------------------------------------------


def _not_found() -> Http404:
    return Http404(NOT_FOUND_MESSAGE)


def get_room_for(user: Any, meeting_id: Any) -> Meeting:
    """The meeting whose live room the user may enter: Http404 for one they may not see (or that
    does not exist), a MeetingError saying why for one they see but may not enter."""
    meeting = access.get_meeting_for(user, meeting_id)
    _check_may_enter(user, meeting)
    return meeting


def _check_may_enter(user: Any, meeting: Meeting) -> None:
    if meeting.status == MeetingStatus.ENDED:
        raise MeetingError(MSG_ENDED)
    if access.may_enter_room(user, meeting):
        _refuse_a_given_seat(user, meeting)
        return
    if meeting.status == MeetingStatus.CANCELLED:
        raise _not_found()
    if meeting.status == MeetingStatus.DRAFT:
        raise MeetingError(MSG_NOT_STARTED)
    if Rsvp.objects.filter(meeting=meeting, user=user, removed_at__isnull=False).exists():
        raise MeetingError(MSG_REMOVED)
    raise MeetingError(MSG_NOT_IN_ROOM)


def _refuse_a_given_seat(user: Any, meeting: Meeting) -> None:
    """指派 is final (meetings.services.reply): the delegate holds the seat, so the person who sent
    them neither sits in the room beside them nor casts a second vote for the same seat (check-in
    refuses them alike). The host and the organiser run the room whatever they replied."""
    if user.pk in (meeting.host_id, meeting.organiser_id):
        return
    given = Rsvp.objects.filter(meeting=meeting, user=user, reply=Reply.DELEGATE).first()
    if given is None:
        return
    delegate = Rsvp.objects.filter(delegated_from=given).select_related("user").first()
    raise MeetingError(MSG_SEAT_GIVEN.format(who=_name(delegate.user) if delegate else "他人"))


def _lock(meeting: Meeting | int) -> Meeting:
    """The meeting's row, locked until the end of the transaction (the one lock of the room)."""
    pk = meeting.pk if isinstance(meeting, Meeting) else int(meeting)
    return Meeting.objects.select_for_update().get(pk=pk)


def _lock_vote(meeting: Meeting, vote_id: Any) -> Vote:
    pk = access.parse_id(vote_id)
    found = Vote.objects.select_for_update().filter(pk=pk, meeting=meeting).first() if pk else None
    if found is None:
        raise MeetingError(MSG_VOTE_NOT_FOUND)
    return found


def _locked_room(meeting: Meeting, actor: Any, *, host: bool) -> Meeting:
    """Re-check access on the locked row: not ended, the actor still a participant (or the host)."""
    locked = _lock(meeting)
    if not access.visible_meetings(actor).filter(pk=locked.pk).exists():
        raise _not_found()
    if locked.status == MeetingStatus.ENDED:
        raise MeetingError(MSG_ENDED)
    if host:
        if not access.can_host(actor, locked):
            raise MeetingError(MSG_NOT_HOST)
    else:
        _check_may_enter(actor, locked)
    return locked


def _bump(meeting: Meeting, *fields: str) -> None:
    meeting.live_version += 1
    meeting.updated_at = timezone.now()
    meeting.save(update_fields=[*fields, "live_version", "updated_at"])


def _publish(meeting_id: int, *frames: dict[str, Any]) -> None:
    """Queue the frames for after commit, in order, to every socket of the room."""
    for frame in frames:
        transaction.on_commit(partial(fanout.publish, room_group(meeting_id), frame))


# --- frames ---------------------------------------------------------------------------------------


def _name(user: Any) -> str:
    return str(user)


def fresh_presences(meeting_id: int) -> Any:
    """Presence rows of sockets whose process is alive (touched within PRESENCE_STALE_AFTER)."""
    return LivePresence.objects.filter(
        meeting_id=meeting_id, seen_at__gte=timezone.now() - PRESENCE_STALE_AFTER
    )


def presence_list(meeting_id: int) -> list[dict[str, Any]]:
    rows = (
        fresh_presences(meeting_id)
        .order_by("joined_at", "id")
        .values_list("user_id", "user__real_name", "user__username")
    )
    seen: dict[int, dict[str, Any]] = {}
    for user_id, real_name, username in rows:
        if user_id not in seen:
            seen[user_id] = {"user": user_id, "name": real_name or username}
    return list(seen.values())


def present_count(meeting_id: int) -> int:
    return fresh_presences(meeting_id).values("user_id").distinct().count()


def hands_list(meeting_id: int) -> list[dict[str, Any]]:
    """The host's queue: hands waiting (in the order raised) and hands allowed to speak."""
    hands = (
        HandRaise.objects.filter(meeting_id=meeting_id, state__in=[HandState.WAITING, HandState.ALLOWED])
        .select_related("user")
        .order_by("raised_at", "id")
    )
    return [{"id": h.pk, "user": h.user_id, "name": _name(h.user), "state": h.state} for h in hands]


def vote_frame_body(vote: Vote, *, electorate: int | None = None) -> dict[str, Any]:
    closed = vote.status == VoteStatus.CLOSED
    hidden = vote.anonymous and not closed  # see the module docstring: no live split of a secret vote
    tally = {
        "for": None if hidden else vote.count_for,
        "against": None if hidden else vote.count_against,
        "abstain": None if hidden else vote.count_abstain,
    }
    return {
        "id": vote.pk,
        "title": vote.title,
        "anonymous": vote.anonymous,
        "status": vote.status,
        "tally": tally,
        # How many have voted (a number: the frame goes to everyone; "me.voted" is per person).
        "voted": vote.count_for + vote.count_against + vote.count_abstain,
        "electorate": vote.electorate if closed else (electorate if electorate is not None else 0),
        "result": _result(vote) if closed else None,
    }


def _result(vote: Vote) -> str:
    """The outcome in words: passed when more are for than against and abstaining together."""
    total = vote.count_for + vote.count_against + vote.count_abstain
    if total == 0:
        return "无人表决"
    return "通过" if vote.count_for * 2 > total else "未通过"


def vote_frame(vote: Vote) -> dict[str, Any]:
    return {
        "type": "meeting.vote",
        "meeting": vote.meeting_id,
        "vote": vote_frame_body(vote, electorate=present_count(vote.meeting_id)),
    }


def message_body(message: RoomMessage) -> dict[str, Any]:
    return {
        "id": message.pk,
        "user": message.sender_id,
        "name": _name(message.sender),
        "body": message.body,
        "at": message.created_at.isoformat(),
    }


def current_vote(meeting_id: int) -> Vote | None:
    """The open vote, else the latest closed one (its result stays on screen)."""
    votes = Vote.objects.filter(meeting_id=meeting_id)
    return votes.filter(status=VoteStatus.OPEN).first() or votes.order_by("-opened_at", "-id").first()


def room_state(meeting: Meeting, user: Any) -> dict[str, Any]:
    """The whole room as `user` sees it now: what a (re)joining socket needs at once."""
    meeting = Meeting.objects.select_related("live_agenda_item", "live_material").get(pk=meeting.pk)
    vote = current_vote(meeting.pk)
    messages = list(
        RoomMessage.objects.filter(meeting=meeting).select_related("sender").order_by("-id")[:CHAT_HISTORY]
    )
    item = meeting.live_agenda_item
    material = meeting.live_material
    return {
        "type": "meeting.state",
        "meeting": meeting.pk,
        "version": meeting.live_version,
        "status": meeting.status,
        "presence": presence_list(meeting.pk),
        "agenda_item": _agenda_body(item),
        "material": _material_body(material),
        "page": meeting.live_page,
        "muted_all": meeting.muted_all,
        "hands": hands_list(meeting.pk),
        "vote": vote_frame_body(vote, electorate=present_count(meeting.pk)) if vote else None,
        "chat": [message_body(m) for m in reversed(messages)],
        "me": {
            "user": user.pk,
            "name": _name(user),
            "host": access.can_host(user, meeting),
            "voted": bool(vote and vote.ballots.filter(voter=user).exists()),
        },
    }


def _agenda_body(item: AgendaItem | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return {"id": item.pk, "order": item.order, "title": item.title, "presenter": item.presenter_name}


def _material_body(material: Material | None) -> dict[str, Any] | None:
    if material is None:
        return None
    return {
        "id": material.pk,
        "title": material.title,
        "filename": material.filename,
        "pages": material.page_count,
    }


def _presence_frame(meeting_id: int, event: str, user: Any) -> dict[str, Any]:
    return {
        "type": "meeting.presence",
        "meeting": meeting_id,
        "event": event,
        "user": user.pk,
        "name": _name(user),
        "count": present_count(meeting_id),
    }


def _hands_frame(meeting_id: int) -> dict[str, Any]:
    return {"type": "meeting.hands", "meeting": meeting_id, "hands": hands_list(meeting_id)}


# --- presence -------------------------------------------------------------------------------------


def enter_room(meeting: Meeting, *, actor: Any, channel: str) -> dict[str, Any]:
    """Record that this socket is in the room; the first socket of a person tells everyone
    ("joined"). The host's arrival opens a noticed meeting (status LIVE). Returns the room state."""
    with transaction.atomic():
        meeting = Meeting.objects.get(pk=meeting.pk)
        _check_may_enter(actor, meeting)
        if meeting.status == MeetingStatus.NOTICED and access.can_host(actor, meeting):
            locked = _lock(meeting)
            if locked.status == MeetingStatus.NOTICED:
                locked.status = MeetingStatus.LIVE
                locked.live_started_at = timezone.now()
                _bump(locked, "status", "live_started_at")
                record("meeting.live.start", actor=actor, obj=locked, details={})
                emit("meeting.live.started", locked, payload={"meeting": locked.pk})
        # "joined" only for the person's first socket, and once per socket (a page may send
        # meeting.join twice on one socket: once queued at load, once when the socket opens).
        was_in = fresh_presences(meeting.pk).filter(user=actor).exists()
        now = timezone.now()
        LivePresence.objects.update_or_create(
            channel=channel, defaults={"meeting": meeting, "user": actor, "seen_at": now}
        )
        if not was_in:
            transaction.on_commit(
                lambda: fanout.publish(room_group(meeting.pk), _presence_frame(meeting.pk, "joined", actor))
            )
        return room_state(meeting, actor)


def leave_room(meeting_id: int, *, actor: Any, channel: str) -> bool:
    """This socket left (closed, or meeting.leave): "left" goes out when it was the person's last
    socket in the room. True when the person is no longer in the room."""
    with transaction.atomic():
        deleted, _ = LivePresence.objects.filter(meeting_id=meeting_id, channel=channel).delete()
        if not deleted:
            return False
        if fresh_presences(meeting_id).filter(user=actor).exists():
            return False
        transaction.on_commit(
            lambda: fanout.publish(room_group(meeting_id), _presence_frame(meeting_id, "left", actor))
        )
        return True


def touch_presences(channels: list[str]) -> int:
    """The process heartbeat: its sockets' rows are alive (one UPDATE for all of them)."""
    if not channels:
        return 0
    return LivePresence.objects.filter(channel__in=channels).update(seen_at=timezone.now())


def sweep_stale_presences() -> int:
    """Delete rows no process has touched for PRESENCE_STALE_AFTER (their process died) and tell
    each room who is gone. Returns the number of rows removed."""
    from django.contrib.auth import get_user_model

    cutoff = timezone.now() - PRESENCE_STALE_AFTER
    with transaction.atomic():
        stale = list(
            LivePresence.objects.select_for_update(skip_locked=True)
            .filter(seen_at__lt=cutoff)
            .values_list("pk", "meeting_id", "user_id")
        )
        if not stale:
            return 0
        LivePresence.objects.filter(pk__in=[pk for pk, _, _ in stale]).delete()
        users = {u.pk: u for u in get_user_model().objects.filter(pk__in={uid for _, _, uid in stale})}
        for meeting_id, user_id in {(m, u) for _, m, u in stale}:
            if not fresh_presences(meeting_id).filter(user_id=user_id).exists() and user_id in users:
                user = users[user_id]
                transaction.on_commit(
                    partial(_publish_left, meeting_id, user),
                )
        return len(stale)


def _publish_left(meeting_id: int, user: Any) -> None:
    fanout.publish(room_group(meeting_id), _presence_frame(meeting_id, "left", user))


# --- the host's controls ---------------------------------------------------------------------------

_UNSET: Any = object()


def turn(
    meeting: Meeting,
    *,
    actor: Any,
    agenda_item: Any = _UNSET,
    material: Any = _UNSET,
    page: Any = _UNSET,
) -> Meeting:
    """Move the room to an agenda item, a material and a page; every participant follows.
    A new material starts at page 1 unless a page is given."""
    with transaction.atomic():
        locked = _locked_room(meeting, actor, host=True)
        fields: list[str] = []
        if agenda_item is not _UNSET:
            item = None
            if agenda_item is not None:
                pk = access.parse_id(agenda_item)
                item = AgendaItem.objects.filter(pk=pk, meeting=locked).first() if pk else None
                if item is None:
                    raise MeetingError(MSG_BAD_AGENDA_ITEM)
            locked.live_agenda_item = item
            fields.append("live_agenda_item")
        if material is not _UNSET:
            found = None
            if material is not None:
                pk = access.parse_id(material)
                found = Material.objects.filter(pk=pk, meeting=locked).first() if pk else None
                if found is None:
                    raise MeetingError(MSG_BAD_MATERIAL)
            if found is None or found.pk != locked.live_material_id:
                locked.live_page = 1
                fields.append("live_page")
            locked.live_material = found
            fields.append("live_material")
        if page is not _UNSET:
            if locked.live_material is None:
                raise MeetingError(MSG_NO_MATERIAL)
            number = access.parse_id(page)
            # 0 while the page count is not known: then the column's own bound (a PDF has far fewer).
            limit = locked.live_material.page_count or PAGE_MAX
            if number is None or number > limit:
                raise MeetingError(MSG_BAD_PAGE)
            locked.live_page = number
            fields.append("live_page")
        if not fields:
            raise MeetingError("请指定要切换的议题、材料或页码。")
        _bump(locked, *dict.fromkeys(fields))
        record(
            "meeting.live.turn",
            actor=actor,
            obj=locked,
            details={
                "agenda_item": locked.live_agenda_item_id,
                "material": locked.live_material_id,
                "page": locked.live_page,
            },
        )
        frame = {
            "type": "meeting.turned",
            "meeting": locked.pk,
            "agenda_item": _agenda_body(locked.live_agenda_item),
            "material": _material_body(locked.live_material),
            "page": locked.live_page,
            "version": locked.live_version,
        }
        _publish(locked.pk, frame)
        return locked


def mute_all(meeting: Meeting, *, actor: Any, muted: bool) -> Meeting:
    with transaction.atomic():
        locked = _locked_room(meeting, actor, host=True)
        if locked.muted_all != bool(muted):
            locked.muted_all = bool(muted)
            _bump(locked, "muted_all")
            record("meeting.live.mute_all", actor=actor, obj=locked, details={"muted": locked.muted_all})
        _publish(
            locked.pk,
            {
                "type": "meeting.muted",
                "meeting": locked.pk,
                "muted": locked.muted_all,
                "version": locked.live_version,
            },
        )
        return locked


def remove_participant(meeting: Meeting, *, actor: Any, user_id: Any) -> Rsvp:
    """The host removes a person: they may not enter again (Rsvp.removed_at), their sockets get
    meeting.removed and every process stops writing the room to them."""
    with transaction.atomic():
        locked = _locked_room(meeting, actor, host=True)
        pk = access.parse_id(user_id)
        if pk is not None and pk in (locked.host_id, locked.organiser_id):
            raise MeetingError(MSG_CANNOT_REMOVE_HOST)
        rsvp = (
            Rsvp.objects.select_for_update().filter(meeting=locked, user_id=pk).select_related("user").first()
            if pk
            else None
        )
        if rsvp is None:
            raise MeetingError(MSG_NOT_A_PARTICIPANT)
        if rsvp.removed_at is None:
            rsvp.removed_at = timezone.now()
            rsvp.save(update_fields=["removed_at"])
        LivePresence.objects.filter(meeting=locked, user_id=pk).delete()
        HandRaise.objects.filter(
            meeting=locked, user_id=pk, state__in=[HandState.WAITING, HandState.ALLOWED]
        ).update(state=HandState.LOWERED, decided_at=timezone.now(), decided_by=actor)
        _bump(locked)
        record("meeting.live.remove", actor=actor, obj=locked, details={"user": pk})
        emit("meeting.participant.removed", locked, payload={"meeting": locked.pk, "user": pk})
        meeting_id, user = locked.pk, rsvp.user

        def tell() -> None:
            # First no process writes the room to them, then they hear why, then everyone else.
            fanout.drop_users(room_group(meeting_id), [user.pk])
            send_to_groups(
                [
                    (
                        user_group(user.pk),
                        {"type": "push", "frame": {"type": "meeting.removed", "meeting": meeting_id}},
                    )
                ]
            )
            fanout.publish(room_group(meeting_id), _presence_frame(meeting_id, "left", user))
            fanout.publish(room_group(meeting_id), _hands_frame(meeting_id))

        transaction.on_commit(tell)
        return rsvp


def end_meeting(meeting: Meeting, *, actor: Any) -> Meeting:
    """End the meeting: an open vote is closed with its result, waiting hands are lowered."""
    with transaction.atomic():
        locked = _locked_room(meeting, actor, host=True)
        open_vote = Vote.objects.select_for_update().filter(meeting=locked, status=VoteStatus.OPEN).first()
        if open_vote is not None:
            _close(locked, open_vote, actor=actor)
        HandRaise.objects.filter(meeting=locked, state__in=[HandState.WAITING, HandState.ALLOWED]).update(
            state=HandState.LOWERED, decided_at=timezone.now()
        )
        locked.status = MeetingStatus.ENDED
        locked.ended_at = timezone.now()
        _bump(locked, "status", "ended_at")
        record("meeting.live.end", actor=actor, obj=locked, details={})
        emit("meeting.ended", locked, payload={"meeting": locked.pk})
        _publish(locked.pk, {"type": "meeting.ended", "meeting": locked.pk, "version": locked.live_version})
        return locked


# --- hands ----------------------------------------------------------------------------------------


def raise_hand(meeting: Meeting, *, actor: Any, raised: bool) -> HandRaise | None:
    """Raise (once: a second click changes nothing) or lower one's own hand."""
    with transaction.atomic():
        locked = _locked_room(meeting, actor, host=False)
        mine = HandRaise.objects.filter(
            meeting=locked, user=actor, state__in=[HandState.WAITING, HandState.ALLOWED]
        ).first()
        if raised:
            if mine is not None:
                return mine
            mine = HandRaise.objects.create(meeting=locked, user=actor)
        else:
            if mine is None:
                return None
            mine.state = HandState.LOWERED
            mine.decided_at = timezone.now()
            mine.save(update_fields=["state", "decided_at"])
        _bump(locked)
        _publish(locked.pk, _hands_frame(locked.pk))
        return mine


def decide_hand(meeting: Meeting, *, actor: Any, hand_id: Any, allow: bool) -> HandRaise:
    """The host allows a waiting hand to speak (准许) or refuses it (不准许); refusing an allowed
    hand ends its turn."""
    with transaction.atomic():
        locked = _locked_room(meeting, actor, host=True)
        pk = access.parse_id(hand_id)
        hand = (
            HandRaise.objects.filter(
                pk=pk, meeting=locked, state__in=[HandState.WAITING, HandState.ALLOWED]
            ).first()
            if pk
            else None
        )
        if hand is None or (allow and hand.state == HandState.ALLOWED):
            raise MeetingError(MSG_NO_HAND)
        hand.state = HandState.ALLOWED if allow else HandState.DENIED
        hand.decided_at = timezone.now()
        hand.decided_by = actor
        hand.save(update_fields=["state", "decided_at", "decided_by"])
        _bump(locked)
        record("meeting.live.hand", actor=actor, obj=locked, details={"hand": hand.pk, "allow": bool(allow)})
        _publish(locked.pk, _hands_frame(locked.pk))
        return hand


# --- chat -----------------------------------------------------------------------------------------


def send_message(meeting: Meeting, *, actor: Any, body: Any, client_id: Any = "") -> RoomMessage:
    """会中交流. The text is not audited (message text never is); the room keeps it with the meeting."""
    text = body.strip() if isinstance(body, str) else ""
    if not text:
        raise MeetingError(MSG_CHAT_EMPTY)
    if len(text) > CHAT_MAX_CHARS:
        raise MeetingError(MSG_CHAT_TOO_LONG)
    echo = client_id[:CLIENT_ID_MAX_CHARS] if isinstance(client_id, str) else ""
    count, seconds = CHAT_RATE
    if not within_rate(f"meetings.room-chat.{actor.pk}", count=count, seconds=seconds):
        raise MeetingError(MSG_CHAT_TOO_FAST)
    with transaction.atomic():
        current = Meeting.objects.get(pk=meeting.pk)
        if not access.visible_meetings(actor).filter(pk=current.pk).exists():
            raise _not_found()
        _check_may_enter(actor, current)
        message = RoomMessage.objects.create(meeting=current, sender=actor, body=text)
        frame = {
            "type": "meeting.chat",
            "meeting": current.pk,
            "message": message_body(message),
            "client_id": echo,
        }
        _publish(current.pk, frame)
        return message


# --- votes ----------------------------------------------------------------------------------------


def open_vote(meeting: Meeting, *, actor: Any, title: Any, anonymous: bool = False) -> Vote:
    text = title.strip() if isinstance(title, str) else ""
    if not text or len(text) > VOTE_TITLE_MAX_CHARS:
        raise MeetingError(MSG_VOTE_TITLE)
    with transaction.atomic():
        locked = _locked_room(meeting, actor, host=True)
        if Vote.objects.filter(meeting=locked, status=VoteStatus.OPEN).exists():
            raise MeetingError(MSG_VOTE_ALREADY_OPEN)
        try:
            with transaction.atomic():
                vote = Vote.objects.create(
                    meeting=locked,
                    agenda_item=locked.live_agenda_item,
                    title=text,
                    anonymous=bool(anonymous),
                    opened_by=actor,
                )
        except IntegrityError:  # meetings_vote_one_open: the constraint is the last word
            raise MeetingError(MSG_VOTE_ALREADY_OPEN) from None
        _bump(locked)
        record(
            "meeting.vote.open",
            actor=actor,
            obj=vote,
            details={"meeting": locked.pk, "anonymous": vote.anonymous},
        )
        emit(
            "meeting.vote.opened",
            vote,
            payload={"meeting": locked.pk, "vote": vote.pk, "anonymous": vote.anonymous},
        )
        transaction.on_commit(lambda: fanout.publish(room_group(vote.meeting_id), vote_frame(vote)))
        return vote


def cast_vote(meeting: Meeting, *, actor: Any, vote_id: Any, choice: Any) -> Vote:
    """One ballot per person; the tally moves under the Vote row lock in the same transaction.
    An anonymous ballot stores no choice and writes no audit event (module docstring)."""
    if choice not in Choice.values:
        raise MeetingError(MSG_BAD_CHOICE)
    with transaction.atomic():
        current = Meeting.objects.get(pk=meeting.pk)
        if not access.visible_meetings(actor).filter(pk=current.pk).exists():
            raise _not_found()
        _check_may_enter(actor, current)
        vote = _lock_vote(current, vote_id)
        if vote.status != VoteStatus.OPEN:
            raise MeetingError(MSG_VOTE_CLOSED)
        if Ballot.objects.filter(vote=vote, voter=actor).exists():
            raise MeetingError(MSG_VOTED)
        try:
            with transaction.atomic():
                Ballot.objects.create(vote=vote, voter=actor, choice="" if vote.anonymous else choice)
        except IntegrityError:
            raise MeetingError(MSG_VOTED) from None
        counter = {Choice.FOR: "count_for", Choice.AGAINST: "count_against", Choice.ABSTAIN: "count_abstain"}[
            Choice(choice)
        ]
        setattr(vote, counter, getattr(vote, counter) + 1)
        vote.save(update_fields=[counter])
        if not vote.anonymous:
            # An open vote is open: who voted what is on the Ballot row already; the audit says
            # only that a ballot was cast.
            record("meeting.vote.cast", actor=actor, obj=vote, details={"meeting": current.pk})
        transaction.on_commit(lambda: fanout.publish(room_group(vote.meeting_id), vote_frame(vote)))
        return vote


def close_vote(meeting: Meeting, *, actor: Any, vote_id: Any) -> Vote:
    with transaction.atomic():
        locked = _locked_room(meeting, actor, host=True)
        vote = _lock_vote(locked, vote_id)
        if vote.status != VoteStatus.OPEN:
            raise MeetingError(MSG_VOTE_CLOSED)
        _close(locked, vote, actor=actor)
        _bump(locked)
        return vote


def _close(meeting: Meeting, vote: Vote, *, actor: Any) -> None:
    """Close a locked open vote: the result and the electorate are stored, audited and pushed."""
    vote.status = VoteStatus.CLOSED
    vote.closed_at = timezone.now()
    cast = vote.count_for + vote.count_against + vote.count_abstain
    vote.electorate = max(present_count(meeting.pk), cast)
    vote.save(update_fields=["status", "closed_at", "electorate"])
    result = {
        "meeting": meeting.pk,
        "vote": vote.pk,
        "anonymous": vote.anonymous,
        "for": vote.count_for,
        "against": vote.count_against,
        "abstain": vote.count_abstain,
        "electorate": vote.electorate,
    }
    record("meeting.vote.close", actor=actor, obj=vote, details=result)
    emit("meeting.vote.closed", vote, payload=result)
    frame = {"type": "meeting.vote", "meeting": meeting.pk, "vote": vote_frame_body(vote)}
    _publish(meeting.pk, frame)
