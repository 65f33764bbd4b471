"""Helpers for the accounts tests: signing in through the real form."""

from __future__ import annotations

from typing import Any

import pytest

from tests.accounts.support import SIGN_IN_URL


@pytest.fixture
def post_sign_in(client: Any) -> Any:
    def _post(username: str, password: str, **extra: Any) -> Any:
        return client.post(SIGN_IN_URL, {"username": username, "password": password}, **extra)

    return _post
