from __future__ import annotations

from typing import Any

import pytest

from tests.chat.chat_cast import ChatCast, build_chat_cast


@pytest.fixture
def chat(cast: Any) -> ChatCast:
    """The chat cast (tests/chat/chat_cast.py)."""
    return build_chat_cast(cast)
