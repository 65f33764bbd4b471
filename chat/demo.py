"""The chat part of `load_demo` ("60-chat"): filled in below."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def build_chat_demo(stdout: Callable[[str], Any]) -> str:
    return ""
