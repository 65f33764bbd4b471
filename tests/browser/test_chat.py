"""Two signed-in people chatting in two browsers: a message arrives live, reading shows 已读 to the
sender live, a recall shows 消息已撤回 to the other live; in a group the sender sees "N人未读" count
down as members read; and a message that looks like HTML is shown as text, never as an element."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.chat.chat_cast import build_chat_cast

pytestmark = pytest.mark.browser

LIVE_WITHIN_MS = 5_000
XSS = "<img src=x onerror=alert(1)>"

# socket.js dispatches every frame as "officeapp:<type>"; the chat page subscribes on open and the
# server answers with a chat.catchup for the conversation: from then on it is live.
CATCHUP_LISTENER = (
    "window.addEventListener('officeapp:chat.catchup', (e) => {"
    " window.__chatLive = (window.__chatLive || 0) + 1; });"
)


def open_live(page: Any, conversation_id: int) -> None:
    page.context.add_init_script(CATCHUP_LISTENER)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"/chat/c/{conversation_id}/")
    page.wait_for_function("() => (window.__chatLive || 0) > 0", timeout=10_000)


def send(page: Any, text: str) -> None:
    page.fill("[data-chat-input]", text)
    page.press("[data-chat-input]", "Enter")


def own_message(page: Any, text: str) -> Any:
    return page.locator(".chat-message.is-own:not(.is-pending)", has_text=text)


def test_two_people_chat_read_and_recall_live(
    signed_in_page: Callable[..., Any], server: Any, cast: Any, committed: Callable[..., Any]
) -> None:
    from chat import services

    direct = committed(services.open_direct, cast.other_clerk, actor=cast.drafter)
    sender = signed_in_page(cast.drafter)
    reader_context_page = signed_in_page(cast.other_clerk)
    open_live(sender, direct.pk)
    sender.evaluate("() => { window.__sameDocument = true; }")  # a reload would forget this

    # when: the sender writes while the reader is elsewhere
    reader_context_page.goto("/chat/")
    send(sender, "明天上午九点开会")

    # then: the reader's list shows it live, and once the reader opens the chat the sender sees 已读
    expect(reader_context_page.locator(f'[data-conversation="{direct.pk}"] [data-last]')).to_have_text(
        "明天上午九点开会", timeout=LIVE_WITHIN_MS
    )
    expect(reader_context_page.locator(f'[data-conversation="{direct.pk}"] [data-unread]')).to_have_text("1")
    expect(own_message(sender, "明天上午九点开会").locator(".chat-read")).to_have_text("未读")
    open_live(reader_context_page, direct.pk)
    expect(reader_context_page.locator(".chat-message", has_text="明天上午九点开会")).to_be_visible()
    expect(own_message(sender, "明天上午九点开会").locator(".chat-read")).to_have_text(
        "已读", timeout=LIVE_WITHIN_MS
    )

    # when: the sender writes again with both pages open, then recalls it
    send(sender, "会议室改到302")
    expect(reader_context_page.locator(".chat-message", has_text="会议室改到302")).to_be_visible(
        timeout=LIVE_WITHIN_MS
    )
    own_message(sender, "会议室改到302").get_by_role("button", name="撤回").click()

    # then: the reader sees the marker live, and the text is gone from their page
    expect(reader_context_page.locator(".chat-message.is-recalled .chat-text")).to_have_text(
        "消息已撤回", timeout=LIVE_WITHIN_MS
    )
    expect(reader_context_page.locator("[data-chat-list]")).not_to_contain_text("会议室改到302")
    assert sender.evaluate("() => window.__sameDocument === true"), "the page was reloaded"


def test_group_unread_counts_down_live_and_html_is_shown_as_text(
    signed_in_page: Callable[..., Any], server: Any, cast: Any, committed: Callable[..., Any]
) -> None:
    from chat import services

    chat = build_chat_cast(cast)
    group = committed(
        services.create_group,
        actor=chat.owner,
        name="三厅联合工作组",
        members=[chat.admin, chat.finance_member, chat.education_member],
    )
    owner = signed_in_page(chat.owner)
    member = signed_in_page(chat.finance_member)
    open_live(owner, group.pk)

    send(owner, XSS)

    mine = own_message(owner, XSS)
    expect(mine.locator(".chat-read")).to_have_text("3人未读", timeout=LIVE_WITHIN_MS)
    open_live(member, group.pk)
    shown = member.locator(".chat-message", has_text=XSS)
    expect(shown.locator(".chat-text")).to_have_text(XSS)
    assert member.locator("img[src=x]").count() == 0
    assert owner.locator("img[src=x]").count() == 0
    expect(mine.locator(".chat-read")).to_have_text("2人未读", timeout=LIVE_WITHIN_MS)
    # The count opens the list of who has and has not read it.
    mine.locator(".chat-read").click()
    expect(owner.locator("[data-receipts-read]")).to_contain_text("李国华")
    expect(owner.locator("[data-receipts-unread]")).to_contain_text("孙敏")


def test_a_send_whose_answer_was_lost_is_retried_and_shown_once(
    signed_in_page: Callable[..., Any], server: Any, cast: Any, committed: Callable[..., Any]
) -> None:
    from chat import services
    from chat.models import Message

    direct = committed(services.open_direct, cast.other_clerk, actor=cast.drafter)
    page = signed_in_page(cast.drafter)
    open_live(page, direct.pk)
    lost: list[str] = []

    def lose_first_answer(route: Any) -> None:
        # The request reaches the server (the message is stored), but its answer never arrives.
        if route.request.method == "POST" and not lost:
            route.fetch()
            lost.append(route.request.post_data or "")
            route.abort("connectionreset")
            return
        route.continue_()

    page.route(f"**/chat/c/{direct.pk}/messages/", lose_first_answer)

    send(page, "网络不好时发的消息")

    expect(own_message(page, "网络不好时发的消息")).to_have_count(1, timeout=LIVE_WITHIN_MS)
    expect(page.locator(".chat-message.is-pending")).to_have_count(0, timeout=LIVE_WITHIN_MS)
    page.wait_for_timeout(1500)  # a second copy, if any, would have arrived by now (retry, live push)
    expect(page.locator(".chat-message", has_text="网络不好时发的消息")).to_have_count(1)
    assert lost, "the first answer was not lost: the test proved nothing"
    assert Message.objects.filter(conversation_id=direct.pk, body="网络不好时发的消息").count() == 1


def test_the_chat_pages_fit_a_phone(
    new_context: Callable[..., Any], server: Any, cast: Any, committed: Callable[..., Any], cast_password: str
) -> None:
    from chat import services

    direct = committed(services.open_direct, cast.other_clerk, actor=cast.drafter)
    committed(services.send_text, direct, actor=cast.other_clerk, body="很长的一段话" * 30)
    page = new_context(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True).new_page()
    page.goto("/accounts/sign-in/")
    page.fill("input[name=username]", cast.drafter.username)
    page.fill("input[name=password]", cast_password)
    with page.expect_navigation():
        page.locator("form:has(input[name=password]) [type=submit]").click()

    for path in ("/chat/", f"/chat/c/{direct.pk}/", f"/chat/c/{direct.pk}/settings/", "/chat/groups/new/"):
        page.goto(path)
        width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"{path} scrolls sideways: {width}"
    page.goto(f"/chat/c/{direct.pk}/")
    expect(page.locator("[data-chat-input]")).to_be_visible()
    expect(page.locator("[data-chat-send]")).to_be_in_viewport()
