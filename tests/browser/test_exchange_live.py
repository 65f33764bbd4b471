"""The sender's tracking page (分发情况) in a phone's browser: it fits 375 px, and when a recipient
signs (签收), returns (退文) or finishes (办结), the row changes without a reload
(exchange.changed → htmx refresh of the table)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

LIVE_WITHIN_MS = 3_000
PHONE = {
    "viewport": {"width": 375, "height": 667},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
HELLO_LISTENER = "window.addEventListener('officeapp:hello', () => { window.__socketHello = true; });"


def _distributed(cast: Any) -> tuple[int, int, int, Any]:
    from documents.models import ExchangeRecord
    from tests.documents.exchange_factories import distributed_to, receiving_cast

    receiving = receiving_cast(cast)
    document = distributed_to(cast, [cast.finance, receiving.city])
    finance = ExchangeRecord.objects.get(document=document, recipient=cast.finance)
    city = ExchangeRecord.objects.get(document=document, recipient=receiving.city)
    return document.pk, finance.pk, city.pk, receiving


def _sign(record_id: int, clerk: Any) -> None:
    from documents.exchange import receive
    from documents.models import ExchangeRecord

    receive(ExchangeRecord.objects.get(pk=record_id), actor=clerk)


def _return(record_id: int, clerk: Any) -> None:
    from documents.exchange import return_document
    from documents.models import ExchangeRecord, ReturnReason

    return_document(
        ExchangeRecord.objects.get(pk=record_id),
        actor=clerk,
        reason=ReturnReason.NOT_OURS,
        note="请发区县办理。",
    )


def _complete(record_id: int, user: Any) -> None:
    from documents.exchange import mark_completed
    from documents.models import ExchangeRecord

    mark_completed(ExchangeRecord.objects.get(pk=record_id), actor=user, result="已落实。")


def test_the_tracking_page_follows_signing_returning_and_completion_live_on_a_phone(
    signed_in_page: Callable[..., Any],
    server: Any,
    cast: Any,
    committed: Callable[..., Any],
    screenshot_dir: Path,
) -> None:
    document_id, finance_id, city_id, receiving = committed(_distributed, cast)
    page = signed_in_page(cast.office_secretary, **PHONE)
    page.context.add_init_script(HELLO_LISTENER)
    page.goto(f"/documents/{document_id}/distribution/")
    page.wait_for_function("() => window.__socketHello === true", timeout=10_000)
    expect(page.locator('[data-count="pending"]')).to_have_text("2")
    page.evaluate("() => { window.__sameDocument = true; }")  # a reload would forget this

    committed(_sign, finance_id, receiving.clerk)

    finance_row = page.locator(f"#exchange-{finance_id}")
    expect(finance_row).to_contain_text("已签收", timeout=LIVE_WITHIN_MS)
    expect(finance_row).to_contain_text("李国华（签收）")
    expect(page.locator('[data-count="received"]')).to_have_text("1")

    committed(_return, city_id, receiving.city_clerk)

    city_row = page.locator(f"#exchange-{city_id}")
    expect(city_row).to_contain_text("已退文", timeout=LIVE_WITHIN_MS)
    expect(city_row).to_contain_text("不属于本机关职责范围：请发区县办理。")

    committed(_complete, finance_id, receiving.director)

    expect(finance_row).to_contain_text("已办结", timeout=LIVE_WITHIN_MS)
    expect(finance_row).to_contain_text("已落实。")
    assert page.evaluate("() => window.__sameDocument === true"), "the page was reloaded"
    page.wait_for_load_state("networkidle")
    scroll, inner = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"页面横向滚动：{scroll} > {inner}"
    page.screenshot(path=screenshot_dir / "exchange-tracking-375.png", full_page=True)


def _distribute_to_finance(cast: Any) -> int:
    from tests.documents.exchange_factories import distributed_to

    return distributed_to(cast, [cast.finance]).pk


def test_a_distributed_document_appears_in_the_clerks_pending_list_without_a_reload(
    signed_in_page: Callable[..., Any],
    server: Any,
    cast: Any,
    committed: Callable[..., Any],
) -> None:
    page = signed_in_page(cast.other_clerk, **PHONE)
    page.context.add_init_script(HELLO_LISTENER)
    page.goto("/documents/pending/")
    page.wait_for_function("() => window.__socketHello === true", timeout=10_000)
    expect(page.locator("#pending-list")).to_contain_text("暂无待签收公文")
    page.evaluate("() => { window.__sameDocument = true; }")  # a reload would forget this

    document_id = committed(_distribute_to_finance, cast)

    expect(page.locator("#pending-list")).to_contain_text("签收", timeout=LIVE_WITHIN_MS)
    expect(page.locator(f"#pending-list a[href='/documents/{document_id}/']")).to_be_visible()
    assert page.evaluate("() => window.__sameDocument === true"), "the page was reloaded"
