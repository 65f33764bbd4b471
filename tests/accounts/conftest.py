"""Helpers for the accounts tests: signing in through the real form, TOTP codes, and a stand-in
for the workbench pages while that app has none (the shell links to them from every signed-in page)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import NoReverseMatch, reverse

from tests.accounts.support import SIGN_IN_URL


@pytest.fixture(autouse=True)
def _shell_pages(settings: Any) -> None:
    try:
        reverse("workbench:home")
        reverse("workbench:profile")
    except NoReverseMatch:
        settings.ROOT_URLCONF = "tests.accounts.shell_urls"


@pytest.fixture
def post_sign_in(client: Any) -> Any:
    def _post(username: str, password: str, **extra: Any) -> Any:
        return client.post(SIGN_IN_URL, {"username": username, "password": password}, **extra)

    return _post
