"""The demo's webhooks: placeholder, filled below."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def build(stdout: Callable[[str], Any]) -> str:
    return "事件订阅：无"
