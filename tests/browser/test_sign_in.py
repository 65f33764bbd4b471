"""Signing in through the real form, in Chromium, and the lockout a person sees."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

WRONG_PASSWORD = "Wrong-Passw0rd-2026"
SignIn = Callable[[Any, str, str], None]


def test_drafter_signs_in_through_the_form_and_lands_on_the_workbench_tiles(
    page: Any, server: Any, cast: Any, cast_password: str, submit_sign_in: SignIn
) -> None:
    submit_sign_in(page, "drafter", cast_password)

    expect(page).to_have_url(re.compile(rf"^{re.escape(server.url)}/(\?.*)?$"))
    for tile in ("待办", "待阅", "已办", "通知"):
        expect(page.get_by_role("heading", name=tile, exact=True)).to_be_visible()
    expect(page.get_by_role("banner")).to_contain_text("林小梅")  # the header names who is signed in
    expect(page.locator("[data-bell-count]")).to_have_count(1)


def test_wrong_password_shows_the_generic_message_and_keeps_the_username(
    page: Any, server: Any, cast: Any, submit_sign_in: SignIn
) -> None:
    submit_sign_in(page, "drafter", WRONG_PASSWORD)

    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    expect(page).to_have_url(re.compile(r"/accounts/sign-in/"))
    expect(page.locator("input[name=username]")).to_have_value("drafter")
    # Not signed in: the workbench sends us back to the form.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/sign-in/"))


def test_unknown_user_gets_the_same_message_as_a_wrong_password(
    page: Any, server: Any, cast: Any, submit_sign_in: SignIn
) -> None:
    submit_sign_in(page, "no_such_person", WRONG_PASSWORD)

    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(
    page: Any, server: Any, cast: Any, cast_password: str, submit_sign_in: SignIn
) -> None:
    # The form's fine print always mentions 锁定, so the check reads the alert, not the whole page.
    alert = page.get_by_role("alert")
    for _ in range(4):
        submit_sign_in(page, "drafter", WRONG_PASSWORD)
    expect(alert).to_contain_text("用户名或密码错误")
    expect(alert).not_to_contain_text("锁定")

    submit_sign_in(page, "drafter", WRONG_PASSWORD)
    submit_sign_in(page, "drafter", cast_password)

    expect(alert).to_contain_text("锁定")
    expect(page).to_have_url(re.compile(r"/accounts/sign-in/"))
    expect(page.locator("[data-bell-count]")).to_have_count(0)


def test_a_locked_account_does_not_lock_a_colleague(
    new_context: Callable[..., Any], server: Any, cast: Any, cast_password: str, submit_sign_in: SignIn
) -> None:
    attacker = new_context().new_page()
    for _ in range(5):
        submit_sign_in(attacker, "drafter", WRONG_PASSWORD)

    colleague = new_context().new_page()
    submit_sign_in(colleague, "dept_head", cast_password)

    expect(colleague.get_by_role("heading", name="待办", exact=True)).to_be_visible()
    expect(colleague.get_by_role("alert")).to_have_count(0)
