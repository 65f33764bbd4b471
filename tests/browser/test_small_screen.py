"""At 375×667 (an iPhone SE) no page scrolls sideways; screenshots land in test-results/ for a look."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PHONE = {
    "viewport": {"width": 375, "height": 667},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def _overflow(page: Any) -> dict[str, Any]:
    """How far the page reaches past the viewport, and which elements stick out (to say what to fix)."""
    return page.evaluate(
        """() => {
          const width = window.innerWidth;
          const offenders = [...document.querySelectorAll('body *')]
            .filter((el) => el.getBoundingClientRect().right > width + 1 && getComputedStyle(el).position !== 'fixed')
            .slice(0, 5)
            .map((el) => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : ''));
          return {scrollWidth: document.documentElement.scrollWidth, innerWidth: width, offenders};
        }"""
    )


def _slug(path: str) -> str:
    return path.strip("/").replace("/", "-") or "home"


def _assert_fits(page: Any) -> None:
    page.wait_for_load_state("networkidle")
    measured = _overflow(page)
    assert measured["scrollWidth"] <= measured["innerWidth"], f"页面横向滚动：{measured}"


def test_directory_fits_a_375px_phone_with_results_shown(
    signed_in_page: Callable[..., Any], server: Any, cast: Any, screenshot_dir: Path
) -> None:
    page = signed_in_page(cast.drafter, **PHONE)
    page.goto("/org/directory/")
    # Mobile numbers match many people and make the longest result lines.
    page.get_by_role("searchbox", name="搜索通讯录").press_sequentially("138", delay=30)

    expect(page.locator("#directory-results .person-line").first).to_be_visible()
    _assert_fits(page)
    page.screenshot(path=screenshot_dir / "directory-375.png", full_page=True)


def test_sign_in_page_fits_a_375px_phone_even_with_an_error_shown(
    new_context: Callable[..., Any],
    server: Any,
    cast: Any,
    screenshot_dir: Path,
    submit_sign_in: Callable[[Any, str, str], None],
) -> None:
    page = new_context(**PHONE).new_page()
    page.goto("/accounts/sign-in/")
    _assert_fits(page)

    submit_sign_in(page, "drafter", "Wrong-Passw0rd-2026")

    expect(page.locator("body")).to_contain_text("用户名或密码错误")
    _assert_fits(page)
    page.screenshot(path=screenshot_dir / "sign-in-375.png", full_page=True)


def test_workbench_and_every_page_a_civil_servant_opens_fit_a_375px_phone(
    signed_in_page: Callable[..., Any],
    server: Any,
    cast: Any,
    committed: Callable[..., Any],
    screenshot_dir: Path,
) -> None:
    from officeapp.notify.services import notify

    # Long unbroken text is what usually pushes a narrow page sideways.
    committed(
        notify,
        [cast.drafter],
        kind="test",
        title="关于做好2026年汛期防汛防台风和安全生产工作的紧急通知（粤府办明电〔2026〕12号）",
        body="请各地各部门立即部署落实，https://example.invalid/一个很长很长的不可断开的链接地址",
        url="/",
    )
    page = signed_in_page(cast.drafter, **PHONE)
    expect(
        page.get_by_role("heading", name="待办", exact=True)
    ).to_be_visible()  # signed in, on the workbench
    paths = [
        "/",
        "/profile/",
        "/notifications/",
        "/org/directory/",
        f"/org/directory/agencies/{cast.gov_office.pk}/",
        f"/org/directory/departments/{cast.general_dept.pk}/",
        f"/org/people/{cast.leader.pk}/",
        "/org/delegations/",
        "/accounts/password/",
        "/accounts/two-factor/",
    ]
    too_wide: dict[str, Any] = {}
    for path in paths:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        measured = _overflow(page)
        if measured["scrollWidth"] > measured["innerWidth"]:
            too_wide[path] = measured
        page.screenshot(path=screenshot_dir / f"375-{_slug(path)}.png", full_page=True)
    assert not too_wide, f"这些页面在 375px 宽时横向滚动：{too_wide}"


def test_the_outgoing_document_pages_fit_a_375px_phone(
    signed_in_page: Callable[..., Any], server: Any, cast: Any, screenshot_dir: Path
) -> None:
    """拟稿, the task page with its forms, the document page, versions, 处理单, 我的公文 and 待办 —
    what a clerk opens on a phone between meetings."""
    from viewflow.workflow.models import Task

    from tests.documents.factories import make_document
    from workflows.services import start_outgoing

    document = make_document(
        cast, title="关于做好2026年汛期防汛防台风和安全生产工作的紧急通知（第二次修改稿）"
    )
    start_outgoing(document, actor=cast.drafter)
    task = Task.objects.get(process__outgoingprocess__document=document, flow_task_type="HUMAN")
    page = signed_in_page(cast.drafter, **PHONE)
    too_wide: dict[str, Any] = {}
    for path in [
        "/workflows/outgoing/new/",
        f"/workflows/tasks/{task.pk}/",
        f"/documents/{document.pk}/",
        f"/documents/{document.pk}/versions/",
        f"/workflows/documents/{document.pk}/sheet/",
        "/documents/",
        "/workflows/inbox/",
        "/workflows/common-opinions/",
    ]:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        measured = _overflow(page)
        if measured["scrollWidth"] > measured["innerWidth"]:
            too_wide[path] = measured
        page.screenshot(path=screenshot_dir / f"375-{_slug(path)}.png", full_page=True)
    assert not too_wide, f"这些页面在 375px 宽时横向滚动：{too_wide}"
