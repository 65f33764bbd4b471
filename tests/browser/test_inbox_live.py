"""The inbox page (/workflows/inbox/) in a phone's browser: it fits 375 px, and a task given to the
person appears, and a task they finished goes, without a reload (inbox.changed → htmx refresh)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

LIVE_WITHIN_MS = 3_000
PHONE = {
    "viewport": {"width": 375, "height": 667},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
FLOW = "workflows/flows.OutgoingFlow"
HELLO_LISTENER = "window.addEventListener('officeapp:hello', () => { window.__socketHello = true; });"


def _give_task(user_id: int, title: str) -> int:
    from viewflow.workflow.models import Process, Task
    from viewflow.workflow.status import STATUS

    from workflows.inbox import push_inbox_changed

    with transaction.atomic():
        process = Process.objects.create(flow_class=FLOW)
        task = Task.objects.create(
            process=process,
            flow_task=f"{FLOW}.dept_review",
            flow_task_type="HUMAN",
            owner_id=user_id,
            status=STATUS.ASSIGNED,
            data={
                "title": title,
                "doc_number": "粤府办〔2026〕88号",
                "urgency": "extra_urgent",
                "step_label": "处室审核",
                "deadline": (timezone.localdate() - timedelta(days=1)).isoformat(),
                "url": "/workflows/inbox/",
            },
        )
        push_inbox_changed([user_id], task_id=task.pk, action="created", title=title)
    return task.pk


def _finish_task(user_id: int, task_id: int) -> None:
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    from workflows.inbox import push_inbox_changed

    with transaction.atomic():
        Task.objects.filter(pk=task_id).update(status=STATUS.DONE, finished=timezone.now())
        push_inbox_changed([user_id], task_id=task_id, action="closed", title="")


def _office_history(cast: Any) -> None:
    """Two documents of 省府办公厅 with a few finished and open steps, one past its 办理时限."""
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    from tests.documents.factories import make_document
    from workflows.models import OutgoingProcess

    today = timezone.localdate()
    for n, deadline in enumerate([today - timedelta(days=3), None]):
        document = make_document(cast, title=f"关于第{n + 1}批防汛物资调拨的通知", deadline=deadline)
        process = OutgoingProcess.objects.create(flow_class=FLOW, document=document)
        for days, step in enumerate(["draft", "dept_review", "office_review"]):
            created = timezone.now() - timedelta(days=10 - 3 * days)
            done = step != "office_review"
            Task.objects.create(
                process=process,
                flow_task=f"{FLOW}.{step}",
                flow_task_type="HUMAN",
                owner=cast.dept_head,
                status=STATUS.DONE if done else STATUS.ASSIGNED,
                created=created,
                finished=created + timedelta(hours=30 * (days + 1)) if done else None,
                data={"title": document.title, "step": step},
            )


def _fits(page: Any) -> None:
    page.wait_for_load_state("networkidle")
    scroll, inner = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"页面横向滚动：{scroll} > {inner}"


def test_a_new_task_appears_and_a_finished_one_goes_without_a_reload_on_a_phone(
    signed_in_page: Callable[..., Any],
    server: Any,
    cast: Any,
    committed: Callable[..., Any],
    screenshot_dir: Path,
) -> None:
    title = "关于切实做好2026年全省防汛防台风和地质灾害防治工作的紧急通知"
    page = signed_in_page(cast.drafter, **PHONE)
    page.context.add_init_script(HELLO_LISTENER)
    page.goto("/workflows/inbox/")
    page.wait_for_function("() => window.__socketHello === true", timeout=10_000)
    expect(page.locator("[data-inbox-list]")).to_contain_text("暂无待办事项")
    page.evaluate("() => { window.__sameDocument = true; }")  # a reload would forget this

    task_id = committed(_give_task, cast.drafter.pk, title)

    row = page.locator(".inbox-row", has_text=title)
    expect(row).to_be_visible(timeout=LIVE_WITHIN_MS)
    expect(row).to_contain_text("特急")
    expect(row).to_contain_text("已超期")
    _fits(page)
    page.screenshot(path=screenshot_dir / "inbox-375.png", full_page=True)

    committed(_finish_task, cast.drafter.pk, task_id)

    expect(row).to_have_count(0, timeout=LIVE_WITHIN_MS)
    assert page.evaluate("() => window.__sameDocument === true"), "the page was reloaded"


def test_efficiency_page_fits_a_375px_phone(
    signed_in_page: Callable[..., Any],
    server: Any,
    cast: Any,
    committed: Callable[..., Any],
    screenshot_dir: Path,
) -> None:
    committed(_office_history, cast)
    page = signed_in_page(cast.office_director, **PHONE)
    page.goto("/workflows/efficiency/?by=step&key=dept_review")
    expect(page.locator("h1")).to_have_text("效能统计")
    _fits(page)
    page.screenshot(path=screenshot_dir / "efficiency-375.png", full_page=True)
