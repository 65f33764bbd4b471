"""The 通讯录 search as a person uses it: typing pinyin initials shows colleagues without a reload."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_typing_pinyin_initials_shows_the_colleague_live(
    signed_in_page: Callable[..., Any], server: Any, cast: Any
) -> None:
    page = signed_in_page(cast.dept_head)
    page.goto("/org/directory/")
    loads: list[str] = []
    page.on("framenavigated", lambda frame: loads.append(frame.url) if frame == page.main_frame else None)

    page.get_by_role("searchbox", name="搜索通讯录").press_sequentially("lxm", delay=60)

    results = page.locator("#directory-results")
    expect(results).to_contain_text("林小梅")
    expect(results).to_contain_text("综合处")
    expect(results).not_to_contain_text("陈志强")
    assert loads == [], "the results came in place (htmx), not by loading a new page"
    expect(page).to_have_url(re.compile(r"/org/directory/$"))


def test_full_pinyin_and_chinese_name_find_the_same_colleague(
    signed_in_page: Callable[..., Any], server: Any, cast: Any
) -> None:
    page = signed_in_page(cast.outsider)  # another agency: the address book spans the province
    page.goto("/org/directory/")
    search = page.get_by_role("searchbox", name="搜索通讯录")

    search.press_sequentially("linxiaomei", delay=30)
    expect(page.locator("#directory-results")).to_contain_text("林小梅")

    search.fill("")
    search.press_sequentially("王德明", delay=30)
    expect(page.locator("#directory-results")).to_contain_text("王德明")
    expect(page.locator("#directory-results")).not_to_contain_text("林小梅")


def test_a_search_that_finds_nobody_says_so_in_chinese(
    signed_in_page: Callable[..., Any], server: Any, cast: Any
) -> None:
    page = signed_in_page(cast.drafter)
    page.goto("/org/directory/")

    page.get_by_role("searchbox", name="搜索通讯录").press_sequentially("qqqzzz", delay=30)

    expect(page.locator("#directory-results")).to_contain_text("没有找到")
    expect(page.locator("#directory-results .person-line")).to_have_count(0)
