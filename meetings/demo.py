"""The meetings part of `load_demo` ("70-meetings"): (being written)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def build(stdout: Callable[[str], Any]) -> str:
    return "会议：（未生成）"
