"""办会 in real browsers: the organiser books a free room, invites two people through the 通讯录 picker
and sends the notice; the participant, on a phone, is refused 请假 without a reason (her choice kept)
and then replies 参加, which the organiser's open page counts live; in the live room the host sees a
raised hand and allows it, opens a named vote, and both see the participant's 赞成 and the result
live; text typed into the room's chat that looks like HTML is shown as text.

"Live" is proved by the page never reloading (a flag set on the document would be lost) and by
waiting for the frames themselves: the statistics panel shows "· 实时" once its first
meeting.stats frame arrived, and the room says "已进入会议室" once meeting.state came.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.meetings.meetings_cast import MeetingsCast, build_meetings_cast

pytestmark = pytest.mark.browser

LIVE_WITHIN_MS = 5_000
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
TITLE = "全省防汛工作调度会"
XSS = "<img src=x onerror=alert(1)>"
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _same_document(page: Any) -> None:
    """Mark the document: a reload or a navigation forgets the mark."""
    page.evaluate("() => { window.__sameDocument = true; }")


def _assert_not_reloaded(page: Any) -> None:
    assert page.evaluate("() => window.__sameDocument === true"), "the page was reloaded"


def _local(value: Any) -> str:
    return timezone.localtime(value).strftime(DATETIME_LOCAL)


def _pick(page: Any, name: str) -> None:
    """Find a person in the 通讯录 picker and tick them: they move to the chosen list."""
    page.fill("[data-people-picker-q]", name)
    found = page.locator("[data-people-found] li", has_text=name)
    # Ticking moves the line to the chosen list (a new checkbox), so click rather than check().
    found.locator("input[name=members]").click()
    chosen = page.locator("[data-people-chosen] li", has_text=name)
    expect(chosen.locator("input[name=members]")).to_be_checked()
    expect(page.locator("[data-people-found]")).not_to_contain_text(name)


def _meeting_in_room(committed: Callable[..., Any], meetings: MeetingsCast) -> Any:
    """A noticed meeting tomorrow in 第一会议室: organiser 黄丽华 (who may host the room), the
    participant 林小梅 invited by name."""
    from meetings import services

    meeting = committed(
        services.create_meeting,
        actor=meetings.organiser,
        title=TITLE,
        kind="office",
        starts_at=meetings.at(9),
        ends_at=meetings.at(10, 30),
        host=meetings.host,
        room=meetings.big_room,
    )
    committed(services.set_invitees, meeting, actor=meetings.organiser, people=[meetings.participant])
    committed(services.send_notice, meeting, actor=meetings.organiser)
    return meeting


def _enter_room(page: Any, meeting_id: int) -> None:
    """Open the meeting page, press 进入会议室 and wait for the room's state to arrive."""
    page.goto(f"/meetings/m/{meeting_id}/")
    page.get_by_role("button", name="进入会议室").click()
    expect(page.locator("[data-room-status]")).to_have_text("已进入会议室", timeout=10_000)


def test_organiser_books_and_notifies_and_sees_a_phone_reply_counted_live(
    signed_in_page: Callable[..., Any], server: Any, cast: Any, committed: Callable[..., Any]
) -> None:
    from meetings import booking
    from meetings.models import Booking, Meeting

    meetings = committed(build_meetings_cast, cast)
    # 常务会议室 is taken at that time, so the form has a free room and a taken one to show.
    committed(
        booking.book,
        actor=meetings.meeting_admin,
        room=meetings.vip_room,
        starts_at=meetings.at(9),
        ends_at=meetings.at(11),
        purpose="党组会",
    )
    organiser = signed_in_page(meetings.organiser)

    # The organiser goes 会议 → 新建会议 and fills the form.
    organiser.get_by_role("navigation", name="主导航").get_by_role("link", name="会议", exact=True).click()
    organiser.get_by_role("button", name="新建会议").click()
    expect(organiser.get_by_role("heading", name="新建会议")).to_be_visible()
    organiser.get_by_label("会议名称").fill(TITLE)
    organiser.get_by_label("会议类型").select_option(label="办公会")
    organiser.get_by_label("开始时间").fill(_local(meetings.at(9)))
    organiser.get_by_label("结束时间").fill(_local(meetings.at(10, 30)))
    organiser.get_by_label("主持人").select_option(str(meetings.host.pk))
    organiser.get_by_role("button", name="查看该时段空闲会议室").click()

    # The room list marks which rooms are free for the times typed; what was typed is kept.
    rooms = organiser.get_by_label("会议室", exact=True)
    expect(rooms.locator(f'option[value="{meetings.big_room.pk}"]')).to_contain_text("该时段空闲")
    expect(rooms.locator(f'option[value="{meetings.vip_room.pk}"]')).to_contain_text("该时段已占用")
    expect(organiser.get_by_label("会议名称")).to_have_value(TITLE)
    rooms.select_option(str(meetings.big_room.pk))
    organiser.get_by_role("button", name="下一步：选择参会对象").click()

    # Invitees through the 通讯录 picker: the participant and her 处长.
    expect(organiser.get_by_role("heading", name="参会对象")).to_be_visible()
    _pick(organiser, meetings.participant.real_name)
    _pick(organiser, meetings.colleague.real_name)
    organiser.get_by_role("button", name="保存参会对象").click()

    # The meeting page: invitees saved, the room booked and confirmed.
    expect(organiser.locator(".flash")).to_contain_text("参会对象已保存。")
    invited = organiser.locator(".mt-invitees")
    expect(invited).to_contain_text(meetings.participant.real_name)
    expect(invited).to_contain_text(meetings.colleague.real_name)
    booked = organiser.locator(".mt-detail-booking")
    expect(booked).to_contain_text(meetings.big_room.name)
    expect(booked).to_contain_text("预订已确认")
    meeting = Meeting.objects.get(title=TITLE)
    assert Booking.objects.get(meeting=meeting).room_id == meetings.big_room.pk

    organiser.get_by_role("button", name="发出会议通知").click()
    expect(organiser.locator(".flash")).to_contain_text("会议通知已发出，已通知 2 人。")
    stats = organiser.locator("[data-meeting-stats]")
    # "· 实时" appears with the first meeting.stats frame: from then on the panel is live.
    expect(stats.locator("[data-stats-live]")).to_be_visible(timeout=10_000)
    expect(stats.locator('[data-stat="invited"]')).to_have_text("2")
    expect(stats.locator('[data-stat="attend"]')).to_have_text("0")
    expect(stats.locator('[data-stat="silent"]')).to_have_text("2")
    silent = stats.locator("[data-silent]")
    expect(silent).to_contain_text(meetings.participant.real_name)
    expect(silent).to_contain_text(meetings.colleague.real_name)
    _same_document(organiser)

    # The participant, on her phone, finds the notice behind the bell.
    phone = signed_in_page(meetings.participant, **PHONE)
    expect(phone.locator("[data-bell-count]").first).to_have_text("1")
    phone.locator("[data-bell]").first.click()
    phone.get_by_role("link", name=f"会议通知：{TITLE}").click()
    expect(phone.get_by_role("heading", name=TITLE)).to_be_visible()
    rsvp = phone.locator("#rsvp")
    expect(rsvp).to_contain_text("请回执。")

    # 请假 without a reason: refused in Chinese, her choice kept, the reason box still open.
    rsvp.get_by_label("请假", exact=True).check()
    expect(rsvp.get_by_label("请假事由（请假时必填，200 字以内）")).to_be_visible()
    rsvp.get_by_role("button", name="提交回执").click()
    expect(phone.locator("#rsvp [role=alert]")).to_contain_text("请假须填写事由。")
    expect(phone.locator("#rsvp").get_by_label("请假", exact=True)).to_be_checked()
    expect(phone.locator("#rsvp").get_by_label("请假事由（请假时必填，200 字以内）")).to_be_visible()
    # Nothing was counted meanwhile.
    expect(stats.locator('[data-stat="leave"]')).to_have_text("0")

    phone.locator("#rsvp").get_by_label("参加", exact=True).check()
    phone.locator("#rsvp").get_by_role("button", name="提交回执").click()
    expect(phone.locator(".flash")).to_contain_text("回执已提交。")
    expect(phone.locator("#rsvp")).to_contain_text("当前回执：参加")
    width = phone.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the meeting page scrolls sideways on a phone: {width}"

    # The organiser's open page counts it live; she left the list of non-repliers.
    expect(stats.locator('[data-stat="attend"]')).to_have_text("1", timeout=LIVE_WITHIN_MS)
    expect(stats.locator('[data-stat="silent"]')).to_have_text("1", timeout=LIVE_WITHIN_MS)
    expect(silent).not_to_contain_text(meetings.participant.real_name, timeout=LIVE_WITHIN_MS)
    expect(silent).to_contain_text(meetings.colleague.real_name)
    _assert_not_reloaded(organiser)


def test_two_browsers_in_the_live_room_see_a_hand_allowed_and_a_vote_tallied_live(
    signed_in_page: Callable[..., Any], server: Any, cast: Any, committed: Callable[..., Any]
) -> None:
    meetings = committed(build_meetings_cast, cast)
    meeting = _meeting_in_room(committed, meetings)
    host = signed_in_page(meetings.organiser)
    participant = signed_in_page(meetings.participant, **PHONE)
    _enter_room(host, meeting.pk)
    _enter_room(participant, meeting.pk)
    expect(host.locator("[data-room-presence]")).to_contain_text(
        meetings.participant.real_name, timeout=LIVE_WITHIN_MS
    )
    for page in (host, participant):
        _same_document(page)

    # A raised hand reaches the host's queue; allowing it reaches the participant.
    participant.locator("[data-room-hand]").click()
    waiting = host.locator("[data-room-hands] li", has_text=f"{meetings.participant.real_name}（举手中）")
    expect(waiting).to_be_visible(timeout=LIVE_WITHIN_MS)
    expect(participant.locator("[data-room-hand]")).to_have_text("放下手")
    waiting.get_by_role("button", name="准许", exact=True).click()
    for page in (participant, host):
        expect(page.locator("[data-room-hands]")).to_contain_text(
            f"{meetings.participant.real_name}（发言中）", timeout=LIVE_WITHIN_MS
        )

    # A named vote: opened by the host, cast by the participant, tallied on both pages.
    host.locator("[data-room-vote-title]").fill("关于调整防汛物资储备的议题")
    host.get_by_role("button", name="发起表决").click()
    participant_vote = participant.locator("[data-room-vote]")
    expect(participant_vote).to_contain_text("关于调整防汛物资储备的议题（记名）", timeout=LIVE_WITHIN_MS)
    expect(participant_vote).to_contain_text("表决中")
    participant.locator("[data-choice=for]").click()
    for page in (host, participant):
        tally = page.locator("[data-room-vote] .room-tally")
        expect(tally).to_contain_text("赞成 1", timeout=LIVE_WITHIN_MS)
        expect(tally).to_contain_text("反对 0")
        expect(page.locator("[data-room-vote]")).to_contain_text("已表决 1 人")
    expect(participant_vote).to_contain_text("您已投票")
    expect(participant.locator("[data-room-ballot]")).to_be_hidden()

    # Closing it shows the result to both.
    host.get_by_role("button", name="结束表决").click()
    for page in (host, participant):
        expect(page.locator("[data-room-vote]")).to_contain_text("已结束：通过", timeout=LIVE_WITHIN_MS)
    for page in (host, participant):
        _assert_not_reloaded(page)
        assert not page.locator("[data-room-error]").is_visible(), page.locator(
            "[data-room-error]"
        ).inner_text()


def test_html_typed_into_the_room_chat_is_shown_as_text(
    signed_in_page: Callable[..., Any], server: Any, cast: Any, committed: Callable[..., Any]
) -> None:
    meetings = committed(build_meetings_cast, cast)
    meeting = _meeting_in_room(committed, meetings)
    host = signed_in_page(meetings.organiser)
    participant = signed_in_page(meetings.participant)
    dialogs: list[str] = []
    for page in (host, participant):
        # An alert() would mean the typed HTML ran as markup.
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        _enter_room(page, meeting.pk)

    participant.locator("[data-room-chat-input]").fill(XSS)
    participant.locator("[data-room-chat-input]").press("Enter")

    for page in (host, participant):
        body = page.locator("[data-room-messages] .room-message-body")
        expect(body).to_have_text(XSS, timeout=LIVE_WITHIN_MS)
        assert page.locator("[data-room] img").count() == 0
    expect(host.locator("[data-room-messages] .room-message-meta")).to_contain_text(
        meetings.participant.real_name
    )
    assert dialogs == []
