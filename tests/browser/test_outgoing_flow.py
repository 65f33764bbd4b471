"""The whole 发文 flow in the browser: a drafter, her head, two countersigning heads, the office,
the leader, the seal keeper and the archivist, each in a browser of their own — and the next
person's inbox shows the task live, without a reload."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

TITLE = "关于做好2026年秋冬季森林防火工作的通知"
HELLO_LISTENER = "window.addEventListener('officeapp:hello', () => { window.__socketHello = true; });"


def open_inbox(page: Any) -> None:
    page.context.add_init_script(HELLO_LISTENER)
    page.goto("/workflows/inbox/")
    page.wait_for_function("() => window.__socketHello === true", timeout=10_000)


def act_from_inbox(page: Any, *, decision: str = "agree", fill: Callable[[Any], None] | None = None) -> None:
    """Open the task from the inbox, sign an opinion and submit."""
    page.goto("/workflows/inbox/")
    page.get_by_role("link", name=TITLE).first.click()
    if page.get_by_role("button", name="签收办理").count():
        page.get_by_role("button", name="签收办理").click()
    if fill is not None:
        fill(page)
    page.locator(f"#step-form input[name=decision][value={decision}]").check()
    page.locator("#step-form textarea[name=opinion]").fill("同意。")
    with page.expect_navigation():
        page.locator("#step-form button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("已办理")


def test_a_notice_goes_from_draft_to_archive_in_the_browser(
    signed_in_page: Callable[..., Any], server: Any, cast: Any
) -> None:
    from documents.models import DocumentState, OfficialDocument
    from documents.sealing import create_seal
    from tests.workflows.conftest import build_flow_cast

    people = build_flow_cast(cast)
    create_seal(cast.gov_office, actor=None)

    head = signed_in_page(cast.dept_head)
    open_inbox(head)
    head.evaluate("() => { window.__sameDocument = true; }")

    # 拟稿: the drafter writes the notice and sends it on with two departments to countersign.
    drafter = signed_in_page(cast.drafter)
    drafter.goto("/workflows/outgoing/new/")
    drafter.fill("input[name=title]", TITLE)
    drafter.select_option("select[name=main_recipients]", [str(cast.finance.pk)])
    drafter.fill("textarea[name=body]", "现就有关事项通知如下。\n一、压实防火责任\n各地要落实属地责任。")
    with drafter.expect_navigation():
        drafter.get_by_role("button", name="保存并开始办理").click()
    drafter.select_option(
        "#step-form select[name=countersign_departments]",
        [str(cast.supervision_dept.pk), str(cast.secretariat.pk)],
    )
    drafter.locator("#step-form input[name=decision][value=agree]").check()
    with drafter.expect_navigation():
        drafter.locator("#step-form button[type=submit]").click()

    # The head's inbox shows the new task without a reload.
    expect(head.get_by_role("link", name=TITLE)).to_be_visible(timeout=5_000)
    assert head.evaluate("() => window.__sameDocument === true"), "the inbox was reloaded"
    act_from_inbox(head)

    for countersigner in (people.supervision_head, people.secretariat_head):
        act_from_inbox(signed_in_page(countersigner))

    office = signed_in_page(cast.office_secretary)
    act_from_inbox(office)  # 办公室审核
    act_from_inbox(signed_in_page(cast.leader))  # 签发
    act_from_inbox(office)  # 复核
    act_from_inbox(office)  # 编号

    def typeset(page: Any) -> None:
        with page.expect_navigation():
            page.get_by_role("button", name="生成排版稿（GB/T 9704）").click()
        expect(page.locator(".flash")).to_contain_text("排版稿已生成")

    act_from_inbox(office, fill=typeset)  # 排版校对
    act_from_inbox(signed_in_page(people.seal_keeper))  # 用印
    act_from_inbox(office)  # 分发

    def retention(page: Any) -> None:
        page.select_option("#step-form select[name=retention]", "permanent")

    archivist = signed_in_page(people.archivist)
    act_from_inbox(archivist, fill=retention)  # 归档

    document = OfficialDocument.objects.get(title=TITLE)
    assert document.state == DocumentState.ARCHIVED
    assert document.doc_number == "粤府办〔2026〕1号"
    archivist.goto(f"/documents/{document.pk}/verify/")
    expect(archivist.locator("body")).to_contain_text("有效")
    expect(archivist.locator("body")).to_contain_text("广东省人民政府办公厅")
