"""A notification reaches an open page within 2 seconds, without a reload, and only its recipient's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

LIVE_WITHIN_MS = 2_000
TITLE = "防汛工作紧急通知"


# socket.js turns each frame into a window event "officeapp:<type>"; the server's "hello" answer
# means the socket is open and has joined the user's group.
HELLO_LISTENER = "window.addEventListener('officeapp:hello', () => { window.__socketHello = true; });"


def _open_workbench_with_socket(page: Any) -> None:
    """Open the workbench and wait for the socket's hello, so the test times delivery, not start-up."""
    page.context.add_init_script(HELLO_LISTENER)
    page.goto("/")
    page.wait_for_function("() => window.__socketHello === true", timeout=10_000)


def _bell(page: Any) -> Any:
    return page.locator("[data-bell-count]").first


def test_notification_appears_live_in_the_recipients_open_workbench(
    signed_in_page: Callable[..., Any], server: Any, cast: Any, committed: Callable[..., Any]
) -> None:
    from officeapp.notify.services import notify

    recipient = signed_in_page(cast.drafter)
    bystander = signed_in_page(cast.dept_head)
    for page in (recipient, bystander):
        _open_workbench_with_socket(page)
    bystander_bell = _bell(bystander).inner_text().strip()
    recipient.evaluate("() => { window.__sameDocument = true; }")  # a reload would forget this

    committed(notify, [cast.drafter], kind="test", title=TITLE, url="/")

    expect(_bell(recipient)).to_have_text("1", timeout=LIVE_WITHIN_MS)
    expect(recipient.locator("body")).to_contain_text(TITLE, timeout=LIVE_WITHIN_MS)
    assert recipient.evaluate("() => window.__sameDocument === true"), "the page was reloaded"
    # The colleague's page hears nothing of it.
    bystander.wait_for_timeout(500)
    assert _bell(bystander).inner_text().strip() == bystander_bell
    expect(bystander.locator("body")).not_to_contain_text(TITLE)


def test_a_notification_sent_while_the_page_was_closed_shows_on_the_next_visit(
    signed_in_page: Callable[..., Any], server: Any, cast: Any, committed: Callable[..., Any]
) -> None:
    from officeapp.notify.services import notify

    signed_in = signed_in_page(cast.leader)
    context = signed_in.context
    signed_in.close()  # no page open, so no socket to push to

    committed(notify, [cast.leader], kind="test", title=TITLE, url="/")
    page = context.new_page()
    page.goto("/")

    expect(_bell(page)).to_have_text("1")


def test_notification_committed_by_another_process_reaches_the_open_page(
    signed_in_page: Callable[..., Any], server: Any, cast: Any, other_process: Callable[[str], str]
) -> None:
    # The worker is another process: with no REDIS_URL only the server's relay can carry this.
    page = signed_in_page(cast.drafter)
    _open_workbench_with_socket(page)

    other_process(
        "from officeapp.org.models import User\n"
        "from officeapp.notify.services import notify\n"
        f"notify([User.objects.get(username='drafter')], kind='test', title='{TITLE}', url='/')\n"
    )

    expect(_bell(page)).to_have_text("1", timeout=LIVE_WITHIN_MS)
    expect(page.locator("body")).to_contain_text(TITLE, timeout=LIVE_WITHIN_MS)
