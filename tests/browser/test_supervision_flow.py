"""督查督办 in the browser, from 立项 to 销号: the 督查员 registers an item from 王德明's 批示 and gets its
督办编号, 交办s it with the 督办通知单; 综合处's head signs for it on a phone and hands the 承办 to her
staff member; he asks for more time, the 督查员 screens the request and the leader approves it (both
dates stay on the item); his 办结报告, signed off by the head, is sent back (退办重办) with a reason,
the second one is accepted, the leader reads it and the 督查员 closes (销号) the item — which the
head's 督办看板 then counts. Steps the issue leaves to the office (拟办, 审定, 阅, 转办) run through
the services; the pages for them are tested in tests/workflows/test_supervision_pages.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

TITLE = "推进全省政务服务“一网通办”改革"
INSTRUCTION = "请综合处牵头，秘书处配合，年底前完成。"


def submit(page: Any, form: str) -> None:
    with page.expect_navigation():
        page.locator(f"{form} button[type=submit]").click()


def open_step(page: Any, item_pk: int, step_label: str) -> None:
    """From the item page, the 当前环节 link of the step."""
    page.goto(f"/workflows/supervision/items/{item_pk}/")
    with page.expect_navigation():
        page.locator(".open-tasks").get_by_role("link", name=step_label).click()
    expect(page.locator("#step-form, #report-form").first).to_be_visible()


def report(page: Any, item_pk: int, text: str) -> None:
    """The staff member writes the 办结报告 on the report page."""
    page.goto(f"/workflows/supervision/items/{item_pk}/")
    with page.expect_navigation():
        page.get_by_role("link", name="填报进展").click()
    page.check("#report-form input[name=kind][value=completion]")
    page.fill("#report-form textarea[name=text]", text)
    page.fill("#report-form input[name=percentage]", "100")
    submit(page, "#report-form")
    expect(page.locator(".flash")).to_contain_text("待单位负责人审签")


def sign_off(page: Any, item_pk: int) -> None:
    page.goto(f"/workflows/supervision/items/{item_pk}/")
    with page.expect_navigation():
        page.locator("#reports").get_by_role("button", name="审签报送").first.click()
    expect(page.locator(".flash")).to_contain_text("已审签报送")


def test_an_item_goes_from_registration_to_closing_with_an_extension_and_a_returned_completion(
    signed_in_page: Callable[..., Any], server: Any, cast: Any, committed: Callable[..., Any]
) -> None:
    from tests.workflows.conftest import build_flow_cast
    from tests.workflows.incoming_cast import build_receiving_cast
    from tests.workflows.supervision_cast import build_supervision_cast
    from tests.workflows.test_supervision_pages import act, open_task
    from workflows.models import Decision, ItemState, SupervisionItem
    from workflows.supervision import transfer_supervision

    people = build_supervision_cast(build_receiving_cast(build_flow_cast(cast)))
    today = timezone.localdate()
    due = today + timedelta(days=40)

    # 立项 and 登记编号: the 督查员 in the browser.
    supervisor = signed_in_page(people.supervisor)
    supervisor.goto("/workflows/supervision/items/new/")
    supervisor.select_option("#item-form select[name=source]", "instruction")
    supervisor.fill("#item-form input[name=title]", TITLE)
    supervisor.fill("#item-form textarea[name=instruction]", INSTRUCTION)
    supervisor.fill("#item-form textarea[name=requirement]", "每月报送进展。")
    supervisor.select_option("#item-form select[name=lead_unit]", f"department:{cast.general_dept.pk}")
    supervisor.select_option("#item-form select[name=co_units]", [f"department:{cast.secretariat.pk}"])
    supervisor.fill("#item-form input[name=due_on]", due.isoformat())
    supervisor.select_option("#item-form select[name=leader]", str(people.leader.pk))
    submit(supervisor, "#item-form")
    expect(supervisor.locator(".flash")).to_contain_text("督办事项已立项")
    submit(supervisor, "#step-form")
    item = SupervisionItem.objects.get(title=TITLE)
    assert item.number
    expect(supervisor.locator(".flash")).to_contain_text(f"督办编号：{item.number}")

    # 拟办 and 审定: the office, through the services; 交办 in the browser shows the 督办通知单.
    committed(act, item, "propose", decision=Decision.AGREE, opinion="拟请办公室主任审定。")
    committed(act, item, "approve", decision=Decision.AGREE, opinion="同意交办。")
    open_step(supervisor, item.pk, "交办")
    notice = supervisor.locator(".notice-preview")
    expect(notice).to_contain_text(item.number)
    expect(notice).to_contain_text(INSTRUCTION)
    expect(notice).to_contain_text(cast.secretariat.name)
    submit(supervisor, "#step-form")
    expect(supervisor.locator(".flash")).to_contain_text("已办理：交办")

    # 签收: 综合处's head on a 375 px phone.
    head = signed_in_page(people.dept_head, viewport={"width": 375, "height": 667})
    open_step(head, item.pk, "签收")
    fits = head.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert fits, "the 督办 task page scrolls sideways at 375 px"
    head.check("#step-form input[name=decision][value=agree]")
    submit(head, "#step-form")
    expect(head.locator(".flash")).to_contain_text("已办理：签收")
    committed(
        lambda: transfer_supervision(
            open_task(item, "handle"), actor=people.dept_head, to_user=people.general_staff, reason="具体承办"
        )
    )

    # 延期申请 by the staff member, 初审 by the 督查员, 审批 by the leader.
    staff = signed_in_page(people.general_staff)
    staff.goto(f"/workflows/supervision/items/{item.pk}/")
    with staff.expect_navigation():
        staff.get_by_role("link", name="申请延期").click()
    new_due = due + timedelta(days=21)
    staff.fill("#extension-form textarea[name=reason]", "省级平台接口改造延误。")
    staff.fill("#extension-form textarea[name=progress]", "已完成七个地市的接入。")
    staff.fill("#extension-form input[name=new_due_on]", new_due.isoformat())
    submit(staff, "#extension-form")
    expect(staff.locator(".flash")).to_contain_text("延期申请已提交")

    supervisor.goto(f"/workflows/supervision/items/{item.pk}/")
    supervisor.check(".extension-screen input[name=verdict][value=yes]")
    supervisor.fill(".extension-screen textarea[name=note]", "理由属实，报领导审批。")
    submit(supervisor, ".extension-screen")
    expect(supervisor.locator(".flash")).to_contain_text("已报领导审批")

    leader = signed_in_page(people.leader)
    leader.goto(f"/workflows/supervision/items/{item.pk}/")
    leader.check(".extension-decide input[name=verdict][value=yes]")
    submit(leader, ".extension-decide")
    expect(leader.locator(".flash")).to_contain_text("已批准延期")
    facts = leader.locator(".item-facts")
    expect(facts).to_contain_text(f"{new_due.year}年{new_due.month}月{new_due.day}日")
    expect(leader.locator("#extensions")).to_contain_text(f"原完成时限 {due.isoformat()}")
    expect(leader.locator("#extensions")).to_contain_text(f"申请延至 {new_due.isoformat()}")

    # The first 办结报告 is signed off, then sent back (退办重办) with a reason.
    report(staff, item.pk, "七个地市已接入。")
    sign_off(head, item.pk)
    fits = head.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert fits, "the 督办 item page scrolls sideways at 375 px"
    open_step(supervisor, item.pk, "审核")
    supervisor.check("#step-form input[name=decision][value=disagree]")
    supervisor.fill("#step-form textarea[name=opinion]", "尚有十四个地市未接入，请重办。")
    submit(supervisor, "#step-form")
    expect(supervisor.locator(".flash")).to_contain_text("已退办重办")
    expect(supervisor.locator("#reports")).to_contain_text("退回重报")
    expect(supervisor.locator("#reports")).to_contain_text("尚有十四个地市未接入，请重办。")

    # The second is accepted, the leader reads it, the 督查员 closes the item.
    report(staff, item.pk, "二十一个地市已全部接入，运行平稳。")
    sign_off(head, item.pk)
    open_step(supervisor, item.pk, "审核")
    supervisor.fill("#step-form textarea[name=opinion]", "同意办结。")
    submit(supervisor, "#step-form")
    expect(supervisor.locator(".flash")).to_contain_text("已办理：审核")
    committed(act, item, "leader_review", decision=Decision.AGREE, opinion="阅。")
    open_step(supervisor, item.pk, "销号")
    submit(supervisor, "#step-form")
    expect(supervisor.locator(".flash")).to_contain_text("已办理：销号")
    history = supervisor.locator(".history")
    expect(history).to_contain_text("办结报告退回重报")
    expect(history).to_contain_text("延期审批：已批准")
    item.refresh_from_db()
    assert item.state == ItemState.ARCHIVE
    assert item.closed_at is not None
    assert item.due_on == new_due

    # The head's 督办看板 counts it as 已销号; the number leads to exactly that item.
    head.goto("/workflows/supervision/dashboard/")
    closed = head.locator("[data-figure=closed]")
    expect(closed).to_contain_text("1")
    with head.expect_navigation():
        closed.click()
    expect(head.locator("body")).to_contain_text(TITLE)
    head.goto("/workflows/supervision/items/")
    expect(head.locator("table.items")).to_contain_text(item.number)
    fits = head.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert fits, "the 督办事项 list scrolls sideways at 375 px"
