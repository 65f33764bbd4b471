"""The live meeting room over /ws/, driven through the project's real ASGI application (origin
check, session auth, router) on whichever channel layer the settings chose: two participants and
the host see presence, page turns, hands, votes and chat live; refusals come back in Chinese and
the socket stays open; a removed participant cannot come back; a reconnect gets the state at once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.utils import timezone

from meetings import live, live_services
from meetings.models import (
    Ballot,
    CheckinMethod,
    LivePresence,
    Meeting,
    MeetingStatus,
    Rsvp,
    Vote,
    VoteStatus,
)
from officeapp.access import NOT_FOUND_MESSAGE
from officeapp.asgi import application
from officeapp.audit.models import AuditEvent
from officeapp.outbox.models import OutboxEvent
from tests.meetings.factories_live import LiveMeeting, make_live_meeting

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_thread_connections")]

ORIGIN = b"http://127.0.0.1:8000"


@pytest.fixture
def socket_headers(client: Any) -> Callable[[Any], Awaitable[list[tuple[bytes, bytes]]]]:
    def sign_in(user: Any) -> str:
        client.force_login(user, backend="officeapp.accounts.backends.LockoutAwareBackend")
        key = client.cookies[settings.SESSION_COOKIE_NAME].value
        client.cookies.clear()
        return key

    async def headers(user: Any) -> list[tuple[bytes, bytes]]:
        key = await database_sync_to_async(sign_in)(user)
        return [(b"origin", ORIGIN), (b"cookie", f"{settings.SESSION_COOKIE_NAME}={key}".encode())]

    return headers


@pytest.fixture
async def close_thread_connections() -> Any:
    yield
    from asgiref.sync import sync_to_async
    from django.db import connections

    await sync_to_async(connections.close_all, thread_sensitive=True)()


@pytest.fixture
def room(meetings: Any) -> LiveMeeting:
    return make_live_meeting(meetings)


class Client:
    """One browser tab in the room."""

    def __init__(self, socket: WebsocketCommunicator, meeting_id: int) -> None:
        self.socket = socket
        self.meeting_id = meeting_id

    async def send(self, kind: str, **fields: Any) -> None:
        await self.socket.send_json_to({"type": kind, "meeting": self.meeting_id, **fields})

    async def next(self, kind: str) -> dict[str, Any]:
        while True:
            frame = await self.socket.receive_json_from(timeout=5)
            if frame["type"] == kind:
                return frame

    async def presence_of(self, user: Any, event: str) -> dict[str, Any]:
        """The next presence frame about `user` (one's own arrival may come first: skipped)."""
        while True:
            frame = await self.next("meeting.presence")
            if frame["user"] == user.pk and frame["event"] == event:
                return frame

    async def closed_vote(self) -> dict[str, Any]:
        """The next vote frame that says the vote is closed (tally frames before it skipped)."""
        while True:
            vote = (await self.next("meeting.vote"))["vote"]
            if vote["status"] == "closed":
                return vote

    async def join(self) -> dict[str, Any]:
        await self.send("meeting.join")
        frame = await self.socket.receive_json_from(timeout=5)
        while frame["type"] not in ("meeting.state", "error"):
            frame = await self.socket.receive_json_from(timeout=5)
        return frame

    async def quiet(self, timeout: float = 0.3) -> bool:
        return await self.socket.receive_nothing(timeout=timeout)

    async def close(self) -> None:
        await self.socket.disconnect()


@pytest.fixture
def open_client(socket_headers: Any) -> Callable[[Any, int], Awaitable[Client]]:
    async def open_(user: Any, meeting_id: int) -> Client:
        socket = WebsocketCommunicator(application, "/ws/", headers=await socket_headers(user))
        connected, _ = await socket.connect(timeout=5)
        assert connected
        return Client(socket, meeting_id)

    return open_


async def in_room(open_client: Any, user: Any, meeting_id: int) -> Client:
    client = await open_client(user, meeting_id)
    state = await client.join()
    assert state["type"] == "meeting.state", state
    return client


def db(fn: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    return database_sync_to_async(fn)


# --- presence --------------------------------------------------------------------------------------


async def test_presence_shows_who_joins_and_who_leaves(meetings, room, open_client):
    mid = room.meeting.pk
    host = await in_room(open_client, meetings.host, mid)
    participant = await open_client(meetings.participant, mid)

    state = await participant.join()
    assert {p["user"] for p in state["presence"]} == {meetings.host.pk, meetings.participant.pk}
    assert state["me"] == {"user": meetings.participant.pk, "name": "林小梅", "host": False, "voted": False}
    joined = await host.presence_of(meetings.participant, "joined")
    assert joined["name"] == "林小梅" and joined["count"] == 2

    await participant.close()
    left = await host.presence_of(meetings.participant, "left")
    assert left["count"] == 1
    assert await db(LivePresence.objects.filter(meeting_id=mid, user=meetings.participant).count)() == 0
    await host.close()


async def test_a_second_tab_of_the_same_person_is_not_a_second_arrival(meetings, room, open_client):
    mid = room.meeting.pk
    host = await in_room(open_client, meetings.host, mid)
    first = await in_room(open_client, meetings.participant, mid)
    assert (await host.presence_of(meetings.participant, "joined"))["count"] == 2
    second = await in_room(open_client, meetings.participant, mid)
    assert await host.quiet()  # no "joined" for the second tab

    await first.close()
    assert await host.quiet()  # still in the room through the other tab
    await second.close()
    assert (await host.presence_of(meetings.participant, "left"))["count"] == 1
    await host.close()


async def test_host_arrival_opens_the_meeting(meetings, room, open_client):
    host = await in_room(open_client, meetings.host, room.meeting.pk)
    meeting = await db(Meeting.objects.get)(pk=room.meeting.pk)
    assert meeting.status == MeetingStatus.LIVE and meeting.live_started_at is not None
    await host.close()


async def test_outsider_gets_the_not_found_frame(meetings, room, open_client):
    outsider = await open_client(meetings.outsider, room.meeting.pk)
    reply = await outsider.join()
    assert reply == {"type": "error", "message": NOT_FOUND_MESSAGE}
    missing = await open_client(meetings.participant, 999999)
    assert (await missing.join())["message"] == NOT_FOUND_MESSAGE
    await missing.send("meeting.chat", body="你好")
    assert (await missing.next("error"))["message"] == NOT_FOUND_MESSAGE
    assert await db(LivePresence.objects.count)() == 0
    await outsider.close()
    await missing.close()


# --- the host turns pages ------------------------------------------------------------------------


async def test_page_turn_reaches_both_participants(meetings, room, open_client):
    mid = room.meeting.pk
    host = await in_room(open_client, meetings.host, mid)
    one = await in_room(open_client, meetings.participant, mid)
    two = await in_room(open_client, meetings.colleague, mid)

    await host.send("meeting.turn", agenda_item=room.items[0].pk, material=room.material.pk)
    await host.send("meeting.turn", page=5)
    for client in (one, two):
        first = await client.next("meeting.turned")
        assert first["agenda_item"]["title"] == "一季度工作情况通报"
        assert first["material"]["id"] == room.material.pk and first["page"] == 1
        second = await client.next("meeting.turned")
        assert second["page"] == 5 and second["version"] > first["version"]
    for client in (host, one, two):
        await client.close()


async def test_participant_cannot_use_the_hosts_controls(meetings, room, open_client):
    mid = room.meeting.pk
    participant = await in_room(open_client, meetings.participant, mid)
    for kind, fields in [
        ("meeting.turn", {"page": 3}),
        ("meeting.mute_all", {"muted": True}),
        ("meeting.remove", {"user": meetings.colleague.pk}),
        ("meeting.end", {}),
        ("meeting.vote.open", {"title": "表决", "anonymous": False}),
    ]:
        await participant.send(kind, **fields)
        error = await participant.next("error")
        assert error["message"] == "只有主持人可以进行此操作。" and error["request"] == kind
    meeting = await db(Meeting.objects.get)(pk=mid)
    assert meeting.live_page == 1 and not meeting.muted_all and meeting.status == MeetingStatus.NOTICED
    assert await db(Vote.objects.count)() == 0
    await participant.close()


async def test_a_page_beyond_the_material_is_refused_and_nothing_moves(meetings, room, open_client):
    host = await in_room(open_client, meetings.host, room.meeting.pk)
    await host.send("meeting.turn", material=room.material.pk)
    await host.next("meeting.turned")
    await host.send("meeting.turn", page=13)
    assert (await host.next("error"))["message"] == "页码无效。"
    await host.send("meeting.turn", agenda_item=987654)
    assert (await host.next("error"))["message"] == "该议题不属于本次会议。"
    assert (await db(Meeting.objects.get)(pk=room.meeting.pk)).live_page == 1
    await host.close()


# --- hands --------------------------------------------------------------------------------------------


async def test_hand_raised_then_allowed_is_seen_by_everyone(meetings, room, open_client):
    mid = room.meeting.pk
    host = await in_room(open_client, meetings.host, mid)
    one = await in_room(open_client, meetings.participant, mid)
    two = await in_room(open_client, meetings.colleague, mid)

    await one.send("meeting.hand", raised=True)
    await one.send("meeting.hand", raised=True)  # a double click raises it once
    raised = await host.next("meeting.hands")
    assert [(h["user"], h["name"], h["state"]) for h in raised["hands"]] == [
        (meetings.participant.pk, "林小梅", "waiting")
    ]
    assert (await two.next("meeting.hands"))["hands"] == raised["hands"]
    assert (await one.next("meeting.hands"))["hands"] == raised["hands"]
    assert await one.quiet()  # the second raise changed nothing and sent nothing

    await host.send("meeting.hand.decide", hand=raised["hands"][0]["id"], allow=True)
    for client in (one, two):
        allowed = await client.next("meeting.hands")
        assert allowed["hands"][0]["state"] == "allowed"
    await two.send("meeting.hand.decide", hand=raised["hands"][0]["id"], allow=False)
    assert (await two.next("error"))["message"] == "只有主持人可以进行此操作。"
    for client in (host, one, two):
        await client.close()


# --- votes -----------------------------------------------------------------------------------------------


async def test_open_vote_is_tallied_live_and_its_result_stored(meetings, room, open_client):
    mid = room.meeting.pk
    host = await in_room(open_client, meetings.host, mid)
    one = await in_room(open_client, meetings.participant, mid)
    two = await in_room(open_client, meetings.colleague, mid)

    await host.send("meeting.vote.open", title="审议通过《政务服务事项清单》", anonymous=False)
    opened = (await one.next("meeting.vote"))["vote"]
    assert opened["status"] == "open" and opened["tally"] == {"for": 0, "against": 0, "abstain": 0}
    assert opened["electorate"] == 3
    vote_id = opened["id"]
    assert (await two.next("meeting.vote"))["vote"] == opened

    await one.send("meeting.vote.cast", vote=vote_id, choice="for")
    assert (await two.next("meeting.vote"))["vote"]["tally"] == {"for": 1, "against": 0, "abstain": 0}
    await two.send("meeting.vote.cast", vote=vote_id, choice="against")
    assert (await one.next("meeting.vote"))["vote"]["tally"] == {"for": 1, "against": 0, "abstain": 0}
    assert (await one.next("meeting.vote"))["vote"]["tally"] == {"for": 1, "against": 1, "abstain": 0}
    await one.send("meeting.vote.cast", vote=vote_id, choice="against")
    assert (await one.next("error"))["message"] == "您已投票。"

    await host.send("meeting.vote.close", vote=vote_id)
    closed = await two.closed_vote()
    assert closed["status"] == "closed" and closed["tally"] == {"for": 1, "against": 1, "abstain": 0}
    assert closed["result"] == "未通过" and closed["electorate"] == 3
    await two.send("meeting.vote.cast", vote=vote_id, choice="for")
    assert (await two.next("error"))["message"] == "表决已结束。"

    vote = await db(Vote.objects.get)(pk=vote_id)
    assert (vote.status, vote.count_for, vote.count_against, vote.electorate) == (VoteStatus.CLOSED, 1, 1, 3)
    choices = await db(
        lambda: dict(Ballot.objects.filter(vote_id=vote_id).values_list("voter_id", "choice"))
    )()
    assert choices == {meetings.participant.pk: "for", meetings.colleague.pk: "against"}
    audit = await db(
        lambda: AuditEvent.objects.get(action="meeting.vote.close", object_id=str(vote_id)).details
    )()
    assert audit["for"] == 1 and audit["against"] == 1 and audit["electorate"] == 3
    for client in (host, one, two):
        await client.close()


async def test_anonymous_vote_stores_no_choice_anywhere(meetings, room, open_client):
    mid = room.meeting.pk
    host = await in_room(open_client, meetings.host, mid)
    one = await in_room(open_client, meetings.participant, mid)
    two = await in_room(open_client, meetings.colleague, mid)

    await host.send("meeting.vote.open", title="推荐人选（不记名）", anonymous=True)
    vote_id = (await one.next("meeting.vote"))["vote"]["id"]
    await two.next("meeting.vote")
    await one.send("meeting.vote.cast", vote=vote_id, choice="against")
    live = (await two.next("meeting.vote"))["vote"]
    # While open, the split of a secret vote is not shown: only how many have voted.
    assert live["voted"] == 1 and live["tally"] == {"for": None, "against": None, "abstain": None}
    await two.send("meeting.vote.cast", vote=vote_id, choice="for")
    await host.send("meeting.vote.close", vote=vote_id)
    closed = await one.closed_vote()
    assert closed["tally"] == {"for": 1, "against": 1, "abstain": 0}

    def stored() -> tuple[list[Any], list[Any], list[Any]]:
        ballots = list(Ballot.objects.filter(vote_id=vote_id).values_list("voter_id", "choice"))
        audits = list(AuditEvent.objects.values_list("action", "actor_id", "details"))
        outbox = list(OutboxEvent.objects.values_list("topic", "payload"))
        return ballots, audits, outbox

    ballots, audits, outbox = await db(stored)()
    assert sorted(ballots) == sorted([(meetings.participant.pk, ""), (meetings.colleague.pk, "")])
    # No audit row of a cast; none names a voter with a choice; the close has only the totals.
    assert not [a for a in audits if a[0] == "meeting.vote.cast"]
    voters = {meetings.participant.pk, meetings.colleague.pk}
    for action, actor_id, details in audits:
        text = str(details)
        assert not (actor_id in voters and ("for" in text or "against" in text)), action
        assert str(meetings.participant.pk) not in str(details.get("voter", ""))
    for topic, payload in outbox:
        assert "voter" not in payload and "user" not in payload or topic.startswith("meeting.participant")
        assert "choice" not in payload
    for client in (host, one, two):
        await client.close()


async def test_a_second_open_vote_and_a_bad_choice_are_refused(meetings, room, open_client):
    mid = room.meeting.pk
    host = await in_room(open_client, meetings.host, mid)
    one = await in_room(open_client, meetings.participant, mid)
    await host.send("meeting.vote.open", title="第一项", anonymous=False)
    vote_id = (await host.next("meeting.vote"))["vote"]["id"]
    await host.send("meeting.vote.open", title="第二项", anonymous=False)
    assert (await host.next("error"))["message"] == "已有表决正在进行，请先结束当前表决。"
    await host.send("meeting.vote.open", title="  ", anonymous=False)
    assert (await host.next("error"))["message"].startswith("请填写表决事项")
    await one.send("meeting.vote.cast", vote=vote_id, choice="maybe")
    assert (await one.next("error"))["message"] == "请选择赞成、反对或弃权。"
    assert await db(Ballot.objects.count)() == 0
    for client in (host, one):
        await client.close()


# --- chat ---------------------------------------------------------------------------------------------------


async def test_chat_reaches_everyone_and_bad_messages_are_refused(meetings, room, open_client):
    mid = room.meeting.pk
    host = await in_room(open_client, meetings.host, mid)
    one = await in_room(open_client, meetings.participant, mid)
    await one.send("meeting.chat", body="<b>请大家看第三页</b>", client_id="c-1")
    frame = await host.next("meeting.chat")
    assert frame["message"]["body"] == "<b>请大家看第三页</b>" and frame["message"]["name"] == "林小梅"
    assert frame["client_id"] == "c-1"
    await one.send("meeting.chat", body="   ")
    assert (await one.next("error"))["message"] == "消息不能为空。"
    await one.send("meeting.chat", body="长" * 501)
    assert (await one.next("error"))["message"] == "消息过长：最多 500 个字。"
    assert await host.quiet()
    for client in (host, one):
        await client.close()


# --- removal, end, reconnect --------------------------------------------------------------------------------


async def test_removed_participant_is_told_hears_nothing_more_and_cannot_rejoin(meetings, room, open_client):
    mid = room.meeting.pk
    host = await in_room(open_client, meetings.host, mid)
    staying = await in_room(open_client, meetings.participant, mid)
    removed = await in_room(open_client, meetings.colleague, mid)

    await host.send("meeting.remove", user=meetings.colleague.pk)
    assert (await removed.next("meeting.removed"))["meeting"] == mid
    assert (await staying.presence_of(meetings.colleague, "left"))["count"] == 2
    await host.send("meeting.chat", body="继续开会")
    assert (await staying.next("meeting.chat"))["message"]["body"] == "继续开会"
    while not await removed.quiet(0.5):
        assert (await removed.socket.receive_json_from())["type"] != "meeting.chat"

    again = await removed.join()
    assert again["type"] == "error" and again["message"] == "您已被主持人移出会议室，不能再次进入。"
    await removed.send("meeting.chat", body="我还在吗")
    assert (await removed.next("error"))["message"] == "您已被主持人移出会议室，不能再次进入。"
    rsvp = await db(Rsvp.objects.get)(meeting_id=mid, user=meetings.colleague)
    assert rsvp.removed_at is not None
    for client in (host, staying, removed):
        await client.close()


async def test_reconnect_gets_the_current_state_at_once(meetings, room, open_client):
    mid = room.meeting.pk
    host = await in_room(open_client, meetings.host, mid)
    one = await in_room(open_client, meetings.participant, mid)
    await host.send("meeting.turn", agenda_item=room.items[1].pk, material=room.material.pk)
    await host.send("meeting.turn", page=7)
    await one.send("meeting.hand", raised=True)
    await host.send("meeting.vote.open", title="审议清单", anonymous=False)
    vote_id = (await one.next("meeting.vote"))["vote"]["id"]
    await one.send("meeting.vote.cast", vote=vote_id, choice="abstain")
    await one.send("meeting.chat", body="收到")
    await one.next("meeting.chat")
    await one.close()  # the network drops

    back = await open_client(meetings.participant, mid)
    state = await back.join()
    assert state["agenda_item"]["title"] == "审议《政务服务事项清单》"
    assert state["material"]["id"] == room.material.pk and state["page"] == 7
    assert [(h["user"], h["state"]) for h in state["hands"]] == [(meetings.participant.pk, "waiting")]
    assert state["vote"]["id"] == vote_id and state["vote"]["status"] == "open"
    assert state["vote"]["tally"]["abstain"] == 1 and state["me"]["voted"] is True
    assert [m["body"] for m in state["chat"]] == ["收到"]
    for client in (host, back):
        await client.close()


async def test_ending_closes_the_open_vote_and_nobody_can_enter_again(meetings, room, open_client):
    mid = room.meeting.pk
    host = await in_room(open_client, meetings.host, mid)
    one = await in_room(open_client, meetings.participant, mid)
    await host.send("meeting.vote.open", title="最后一项", anonymous=False)
    vote_id = (await one.next("meeting.vote"))["vote"]["id"]
    await host.send("meeting.end")
    assert (await one.closed_vote())["status"] == "closed"
    assert (await one.next("meeting.ended"))["meeting"] == mid
    await one.send("meeting.hand", raised=True)
    assert (await one.next("error"))["message"] == "会议已结束。"
    assert (await one.join())["message"] == "会议已结束。"
    meeting = await db(Meeting.objects.get)(pk=mid)
    assert meeting.status == MeetingStatus.ENDED and meeting.ended_at is not None
    assert (await db(Vote.objects.get)(pk=vote_id)).status == VoteStatus.CLOSED
    for client in (host, one):
        await client.close()


# --- check-in and the presence heartbeat -----------------------------------------------------------------


async def test_entering_the_room_checks_the_participant_in_once(meetings, open_client):
    # The door (and so the live check-in) opens an hour before the start: this meeting has begun.
    room = await db(make_live_meeting)(meetings, starts_at=timezone.now() - timedelta(minutes=5))
    first = await in_room(open_client, meetings.participant, room.meeting.pk)
    second = await in_room(open_client, meetings.participant, room.meeting.pk)

    rsvp = await db(Rsvp.objects.get)(meeting_id=room.meeting.pk, user=meetings.participant)
    assert rsvp.checked_in_at is not None and rsvp.checkin_method == CheckinMethod.LIVE
    host = await in_room(open_client, meetings.host, room.meeting.pk)  # no Rsvp: enters all the same
    assert await db(Rsvp.objects.filter(meeting_id=room.meeting.pk, checked_in_at__isnull=False).count)() == 1
    for client in (first, second, host):
        await client.close()


async def test_the_process_heartbeat_keeps_its_sockets_rows_fresh(meetings, room, open_client):
    participant = await in_room(open_client, meetings.participant, room.meeting.pk)
    old = timezone.now() - live_services.PRESENCE_STALE_AFTER - timedelta(seconds=5)
    await db(LivePresence.objects.update)(seen_at=old)
    assert await db(live_services.present_count)(room.meeting.pk) == 0  # as a dead process's row would be

    await live._heartbeat().beat()

    assert await db(live_services.present_count)(room.meeting.pk) == 1
    assert await db(LivePresence.objects.count)() == 1  # touched, not swept
    await participant.close()


async def test_joining_twice_on_one_socket_announces_the_person_once(meetings, room, open_client):
    host = await in_room(open_client, meetings.host, room.meeting.pk)
    participant = await in_room(open_client, meetings.participant, room.meeting.pk)
    await host.presence_of(meetings.participant, "joined")
    again = await participant.join()
    assert again["type"] == "meeting.state" and len(again["presence"]) == 2
    assert await host.quiet()
    assert await db(LivePresence.objects.filter(user=meetings.participant).count)() == 1
    for client in (host, participant):
        await client.close()


async def test_after_the_fan_out_subscribes_again_each_socket_gets_the_whole_state_at_once(
    meetings, room, open_client
):
    from officeapp.notify import fanout

    mid = room.meeting.pk
    host = await in_room(open_client, meetings.host, mid)
    one = await in_room(open_client, meetings.participant, mid)
    await host.send("meeting.turn", agenda_item=room.items[1].pk, material=room.material.pk)
    await host.send("meeting.turn", page=5)
    await one.next("meeting.turned")
    await one.next("meeting.turned")

    await fanout.process_fanout().rejoin()  # what the watchdog does after a Redis restart

    state = await one.next("meeting.state")
    assert state["page"] == 5 and state["material"]["id"] == room.material.pk
    assert state["me"]["user"] == meetings.participant.pk
    await host.send("meeting.turn", page=6)
    assert (await one.next("meeting.turned"))["page"] == 6  # and live again after it
    for client in (host, one):
        await client.close()
